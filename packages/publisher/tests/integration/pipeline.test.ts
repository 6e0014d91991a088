/**
 * The producing side end to end on the real engines (DynamoDB Local + kinesis-mock): append →
 * DynamoDB stream → publisher (through Lambda event-source emulation) → Kinesis, with faults
 * injected at the edge.
 */
import { newCommandId } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { memoryMetrics } from '../helpers/fakes';
import { drainStream, testEventLog, testPublisher } from '../helpers/integration-fixture';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

describe('append → DynamoDB stream → publisher → Kinesis', () => {
  test('delivers every event in per-aggregate order with 30% of PutRecords entries failing and throttled calls', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });
    const log = testEventLog(aws, eventLogTable.tableName);

    // 12 aggregates, each built by commands of 1–3 events, aggregates written side by side.
    const aggregates = Array.from({ length: 12 }, (_, i) => ({ type: 'Task', id: `t-${i}` }));
    const written = new Map<string, string[]>();
    await Promise.all(
      aggregates.map(async (aggregate, i) => {
        const ids: string[] = [];
        for (let command = 0; command < 6; command += 1) {
          const size = ((i + command) % 3) + 1;
          const result = await log.append({
            aggregate,
            commandId: newCommandId(),
            expectedVersion: ids.length,
            events: Array.from({ length: size }, (_, k) =>
              command === 0 && k === 0
                ? { type: 'TaskCreated' as const, data: { name: `task ${i}` } }
                : { type: 'TaskRenamed' as const, data: { name: `name ${command}.${k}` } },
            ),
          });
          ids.push(...result.events.map((e) => e.id));
        }
        written.set(`Task#${aggregate.id}`, ids);
      }),
    );
    const total = [...written.values()].reduce((sum, ids) => sum + ids.length, 0);

    await aws.faults.set({
      seed: 42,
      kinesis: { putRecordsEntryFailureRate: 0.3, throttleRate: 0.2, operations: ['PutRecords'] },
    });
    const metrics = memoryMetrics();
    const publisher = testPublisher(aws, {
      streamName,
      metrics,
      retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 50 },
      safetyMarginMs: 1000,
    });
    const source = await drainStream(aws, eventLogTable.streamArn, publisher, {
      batchSize: 40,
      timeoutMs: 90_000,
    });
    const stats = await aws.faults.stats();
    await aws.faults.clear();

    // Faults really happened, and the publisher really retried.
    expect(stats.putRecordsEntriesFailed).toBeGreaterThan(0);
    expect(stats.kinesisThrottled).toBeGreaterThan(0);
    expect(
      metrics.counts.filter((m) => m.name === 'PublishRetries').reduce((sum, m) => sum + m.value, 0),
    ).toBeGreaterThan(0);
    expect(source.onFailure).toEqual([]);

    const records = await readStream(aws.kinesis, streamName);
    const arrived = new Set(records.map((r) => r.envelope.id));
    for (const ids of written.values()) for (const id of ids) expect(arrived.has(id)).toBe(true);
    expect(arrived.size).toBe(total);
    const firstArrivals = firstArrivalVersions(records);
    for (const [key, ids] of written) {
      expect(firstArrivals.get(key)).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    }
    // The partition key is the aggregate key.
    expect(records.every((r) => r.partitionKey === `Task#${r.envelope.aggregateid}`)).toBe(true);
  });

  test('a retried command appends nothing and publishes nothing new', async ({ aws, eventLogTable }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'retry' };
    const input = {
      aggregate,
      commandId: newCommandId(),
      events: [
        { type: 'TaskCreated' as const, data: { name: 'a' } },
        { type: 'TaskRenamed' as const, data: { name: 'b' } },
      ],
    };
    const first = await log.append(input);
    const again = await log.append(input);
    const third = await log.append({
      ...input,
      events: [{ type: 'TaskRenamed', data: { name: 'different' } }],
    });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(third).toEqual({ ...first, duplicate: true });

    await drainStream(aws, eventLogTable.streamArn, testPublisher(aws, { streamName }));
    const records = await readStream(aws.kinesis, streamName);
    expect(records.map((r) => r.envelope)).toEqual(first.events);
  });
});
