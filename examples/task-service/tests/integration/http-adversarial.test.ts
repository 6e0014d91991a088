import { connect } from 'node:net';
import { newCommandId } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { openProjectEventLog, openTaskEventLog, projectLog, taskLog } from '../../src/event-logs';
import { createRoutes } from '../../src/http/routes';
import type { HttpHandler } from '../../src/http/types';
import { MAX_BODY_BYTES } from '../../src/http/types';
import { type LocalApp, startLocalApp } from '../../src/local/local-app';
import type { AggregateLog } from '../../src/ports';
import { createProjectCommands } from '../../src/project-commands';
import { createProjectsTable, projectsTableDescription } from '../../src/project-directory';
import { foldTask } from '../../src/task';
import { createTaskCommands } from '../../src/task-commands';

const LARGEST_ULID = '7ZZZZZZZZZZZZZZZZZZZZZZZZZ';
const SMALLEST_ULID = '00000000000000000000000000';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { error?: { code: string; message: string }; [key: string]: unknown };
}

/** Calls the API as a client would; a body that is not a string or bytes is sent as JSON. */
async function call(
  app: LocalApp,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { body } = options;
  const raw = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(raw ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(body === undefined ? {} : { body: raw ? (body as string | Uint8Array) : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) };
}

/**
 * Sends bytes as they are over a socket (fetch refuses what an attacker can still send: CR/LF or
 * non-ASCII bytes in headers, a raw path) and returns the status code.
 */
function rawStatus(app: LocalApp, head: Buffer, body: Buffer = Buffer.alloc(0)): Promise<number> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.concat([head, body])));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      if (status) resolve(Number(status[1]));
      else reject(new Error(`No HTTP answer: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    });
  });
}

const rawRequest = (line: string, headers: (string | Buffer)[], body = '') => {
  const parts: Buffer[] = [Buffer.from(`${line}\r\nhost: localhost\r\nconnection: close\r\n`, 'latin1')];
  for (const header of headers) {
    parts.push(typeof header === 'string' ? Buffer.from(header, 'latin1') : header, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`content-length: ${Buffer.byteLength(body)}\r\n\r\n`));
  return [Buffer.concat(parts), Buffer.from(body)] as const;
};

/** A path segment as a client would encode it; a lone surrogate becomes its (invalid) CESU-8 bytes. */
function encodeSegment(segment: string): string {
  try {
    return encodeURIComponent(segment);
  } catch {
    return `%ED%A0%80${encodeURIComponent(segment.replace(/[\ud800-\udfff]/g, ''))}`;
  }
}

/** The process dying at one await: what the client sees is a lost answer. */
class Crash extends Error {}

/**
 * A log that dies at its `crashAt`-th await point (before or after each call to the store), and
 * reports whether it did.
 */
function crashing<TEvent, TInput>(log: AggregateLog<TEvent, TInput>, crashAt: number) {
  let point = 0;
  const state = { crashed: false };
  const step = async <T>(call: () => Promise<T>): Promise<T> => {
    if (point++ === crashAt) {
      state.crashed = true;
      throw new Crash('killed before the call');
    }
    const result = await call();
    if (point++ === crashAt) {
      state.crashed = true;
      throw new Crash('killed after the call');
    }
    return result;
  };
  const wrapped: AggregateLog<TEvent, TInput> = {
    read: (id) => step(() => log.read(id)),
    append: (input) => step(() => log.append(input)),
  };
  return { log: wrapped, state };
}

/** POST /tasks in a project, retried with the same key while the projects listener catches up. */
async function createTaskInProject(app: LocalApp, projectId: string, key: string): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await call(app, 'POST', '/tasks', {
      body: { name: 'In the project', projectId },
      headers: { 'idempotency-key': key },
    });
    if (answer.status !== 422 || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the HTTP API under attack, on the local AWS (Node server → DynamoDB Local → Kinesis)', () => {
  test('no Idempotency-Key blocks later commands: the largest ULID as key, then changes and a cascade delete', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const project = await call(app, 'POST', '/projects', { body: { name: 'Launch' } });
      expect(project.status).toBe(201);
      const projectId = project.body.id as string;

      const created = await createTaskInProject(app, projectId, LARGEST_ULID);
      expect(created.status).toBe(201);
      expect(created.body.id).toBe(LARGEST_ULID);
      const path = `/tasks/${LARGEST_ULID}`;

      const smallestKey = await call(app, 'PATCH', path, {
        body: { done: true },
        headers: { 'idempotency-key': SMALLEST_ULID },
      });
      const lowerCaseFuture = await call(app, 'PATCH', path, {
        body: { name: 'Renamed' },
        headers: { 'idempotency-key': '7ZZZZZZZZZZZZZZZZZZZZZZZZY'.toLowerCase() },
      });
      const unkeyed = await call(app, 'PATCH', path, { body: { summary: 'still changeable' } });
      const reusedCreateKey = await call(app, 'PATCH', path, {
        body: { summary: 'x' },
        headers: { 'idempotency-key': LARGEST_ULID },
      });
      expect([smallestKey.status, lowerCaseFuture.status, unkeyed.status]).toEqual([200, 200, 200]);
      expect(unkeyed.body).toMatchObject({ version: 4, done: true, name: 'Renamed' });
      expect(reusedCreateKey.status).toBe(409);

      // The projects listener deletes the project's tasks with commands of its own.
      expect((await call(app, 'DELETE', `/projects/${projectId}`)).status).toBe(200);
      await app.settle();

      expect(app.cascadeDeletions).toEqual([{ taskId: LARGEST_ULID, projectId }]);
      expect(await app.readModel.get(LARGEST_ULID)).toMatchObject({ deleted: true, version: 5 });
      expect(app.onFailureCount()).toBe(0);
    } finally {
      await app.stop();
    }
  });

  test('concurrent deliveries of one keyed request apply it once; another request with the key gets 409', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const createKey = newCommandId();
      const creates = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(app, 'POST', '/tasks', { body: { name: 'Once' }, headers: { 'idempotency-key': createKey } }),
        ),
      );
      expect(creates.map((answer) => answer.status)).toEqual(Array(6).fill(201));
      expect(new Set(creates.map((answer) => answer.body.id))).toEqual(new Set([createKey]));

      const patchKey = newCommandId();
      const patches = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(app, 'PATCH', `/tasks/${createKey}`, {
            body: { done: true },
            headers: { 'idempotency-key': patchKey },
          }),
        ),
      );
      expect(patches.map((answer) => answer.status)).toEqual(Array(6).fill(200));
      expect(new Set(patches.map((answer) => answer.body.version))).toEqual(new Set([2]));

      const otherBody = await call(app, 'PATCH', `/tasks/${createKey}`, {
        body: { name: 'Another change' },
        headers: { 'idempotency-key': patchKey },
      });
      const deleteWithPatchKey = await call(app, 'DELETE', `/tasks/${createKey}`, {
        headers: { 'idempotency-key': patchKey },
      });
      const postOtherBody = await call(app, 'POST', '/tasks', {
        body: { name: 'Twice' },
        headers: { 'idempotency-key': createKey },
      });
      expect([otherBody.status, deleteWithPatchKey.status, postOtherBody.status]).toEqual([409, 409, 409]);
      expect(otherBody.body.error?.code).toBe('IDEMPOTENCY_KEY_CONFLICT');

      await app.settle();
      expect(app.seen['read-model'].map((event) => event.type)).toEqual(['TaskCreated', 'TaskCompleted']);
    } finally {
      await app.stop();
    }
  });

  test('bodies, ids and headers an attacker sends get a 4xx, never a 500, and write nothing', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const target = await call(app, 'POST', '/tasks', { body: { name: 'Target' } });
      const path = `/tasks/${target.body.id}`;
      const json = { 'content-type': 'application/json' };
      const invalidUtf8 = Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]);

      const cases: [string, Promise<Answer>, number][] = [
        ['text/plain', call(app, 'POST', '/tasks', { body: '{"name":"x"}' }), 415],
        [
          'XML',
          call(app, 'POST', '/tasks', { body: '<task/>', headers: { 'content-type': 'application/xml' } }),
          415,
        ],
        [
          'no Content-Type',
          call(app, 'POST', '/tasks', { body: new TextEncoder().encode('{"name":"x"}') }),
          415,
        ],
        [
          'a form on PATCH',
          call(app, 'PATCH', path, {
            body: new URLSearchParams({ done: 'true' }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          415,
        ],
        ['invalid UTF-8', call(app, 'POST', '/tasks', { body: invalidUtf8, headers: json }), 400],
        [
          'a body over the limit',
          call(app, 'POST', '/tasks', { body: 'x'.repeat(MAX_BODY_BYTES + 1), headers: json }),
          413,
        ],
        [
          'a duplicate key',
          call(app, 'POST', '/tasks', { body: '{"name":"a","name":"b"}', headers: json }),
          400,
        ],
        [
          'deep nesting',
          call(app, 'POST', '/tasks', {
            body: `{"name":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
            headers: json,
          }),
          400,
        ],
        [
          'a lone surrogate in the name',
          call(app, 'POST', '/tasks', { body: '{"name":"\\ud800"}', headers: json }),
          400,
        ],
        [
          'a lone surrogate in the project id',
          call(app, 'POST', '/tasks', { body: '{"name":"x","projectId":"\\udfff"}', headers: json }),
          400,
        ],
        [
          'a control character in the project id',
          call(app, 'POST', '/tasks', { body: '{"name":"x","projectId":"\\u0007"}', headers: json }),
          400,
        ],
        ['an encoded lone surrogate in the path', call(app, 'GET', '/tasks/%ED%A0%80'), 400],
        ['an encoded NUL in the path', call(app, 'PATCH', '/tasks/a%00', { body: { done: true } }), 400],
        [
          'a key that is not a ULID',
          call(app, 'DELETE', path, { headers: { 'idempotency-key': 'OIL-U' } }),
          400,
        ],
        [
          'If-Match -1',
          call(app, 'PATCH', path, { body: { done: true }, headers: { 'if-match': '"-1"' } }),
          400,
        ],
        [
          'If-Match 2^64',
          call(app, 'PATCH', path, {
            body: { done: true },
            headers: { 'if-match': '"18446744073709551616"' },
          }),
          400,
        ],
        ['If-Match a list', call(app, 'DELETE', path, { headers: { 'if-match': '"1", "2"' } }), 400],
        ['If-Match stale', call(app, 'DELETE', path, { headers: { 'if-match': '"7"' } }), 409],
      ];
      for (const [label, answer, status] of cases) {
        expect({ label, status: (await answer).status }).toEqual({ label, status });
      }

      const raw: [string, readonly [Buffer, Buffer], number][] = [
        [
          'a key with non-ASCII bytes',
          rawRequest(`DELETE ${path} HTTP/1.1`, [
            Buffer.from([...Buffer.from('idempotency-key: 01J'), 0xff, 0xfe]),
          ]),
          400,
        ],
        [
          'two Idempotency-Key headers',
          rawRequest(`DELETE ${path} HTTP/1.1`, [
            `idempotency-key: ${newCommandId()}`,
            `idempotency-key: ${newCommandId()}`,
          ]),
          400,
        ],
        [
          'two If-Match headers',
          rawRequest(`DELETE ${path} HTTP/1.1`, ['if-match: "1"', 'if-match: "2"']),
          400,
        ],
        [
          'a Content-Type with non-ASCII bytes',
          rawRequest(
            'POST /tasks HTTP/1.1',
            [Buffer.from([...Buffer.from('content-type: application/json'), 0xe9])],
            '{"name":"x"}',
          ),
          415,
        ],
      ];
      for (const [label, [head, body], status] of raw) {
        expect({ label, status: await rawStatus(app, head, body) }).toEqual({ label, status });
      }
      // Node's parser or the route code refuses it, or it names a task that does not exist.
      const rawPath = await rawStatus(app, ...rawRequest('GET /tasks/\xff HTTP/1.1', []));
      expect([400, 404]).toContain(rawPath);

      // Nothing above was written: the target is still at version 1 and still takes a change.
      const after = await call(app, 'PATCH', path, { body: { done: true }, headers: { 'if-match': '"1"' } });
      expect(after.status).toBe(200);
      expect(after.body.version).toBe(2);
    } finally {
      await app.stop();
    }
  });

  test('503 says what is true: nothing written when DynamoDB refused, unknown after a server error; a keyed retry applies once', async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const throttledKey = newCommandId();
      await aws.faults.set({
        dynamodb: { failureRate: 1, operations: ['TransactWriteItems'], error: 'ThrottlingException' },
      });
      const throttled = await call(app, 'POST', '/tasks', {
        body: { name: 'Throttled' },
        headers: { 'idempotency-key': throttledKey },
      });
      await aws.faults.set({
        dynamodb: { failureRate: 1, operations: ['TransactWriteItems'], error: 'InternalServerError' },
      });
      const unknownKey = newCommandId();
      const unknown = await call(app, 'POST', '/tasks', {
        body: { name: 'Unknown' },
        headers: { 'idempotency-key': unknownKey },
      });
      const unknownUnkeyed = await call(app, 'POST', '/tasks', { body: { name: 'Unknown, no key' } });
      await aws.faults.clear();

      expect(throttled.status).toBe(503);
      expect(throttled.headers.get('retry-after')).toBe('1');
      expect(throttled.body.error).toMatchObject({
        code: 'BUSY',
        message: expect.stringMatching(/nothing was written/),
      });
      expect(unknown.status).toBe(503);
      expect(unknown.body.error?.code).toBe('OUTCOME_UNKNOWN');
      expect(unknown.body.error?.message).toMatch(/may or may not have been written.*same Idempotency-Key/);
      expect(unknownUnkeyed.body.error?.message).toMatch(/Read the resource before retrying/);

      // Retried with the same keys once DynamoDB answers again: each applied exactly once.
      for (const [key, name] of [
        [throttledKey, 'Throttled'],
        [unknownKey, 'Unknown'],
      ] as const) {
        const retried = await call(app, 'POST', '/tasks', {
          body: { name },
          headers: { 'idempotency-key': key },
        });
        const again = await call(app, 'POST', '/tasks', {
          body: { name },
          headers: { 'idempotency-key': key },
        });
        expect(retried.status).toBe(201);
        expect(retried.headers.get('idempotent-replayed')).toBeNull();
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body).toEqual(retried.body);
      }
      await app.settle();
      expect(app.seen['read-model'].map((event) => event.aggregate.id).sort()).toEqual(
        [throttledKey, unknownKey].sort(),
      );
    } finally {
      await aws.faults.clear();
      await app.stop();
    }
  });

  test('a keyed request killed at any await, then retried with its key, is applied exactly once', async ({
    aws,
  }) => {
    const [taskTable, projectTable, projectsTable] = await Promise.all([
      aws.createEventLogTable({ prefix: 'tasks' }),
      aws.createEventLogTable({ prefix: 'projects' }),
      aws.createTable({ ...projectsTableDescription('unused'), TableName: undefined }),
    ]);
    const tasks = taskLog(openTaskEventLog({ tableName: taskTable.tableName, dynamodb: aws.dynamodb }));
    const projectsLog = projectLog(
      openProjectEventLog({ tableName: projectTable.tableName, dynamodb: aws.dynamodb }),
    );
    const projects = createProjectsTable({ dynamodb: aws.dynamodb, tableName: projectsTable.tableName });
    const routes = (crashAt: number) => {
      const task = crashing(tasks, crashAt);
      const project = crashing(projectsLog, crashAt);
      const handle: HttpHandler = createRoutes({
        tasks: createTaskCommands({ log: task.log, projects }),
        reader: { get: async (id) => foldTask(await tasks.read(id)) },
        projects: createProjectCommands({ log: project.log }),
        logger: { error: () => {} },
      });
      return { handle, crashed: () => task.state.crashed || project.state.crashed };
    };
    const healthy = routes(-1).handle;
    const json = { 'content-type': 'application/json' };
    const create = async (path: string, name: string) =>
      (
        JSON.parse(
          (await healthy({ method: 'POST', path, headers: json, body: JSON.stringify({ name }) })).body!,
        ) as {
          id: string;
        }
      ).id;
    const target = await create('/tasks', 'Target');

    // Each kind of keyed request, made fresh for every crash point so that it changes something.
    const kinds: {
      label: string;
      status: number;
      log: AggregateLog<unknown, unknown>;
      make: (run: number) => Promise<{ method: string; path: string; body?: string }>;
    }[] = [
      {
        label: 'POST /tasks',
        status: 201,
        log: tasks,
        make: async (run) => ({
          method: 'POST',
          path: '/tasks',
          body: JSON.stringify({ name: `Task ${run}` }),
        }),
      },
      {
        label: 'PATCH /tasks/:id',
        status: 200,
        log: tasks,
        make: async (run) => ({
          method: 'PATCH',
          path: `/tasks/${target}`,
          body: JSON.stringify({ summary: `run ${run}` }),
        }),
      },
      {
        label: 'DELETE /tasks/:id',
        status: 200,
        log: tasks,
        make: async (run) => ({
          method: 'DELETE',
          path: `/tasks/${await create('/tasks', `Doomed ${run}`)}`,
        }),
      },
      {
        label: 'POST /projects',
        status: 201,
        log: projectsLog,
        make: async (run) => ({
          method: 'POST',
          path: '/projects',
          body: JSON.stringify({ name: `Project ${run}` }),
        }),
      },
      {
        label: 'DELETE /projects/:id',
        status: 200,
        log: projectsLog,
        make: async (run) => ({
          method: 'DELETE',
          path: `/projects/${await create('/projects', `Doomed ${run}`)}`,
        }),
      },
    ];
    for (const kind of kinds) {
      let crashes = 0;
      for (let crashAt = 0; ; crashAt++) {
        const request = await kind.make(crashAt);
        const key = newCommandId();
        const headers = { ...(request.body === undefined ? {} : json), 'idempotency-key': key };
        const attempt = routes(crashAt);
        const first = await attempt.handle({ ...request, headers });
        if (!attempt.crashed()) break;
        crashes++;
        const label = `${kind.label} killed at await ${crashAt}`;
        expect({ label, status: first.status }).toEqual({ label, status: 500 });

        const retried = await healthy({ ...request, headers });
        const again = await healthy({ ...request, headers });
        expect({ label, status: retried.status }).toEqual({ label, status: kind.status });
        expect({ label, body: again.body }).toEqual({ label, body: retried.body });
        expect({ label, replayed: again.headers['idempotent-replayed'] }).toEqual({
          label,
          replayed: 'true',
        });
        // The key's command is in the log once, whichever await the first attempt died at.
        const { id } = JSON.parse(retried.body!) as { id: string };
        const keyed = (await kind.log.read(id)).filter(
          (event) => (event as { metadata: { causationId?: string } }).metadata.causationId === key,
        );
        expect({ label, events: keyed.length }).toEqual({ label, events: 1 });
      }
      // Every kind reads, appends and reads again: at least that many places to die.
      expect({ kind: kind.label, crashes: crashes >= 4 }).toEqual({ kind: kind.label, crashes: true });
    }
  });

  const FUZZ_SEED = 20_261_131;

  test(`a seeded fuzz of requests never gets a 500 from the real stores (seed ${FUZZ_SEED})`, async ({
    aws,
  }) => {
    const app = await startLocalApp({ aws, shardCount: 1 });
    try {
      const target = await call(app, 'POST', '/tasks', { body: { name: 'Target' } });
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.constantFrom('', '*', '"1"', LARGEST_ULID, SMALLEST_ULID, '\ud800', '\udfff', '#', 'a#b'),
        fc.ulid(),
      );
      const field = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.jsonValue({ maxDepth: 2 }));
      const requests = fc.record({
        method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
        path: fc.oneof(
          fc.constantFrom('/tasks', `/tasks/${target.body.id}`, '/projects'),
          text.map((segment) => `/tasks/${encodeSegment(segment)}`),
          text.map((segment) => `/projects/${encodeSegment(segment)}`),
        ),
        body: fc.option(
          fc
            .record({ name: field, summary: field, done: field, projectId: field }, { requiredKeys: [] })
            .map((value) => JSON.stringify(value)),
          { nil: undefined },
        ),
        idempotencyKey: fc.option(fc.oneof(fc.ulid(), fc.constantFrom(LARGEST_ULID, SMALLEST_ULID)), {
          nil: undefined,
        }),
        ifMatch: fc.option(fc.constantFrom('"1"', '"2"', '*', '"0"', 'x'), { nil: undefined }),
      });
      let served = 0;
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
          if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
          const answer = await call(app, request.method, request.path, {
            headers,
            ...(request.body === undefined || request.method === 'GET' ? {} : { body: request.body }),
          });
          served++;
          expect(answer.status, `${request.method} ${request.path} ${request.body}`).toBeLessThan(500);
        }),
        { numRuns: 250, seed: FUZZ_SEED },
      );
      expect(served).toBe(250);
    } finally {
      await app.stop();
    }
  });
});
