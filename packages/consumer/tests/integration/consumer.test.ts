/**
 * The consumer on the real engines: events put on kinesis-mock, delivered by the Lambda
 * event-source emulation (ReportBatchItemFailures on), checkpoints in DynamoDB Local.
 */
import { DynamoDBClient, QueryCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import { buildEnvelope, fakeLambdaContext, kinesisEventFromEnvelopes } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { afterEach, describe, expect } from 'vitest';
import { type Consumer, createConsumer } from '../../src/index';
import { consumerMiddleware } from '../../src/middleware';
import type { BatchSummary, ConsumerOptions } from '../../src/types';
import {
  asRecords,
  consumerTable,
  counterEvents,
  counterHistory,
  effects,
  eventSource,
  interleavedHistories,
  putRecords,
  stopEventSources,
} from '../helpers/integration-fixture';

afterEach(stopEventSources);

/** The effects of a test's handler live in a table of the consumer table's layout. */
const effectsTable = consumerTable;

type EntryPoint = 'createConsumer' | 'middy middleware';

function makeConsumer<T extends boolean>(
  entry: EntryPoint,
  options: ConsumerOptions<typeof counterEvents, T>,
) {
  if (entry === 'createConsumer') return createConsumer(options);
  const handler = middy().use(consumerMiddleware(options));
  return handler as unknown as Consumer;
}

describe('createConsumer on DynamoDB Local and kinesis-mock', () => {
  test.for(['createConsumer', 'middy middleware'] as const)(
    'applies a whole batch once and skips it entirely when it is delivered again (%s)',
    async (entry, { aws, kinesisStream }) => {
      const table = await consumerTable(aws);
      const effectTable = await effectsTable(aws);
      const summaries: BatchSummary[] = [];
      const consumer = makeConsumer(entry, {
        name: 'redelivery',
        events: counterEvents,
        handlers: {
          CounterIncremented: async (event) => {
            await aws.dynamodb.send(
              new UpdateItemCommand({
                TableName: effectTable,
                Key: marshall({ pk: event.aggregate.id, sk: String(event.version) }),
                UpdateExpression: 'ADD applications :one',
                ExpressionAttributeValues: marshall({ ':one': 1 }),
              }),
            );
          },
        },
        checkpoints: { tableName: table, dynamodb: aws.clientConfig },
        concurrency: 16,
        onBatchSummary: (summary) => summaries.push(summary),
      });
      // 100 aggregates × 10 versions, interleaved as many writers would put them.
      const envelopes = interleavedHistories(100, 10);
      await putRecords(aws.kinesis, kinesisStream.streamName, asRecords(envelopes));

      // A timeout long enough for the cold JVM of DynamoDB Local (see the timeout test for the short one).
      const mapping = {
        kinesis: aws.kinesis,
        streamName: kinesisStream.streamName,
        handler: consumer,
        batchSize: 1000,
        functionTimeoutSeconds: 120,
      };
      const first = eventSource(mapping);
      await first.start();
      await first.drain({ timeoutMs: 60_000 });
      await first.stop();
      const firstSummaries = summaries.splice(0);

      // Lambda delivers the same records again (say, after the mapping was recreated).
      expect(first.invocations.every((invocation) => invocation.outcome === 'success')).toBe(true);
      const again = eventSource(mapping);
      await again.start();
      await again.drain({ timeoutMs: 60_000 });

      const applied = await effects(aws, effectTable);
      expect(applied.size).toBe(1000);
      expect([...applied.values()].every((count) => count === 1)).toBe(true);
      expect(firstSummaries.reduce((sum, summary) => sum + summary.applied, 0)).toBe(1000);
      for (const summary of firstSummaries) {
        // One BatchGetItem per 100 aggregates, one checkpoint write per aggregate, and the batch's
        // in-flight marker (how a delivery that dies under a handler gets counted).
        expect(summary.dynamodbRequests).toBe(Math.ceil(summary.aggregates / 100) + summary.aggregates + 1);
      }
      expect(summaries.reduce((sum, summary) => sum + summary.duplicates, 0)).toBe(1000);
      for (const summary of summaries) {
        expect(summary.applied).toBe(0);
        expect(summary.dynamodbRequests).toBe(Math.ceil(summary.aggregates / 100));
      }
      console.info(
        `[consumer] 1,000 records / 100 aggregates: first delivery ${firstSummaries.reduce((s, x) => s + x.dynamodbRequests, 0)} DynamoDB requests in ${firstSummaries.length} batch(es), redelivery ${summaries.reduce((s, x) => s + x.dynamodbRequests, 0)}`,
      );
    },
  );

  test('applies shuffled and duplicated input once per event, in version order, never early', async ({
    aws,
    kinesisStream,
  }) => {
    const table = await consumerTable(aws);
    const seen = new Map<string, number[]>();
    const summaries: BatchSummary[] = [];
    const consumer = createConsumer({
      name: 'shuffled',
      events: counterEvents,
      handlers: {
        CounterIncremented: (event) => {
          const list = seen.get(event.aggregate.id) ?? [];
          list.push(event.version);
          seen.set(event.aggregate.id, list);
        },
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      firstContact: 'require-first',
      onBatchSummary: (summary) => summaries.push(summary),
    });
    const histories = Array.from({ length: 8 }, (_, index) => counterHistory(`s${index}`, 12));
    const all = histories.flat();
    const random = seeded(7);
    const shuffled = [...all, ...all.filter(() => random() < 0.3)].sort(() => random() - 0.5);
    await putRecords(aws.kinesis, kinesisStream.streamName, asRecords(shuffled));

    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      handler: consumer,
      batchSize: 9,
    });
    await source.start();
    await source.drain({ timeoutMs: 60_000 });

    for (const [index] of histories.entries()) {
      expect(seen.get(`s${index}`)).toEqual(Array.from({ length: 12 }, (_, version) => version + 1));
    }
    expect(summaries.reduce((sum, summary) => sum + summary.gapsHeld, 0)).toBeGreaterThan(0);
    expect(summaries.reduce((sum, summary) => sum + summary.failed, 0)).toBe(0);
    const leftovers = await aws.dynamodb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(sk, :held)',
        ExpressionAttributeValues: marshall({ ':held': 'held#' }),
      }),
    );
    expect(leftovers.Items).toEqual([]);
  });

  test("keeps a failing aggregate's order while the others progress", async ({ aws, kinesisStream }) => {
    const table = await consumerTable(aws);
    const seen = new Map<string, number[]>();
    let refusals = 0;
    const consumer = createConsumer({
      name: 'failing',
      events: counterEvents,
      handlers: {
        CounterIncremented: (event) => {
          if (event.aggregate.id === 'bad' && event.version === 3 && refusals < 2) {
            refusals += 1;
            throw new Error('not yet');
          }
          const list = seen.get(event.aggregate.id) ?? [];
          list.push(event.version);
          seen.set(event.aggregate.id, list);
        },
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      maxAttempts: 5,
    });
    const bad = counterHistory('bad', 6);
    const good = [counterHistory('g1', 6), counterHistory('g2', 6)];
    const interleaved = bad.flatMap((envelope, index) => [envelope, good[0]![index]!, good[1]![index]!]);
    await putRecords(aws.kinesis, kinesisStream.streamName, asRecords(interleaved));

    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      handler: consumer,
      batchSize: 18,
    });
    await source.start();
    await source.drain({ timeoutMs: 60_000 });

    expect(refusals).toBe(2);
    expect(seen.get('bad')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.get('g1')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.get('g2')).toEqual([1, 2, 3, 4, 5, 6]);
    const partial = source.invocations.filter((invocation) => invocation.outcome === 'partial-failure');
    expect(partial.length).toBe(2);
    // The failed record is named: Lambda retried from bad v3 (index 6 of the batch).
    expect(partial[0]!.response).toEqual({
      batchItemFailures: [{ itemIdentifier: partial[0]!.sequenceNumbers[6] }],
    });
    expect(source.onFailure).toEqual([]);
  });

  test('parks poison records and never blocks the shard', async ({ aws, kinesisStream }) => {
    const table = await consumerTable(aws);
    const applied: string[] = [];
    const consumer = createConsumer({
      name: 'poison',
      events: counterEvents,
      handlers: {
        CounterIncremented: (event) => void applied.push(`${event.aggregate.id}@${event.version}`),
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
    });
    const [v1, , v3] = counterHistory('p', 3);
    const badPayload = buildEnvelope({
      type: 'CounterIncremented',
      aggregate: { type: 'Counter', id: 'p' },
      version: 2,
      data: { by: -5 },
    });
    await putRecords(aws.kinesis, kinesisStream.streamName, [
      { data: Buffer.from('\u0000not json'), key: 'garbage' },
      ...asRecords([v1!]),
      { data: Buffer.from(JSON.stringify({ specversion: '1.0', id: 'nope' })), key: 'Counter#p' },
      ...asRecords([badPayload, v3!]),
    ]);

    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      handler: consumer,
      batchSize: 2,
    });
    await source.start();
    await source.drain({ timeoutMs: 60_000 });

    expect(applied).toEqual(['p@1', 'p@3']);
    expect(source.invocations.every((invocation) => invocation.outcome === 'success')).toBe(true);
    const { items } = await consumer.deadLetters.list();
    expect(items.map((item) => item.reason).sort()).toEqual([
      'invalid-envelope',
      'invalid-payload',
      'undecodable',
    ]);
    const payload = items.find((item) => item.reason === 'invalid-payload')!;
    expect(payload).toMatchObject({
      aggregate: { type: 'Counter', id: 'p' },
      version: 2,
      record: { partitionKey: 'Counter#p' },
    });
    expect(payload.record.eventSourceARN).toBe(kinesisStream.streamArn);
  });

  test('moves effects and checkpoints together in transactional mode under injected DynamoDB failures', async ({
    aws,
    kinesisStream,
  }) => {
    const table = await consumerTable(aws);
    const effectTable = await effectsTable(aws);
    const summaries: BatchSummary[] = [];
    // No SDK retries: every injected failure reaches the consumer.
    const dynamodb = new DynamoDBClient({ ...aws.clientConfig, maxAttempts: 1 });
    const consumer = createConsumer({
      name: 'transactional',
      events: counterEvents,
      transactional: true,
      handlers: {
        CounterIncremented: (event, context) => {
          context.transaction.put({
            TableName: effectTable,
            Item: marshall({ pk: event.aggregate.id, sk: String(event.version) }),
            // A second application would fail here: exactly once, or the test sees a parked record.
            ConditionExpression: 'attribute_not_exists(pk)',
          });
        },
      },
      checkpoints: { tableName: table, dynamodb },
      maxAttempts: 2,
      onBatchSummary: (summary) => summaries.push(summary),
    });
    const histories = Array.from({ length: 10 }, (_, index) => counterHistory(`t${index}`, 8));
    await putRecords(aws.kinesis, kinesisStream.streamName, asRecords(histories.flat()));
    await aws.faults.set({
      seed: 11,
      dynamodb: { failureRate: 0.3, operations: ['TransactWriteItems'], error: 'InternalServerError' },
    });

    try {
      const source = eventSource({
        kinesis: aws.kinesis,
        streamName: kinesisStream.streamName,
        handler: consumer,
        batchSize: 25,
      });
      await source.start();
      await source.drain({ timeoutMs: 90_000 });
    } finally {
      await aws.faults.clear();
    }

    const applied = await effects(aws, effectTable);
    expect(applied.size).toBe(80);
    expect((await consumer.deadLetters.list()).items).toEqual([]);
    expect(summaries.reduce((sum, summary) => sum + summary.failed, 0)).toBeGreaterThan(0);
    for (const [index] of histories.entries()) {
      const checkpoint = await aws.dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: marshall({ ':pk': `consumer#transactional#Counter#t${index}` }),
          ConsistentRead: true,
        }),
      );
      expect(unmarshall(checkpoint.Items![0]!)).toMatchObject({ version: 8 });
    }
  });

  test('lets one of two racing invocations win in transactional mode: effects once, the loser redelivers', async ({
    aws,
  }) => {
    const table = await consumerTable(aws);
    const effectTable = await effectsTable(aws);
    const summaries: BatchSummary[] = [];
    const consumer = createConsumer({
      name: 'racing',
      events: counterEvents,
      transactional: true,
      handlers: {
        CounterIncremented: (event, context) =>
          context.transaction.update({
            TableName: effectTable,
            Key: marshall({ pk: event.aggregate.id, sk: String(event.version) }),
            UpdateExpression: 'ADD applications :one',
            ExpressionAttributeValues: marshall({ ':one': 1 }),
          }),
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      onBatchSummary: (summary) => summaries.push(summary),
    });
    const event = kinesisEventFromEnvelopes(counterHistory('r', 3));

    const responses = await Promise.all([
      consumer(event, fakeLambdaContext()),
      consumer(event, fakeLambdaContext()),
    ]);

    expect(responses.filter((response) => response.batchItemFailures.length > 0).length).toBeLessThanOrEqual(
      1,
    );
    expect(summaries.reduce((sum, summary) => sum + summary.applied, 0)).toBe(3);
    const applied = await effects(aws, effectTable);
    expect(applied.size).toBe(3);
    expect([...applied.values()]).toEqual([1, 1, 1]);
    // Lambda delivers the loser's records again: all duplicates now.
    const again = await consumer(event, fakeLambdaContext());
    expect(again.batchItemFailures).toEqual([]);
    expect(summaries.at(-1)).toMatchObject({ applied: 0, duplicates: 3 });
  });

  test('redrives a parked event through the handlers once, on DynamoDB Local', async ({ aws }) => {
    const table = await consumerTable(aws);
    const applied: string[] = [];
    let broken = true;
    const consumer = createConsumer({
      name: 'redrive',
      events: counterEvents,
      handlers: {
        CounterIncremented: (event, context) => {
          if (broken && event.version === 2) throw new Error('bug in the handler');
          applied.push(`${event.version}${context.redrive ? ' (redrive)' : ''}`);
        },
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      maxAttempts: 1,
    });
    const history = counterHistory('d', 3);
    await consumer(kinesisEventFromEnvelopes(history), fakeLambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;
    expect(letter).toMatchObject({ reason: 'handler-failed', version: 2, attempts: 1 });
    broken = false;

    expect(await consumer.deadLetters.redrive(letter!.id)).toEqual({ id: letter!.id, outcome: 'applied' });
    await consumer(kinesisEventFromEnvelopes(history), fakeLambdaContext());

    expect(applied).toEqual(['1', '3', '2 (redrive)']);
    expect((await consumer.deadLetters.list()).items).toEqual([]);
  });

  test('sweeps an expired gap of a quiet aggregate: reported, skipped over, held events applied', async ({
    aws,
  }) => {
    const table = await consumerTable(aws);
    const applied: number[] = [];
    let now = new Date('2026-11-23T12:00:00.000Z');
    const consumer = createConsumer({
      name: 'sweep',
      events: counterEvents,
      handlers: { CounterIncremented: (event) => void applied.push(event.version) },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      gapTimeoutSeconds: 60,
      clock: () => now,
    });
    const [v1, , v3, v4] = counterHistory('q', 4);
    await consumer(kinesisEventFromEnvelopes([v1!, v3!, v4!]), fakeLambdaContext());
    expect(await consumer.gaps.list()).toEqual([
      { aggregate: { type: 'Counter', id: 'q' }, openSince: now.toISOString() },
    ]);

    now = new Date(now.getTime() + 61_000);
    const result = await consumer.gaps.expire();

    expect(result).toEqual({ open: 0, expired: 1, stale: 0, applied: 2 });
    expect(applied).toEqual([1, 3, 4]);
    expect(await consumer.gaps.list()).toEqual([]);
    const { items } = await consumer.deadLetters.list();
    expect(items).toEqual([expect.objectContaining({ reason: 'gap-expired', missing: { from: 2, to: 2 } })]);
    const left = await aws.dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': 'consumer#sweep#Counter#q' }),
        ConsistentRead: true,
      }),
    );
    expect(left.Items!.map((item) => unmarshall(item).sk)).toEqual(['checkpoint']);
  });

  test('parks a held event that kills every gap sweep after maxAttempts sweeps, and applies the rest', async ({
    aws,
  }) => {
    const table = await consumerTable(aws);
    const applied: number[] = [];
    let now = new Date('2026-11-23T12:00:00.000Z');
    let started = 0;
    const consumer = createConsumer({
      name: 'poison-sweep',
      events: counterEvents,
      handlers: {
        CounterIncremented: async (event) => {
          if (event.version === 3) {
            // The invocation dies here (out of memory, say): the sweep never ends.
            started += 1;
            await new Promise<never>(() => undefined);
          }
          applied.push(event.version);
        },
      },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      gapTimeoutSeconds: 60,
      maxAttempts: 2,
      clock: () => now,
    });
    const [v1, , v3, v4] = counterHistory('p', 4);
    await consumer(kinesisEventFromEnvelopes([v1!, v3!, v4!]), fakeLambdaContext());
    const sweeps = async (count: number) => {
      for (let sweep = 0; sweep < count; sweep += 1) {
        const before = started;
        // Past the gap timeout and the claim a dead sweep left (15 minutes without a Lambda context).
        now = new Date(now.getTime() + 16 * 60_000);
        void consumer.gaps.expire();
        await expect.poll(() => started, { timeout: 10_000 }).toBe(before + 1);
      }
    };

    // Each sweep dies in version 3's handler; the next one counts that death. The first death is
    // pinned on the version after the durable mark (the first sweep's gap expiry was not written
    // yet), so version 3 runs maxAttempts + 1 times, then is parked without running.
    await sweeps(3);
    now = new Date(now.getTime() + 16 * 60_000);
    const result = await consumer.gaps.expire();

    expect(started).toBe(3);
    expect(result).toMatchObject({ expired: 0, applied: 1 });
    expect(applied).toEqual([1, 4]);
    const { items } = await consumer.deadLetters.list();
    expect(items.map((item) => item.reason).sort()).toEqual(['gap-expired', 'handler-failed']);
    expect(items.find((item) => item.reason === 'handler-failed')).toMatchObject({ version: 3, attempts: 2 });
    expect(await consumer.gaps.list()).toEqual([]);
  });
});

/** A small seeded PRNG (mulberry32), so the shuffle is the same every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
