/** Replay on the real engines: the whole log and one aggregate, interrupted and resumed, under faults. */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { newCommandId } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { replay } from '../../src/index';
import { memoryLogger, memoryMetrics } from '../helpers/fakes';
import { drainStream, testEventLog, testPublisher } from '../helpers/integration-fixture';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

describe('replay on DynamoDB Local and kinesis-mock', () => {
  test('republishes the whole log in order, stopped after two pages and resumed with the token, under entry failures', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6; i += 1) {
      const aggregate = { type: 'Task', id: `r-${i}` };
      await log.append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'TaskCreated', data: { name: 'x' } }],
      });
      const more = 4 + i * 2;
      await log.append({
        aggregate,
        commandId: newCommandId(),
        events: Array.from({ length: more }, (_, k) => ({
          type: 'TaskRenamed' as const,
          data: { name: `n${k}` },
        })),
      });
      counts.set(`Task#${aggregate.id}`, 1 + more);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });
    await aws.faults.set({
      seed: 3,
      kinesis: { putRecordsEntryFailureRate: 0.3, operations: ['PutRecords'] },
    });

    const common = {
      tableName: eventLogTable.tableName,
      dynamodb: aws.dynamodb,
      kinesis: aws.kinesis,
      streamName,
      pageSize: 13,
      logger: memoryLogger().logger,
      retry: { retries: 20, minTimeoutMs: 1, maxTimeoutMs: 20 },
    };
    const controller = new AbortController();
    const progress: number[] = [];
    const first = await replay({
      ...common,
      signal: controller.signal,
      onProgress: ({ pages, published }) => {
        progress.push(published);
        if (pages === 2) controller.abort();
      },
    });
    expect(first.complete).toBe(false);
    expect(first.published).toBe(26);
    expect(progress).toEqual([13, 26]);

    const metrics = memoryMetrics();
    const second = await replay({
      ...common,
      resumeToken: first.resumeToken,
      metrics,
    });
    const stats = await aws.faults.stats();
    await aws.faults.clear();
    expect(second).toMatchObject({
      complete: true,
      published: total,
      eventsDone: total,
      resumeToken: undefined,
    });
    expect(stats.putRecordsEntriesFailed).toBeGreaterThan(0);
    expect(metrics.counts.some((m) => m.name === 'PublishRetries' && m.value > 0)).toBe(true);

    const records = await readStream(aws.kinesis, streamName);
    expect(new Set(records.map((r) => r.envelope.id)).size).toBe(total);
    const arrivals = firstArrivalVersions(records);
    for (const [key, count] of counts) {
      expect(arrivals.get(key)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    }
  });

  test('republishes one aggregate from a version, and a segmented scan covers the log', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    for (const id of ['a', 'b', 'c', 'd']) {
      await log.append({
        aggregate: { type: 'Task', id },
        commandId: newCommandId(),
        events: [
          { type: 'TaskCreated', data: { name: id } },
          { type: 'TaskRenamed', data: { name: `${id}2` } },
          { type: 'TaskRenamed', data: { name: `${id}3` } },
        ],
      });
    }
    const one = await aws.createKinesisStream();
    const result = await replay({
      tableName: eventLogTable.tableName,
      dynamodb: aws.dynamodb,
      kinesis: aws.kinesis,
      streamName: one.streamName,
      aggregate: { type: 'Task', id: 'c' },
      fromVersion: 2,
      logger: memoryLogger().logger,
    });
    expect(result).toMatchObject({ complete: true, published: 2 });
    expect(
      (await readStream(aws.kinesis, one.streamName)).map((r) => [
        r.partitionKey,
        r.envelope.aggregateversion,
      ]),
    ).toEqual([
      ['Task#c', 2],
      ['Task#c', 3],
    ]);

    const all = await aws.createKinesisStream();
    const segments = await Promise.all(
      [0, 1, 2].map((segment) =>
        replay({
          tableName: eventLogTable.tableName,
          dynamodb: aws.dynamodb,
          kinesis: aws.kinesis,
          streamName: all.streamName,
          segment,
          totalSegments: 3,
          logger: memoryLogger().logger,
        }),
      ),
    );
    expect(segments.reduce((sum, s) => sum + s.published, 0)).toBe(12);
    const arrivals = firstArrivalVersions(await readStream(aws.kinesis, all.streamName));
    for (const id of ['a', 'b', 'c', 'd']) expect(arrivals.get(`Task#${id}`)).toEqual([1, 2, 3]);
  });

  test('the publisher skips a MODIFY on the real stream and still publishes the INSERTs', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'mutated' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    await aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: eventLogTable.tableName,
        Key: { pk: { S: 'Task#mutated' }, sk: { N: '1' } },
        UpdateExpression: 'SET tampered = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
    });
    const { streamName } = await aws.createKinesisStream();
    const metrics = memoryMetrics();
    const { lines, logger } = memoryLogger();
    await drainStream(aws, eventLogTable.streamArn, testPublisher(aws, { streamName, logger, metrics }));
    const records = await readStream(aws.kinesis, streamName);
    expect(records.map((r) => r.envelope.aggregateversion)).toEqual([1, 2]);
    expect(metrics.counts.filter((m) => m.name === 'HistoryRewrites').reduce((s, m) => s + m.value, 0)).toBe(
      1,
    );
    expect(lines.some((line) => line.level === 'error' && line.message.includes('MODIFY'))).toBe(true);
  });
});
