import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { startLocalApp } from '../../src/local/local-app';
import { checkOutcome, runScenario } from '../../src/local/scenario';

describe('the task service end to end (HTTP → event log → publisher → Kinesis → listeners)', () => {
  test('runs the demo scenario and ends in the expected state', async ({ aws }) => {
    const app = await startLocalApp({ aws });
    try {
      const progress: string[] = [];

      const result = await runScenario({ url: app.url, log: (line) => progress.push(line) });
      await app.settle();

      expect(await checkOutcome(app, result)).toEqual([]);
      expect(result.concurrentStatuses).toEqual([200, 409]);
      expect(await app.readModel.get(result.tasks.readme)).toMatchObject({
        done: true,
        deleted: false,
        version: 4,
        summary: 'architecture, commands, curl lines, the scenario',
      });
      expect(app.cascadeDeletions).toHaveLength(2);
      for (const taskId of [result.tasks.venue, result.tasks.invitations]) {
        expect(await app.readModel.get(taskId)).toMatchObject({ deleted: true, projectId: result.projectId });
      }
      expect(app.seen.projects.map((event) => event.type).sort()).toEqual([
        'ProjectCreated',
        'ProjectDeleted',
        'TaskCreated',
        'TaskCreated',
        'TaskCreated',
        'TaskCreated',
      ]);
      const feed = (await app.feed()).map((entry) => entry.text);
      expect(feed).toContain('Project “Launch party” was deleted');
      expect(feed.filter((text) => text.endsWith('was deleted with its project'))).toHaveLength(2);
      expect(feed.filter((text) => text.endsWith('was completed'))).toHaveLength(1);
      expect(progress.join('\n')).toMatch(/409 client [AB]/);
    } finally {
      await app.stop();
    }
  });

  test('ends in the same state when PutRecords entries fail and stream reads are throttled', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws });
    try {
      await aws.faults.set({
        seed: 7,
        // Packed runs put fewer, larger records than one per event: half of the entries fail, so the
        // scenario's few dozen entries certainly see failures (seed 7: 18 of them).
        kinesis: { putRecordsEntryFailureRate: 0.5, throttleRate: 0.1, operations: ['GetRecords'] },
        dynamodb: { failureRate: 0.1, operations: ['BatchGetItem'] },
      });

      const result = await runScenario({ url: app.url, log: () => {} });
      await app.settle({ timeoutMs: 90_000 });
      const stats = await aws.faults.stats();
      await aws.faults.clear();

      expect(stats.putRecordsEntriesFailed).toBeGreaterThan(0);
      expect(await checkOutcome(app, result)).toEqual([]);
    } finally {
      await aws.faults.clear();
      await app.stop();
    }
  });

  test('answers 400, not 500, for a name the event log cannot store (a lone surrogate)', async ({ aws }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const response = await fetch(`${app.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"broken \\ud800 text"}',
      });

      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('REQUEST_INVALID');
    } finally {
      await app.stop();
    }
  });

  test('applies a command of two events (TaskUpdated with summary: null, TaskCompleted) to the read model', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const created = await fetch(`${app.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Settle me', summary: 'to be removed' }),
      }).then((response) => response.json() as Promise<{ id: string }>);
      const patched = await fetch(`${app.url}/tasks/${created.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ done: true, summary: null }),
      });
      expect(patched.status).toBe(200);
      await app.settle();

      const response = await fetch(`${app.url}/tasks/${created.id}`);

      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe('"3"');
      const task = await response.json();
      expect(task).toMatchObject({ id: created.id, done: true, version: 3 });
      expect(task).not.toHaveProperty('summary');
      expect(app.seen['read-model'].map((event) => event.type)).toEqual([
        'TaskCreated',
        'TaskUpdated',
        'TaskCompleted',
      ]);
      expect(app.seen['read-model'][1]?.data).toEqual({ summary: null });
    } finally {
      await app.stop();
    }
  });
});
