/**
 * Regressions on DynamoDB Local, one per class of failure the consumer once had: oversized dead
 * letters, truncated parked payloads, lost open-gap entries, dropped held records, silent
 * first-contact loss, blindly trusted versions, uncounted hangs and deaths, sweeps racing
 * batches, the expired-gap remedy, and staged writes that can never succeed. Every test runs
 * under the default options unless the case needs one set.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { defineCatalog, defineEvent, type EventEnvelope, encodeEnvelope } from '@tidemark/core';
import {
  buildEnvelope,
  buildEnvelopes,
  fakeLambdaContext,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
  type LocalAws,
} from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { type Consumer, createConsumer } from '../../src/index';
import type { ConsumerOptions } from '../../src/types';
import { consumerTable } from '../helpers/integration-fixture';

const ListReplaced = defineEvent({
  type: 'ListReplaced',
  schemaVersion: 1,
  aggregateType: 'List',
  schema: z.object({ items: z.array(z.number().int()), note: z.string().optional() }),
});
const catalog = defineCatalog([ListReplaced]);

type Options = Partial<ConsumerOptions<typeof catalog, boolean>>;

function list(
  id: string,
  version: number,
  data: Record<string, unknown> = { items: [version] },
): EventEnvelope {
  return buildEnvelope({ type: 'ListReplaced', aggregate: { type: 'List', id }, version, data });
}

function history(id: string, count: number): EventEnvelope[] {
  return buildEnvelopes(count, {
    type: 'ListReplaced',
    aggregate: { type: 'List', id },
    data: { items: [1] },
  });
}

/** A consumer on DynamoDB Local that records `id@version` of every handler call. */
async function setup(aws: LocalAws, options: Options = {}, client?: DynamoDBClient) {
  const table = await consumerTable(aws);
  const calls: string[] = [];
  const consumer = createConsumer({
    name: 'no-loss',
    events: catalog,
    handlers: { ListReplaced: (event) => void calls.push(`${event.aggregate.id}@${event.version}`) },
    checkpoints: { tableName: table, dynamodb: client ?? aws.clientConfig },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  } as ConsumerOptions<typeof catalog, boolean>);
  return { table, calls, consumer };
}

const deliver = (consumer: Consumer, envelopes: EventEnvelope[]) =>
  consumer(kinesisEventFromEnvelopes(envelopes), fakeLambdaContext());

async function deadLetters(consumer: Consumer) {
  return (await consumer.deadLetters.list({ limit: 1000 })).items;
}

/** A client that runs `before` once, just before the first request `when` matches. */
function interceptingClient(aws: LocalAws, when: (command: unknown) => boolean, before: () => Promise<void>) {
  const real = aws.dynamodb;
  let done = false;
  return {
    config: real.config,
    async send(command: unknown) {
      if (!done && when(command)) {
        done = true;
        await before();
      }
      return real.send(command as never);
    },
  } as unknown as DynamoDBClient;
}

describe('no event lost, no shard blocked, on DynamoDB Local', () => {
  test('parks inputs whose dead letter would exceed 400 KB, and the shard moves on', async ({ aws }) => {
    const { consumer, calls } = await setup(aws, { maxAttempts: 1 });
    // A payload with 30,000 schema issues, a malformed envelope with a 350 KB type, a handler
    // error with a 600 KB message.
    const manyIssues = list('a', 2, { items: Array.from({ length: 30_000 }, () => 'x') });
    const hugeType = { specversion: '1.0', id: 'x', type: 't'.repeat(350 * 1024) };
    const failing = createConsumer({
      name: 'no-loss-throwing',
      events: catalog,
      handlers: {
        ListReplaced: (event) => {
          if (event.version === 1) throw new Error('e'.repeat(600 * 1024));
        },
      },
      checkpoints: { tableName: await consumerTable(aws), dynamodb: aws.clientConfig },
      maxAttempts: 1,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });

    const first = await consumer(
      kinesisEventFromData([
        { data: encodeEnvelope(list('a', 1)), partitionKey: 'List#a' },
        { data: encodeEnvelope(manyIssues), partitionKey: 'List#a' },
        { data: JSON.stringify(hugeType), partitionKey: 'List#a' },
        { data: encodeEnvelope(list('a', 3)), partitionKey: 'List#a' },
      ]),
      fakeLambdaContext(),
    );
    const second = await deliver(failing, [list('b', 1), list('b', 2)]);

    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(calls).toEqual(['a@1', 'a@3']);
    const letters = await deadLetters(consumer);
    const payload = letters.find((letter) => letter.reason === 'invalid-payload')!;
    expect(payload.message.length).toBeLessThanOrEqual(4096);
    expect(payload.message).toMatch(/truncated: \d+ characters in full/);
    expect(payload.messageLength).toBeGreaterThan(4096);
    expect(payload.error.contextBytes).toBeGreaterThan(16 * 1024);
    expect(Buffer.from(payload.record.data, 'base64').toString()).toBe(
      Buffer.from(encodeEnvelope(manyIssues)).toString(),
    );
    const envelope = letters.find((letter) => letter.reason === 'invalid-envelope')!;
    expect(JSON.parse(Buffer.from(envelope.record.data, 'base64').toString())).toEqual(hugeType);
    const [thrown] = await deadLetters(failing);
    expect(thrown).toMatchObject({ reason: 'handler-failed', version: 1 });
    expect(thrown!.messageLength).toBeGreaterThan(600 * 1024);
  });

  test('redrives a parked 900 KB event with its full payload, once', async ({ aws }) => {
    let broken = true;
    const seen: number[] = [];
    const { consumer } = await setup(aws, {
      maxAttempts: 1,
      handlers: {
        ListReplaced: (event) => {
          if (broken && event.version === 1) throw new Error('not yet');
          seen.push(event.data.items.length);
        },
      },
    });
    const big = list('big', 1, { items: [1], note: 'n'.repeat(900 * 1024) });

    await deliver(consumer, [big, list('big', 2)]);
    const [letter] = await deadLetters(consumer);
    broken = false;

    expect(Buffer.from(letter!.record.data, 'base64').byteLength).toBe(encodeEnvelope(big).byteLength);
    expect(await consumer.deadLetters.redrive(letter!.id)).toEqual({ id: letter!.id, outcome: 'applied' });
    await expect(consumer.deadLetters.get(letter!.id)).rejects.toThrow();
    expect(seen).toEqual([1, 1]);
    await deliver(consumer, [big]);
    expect(seen).toEqual([1, 1]);
  });

  test('keeps the open-gap entry of a gap opened while a sweep removes a stale one', async ({ aws }) => {
    const table = await consumerTable(aws);
    const options = {
      name: 'no-loss',
      events: catalog,
      handlers: { ListReplaced: () => undefined },
      gapTimeoutSeconds: 3600,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    };
    const batches = createConsumer({
      ...options,
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
    });
    await deliver(batches, [list('g', 1)]);
    // A stale index entry (its aggregate holds nothing), as an older consumer version could leave.
    await aws.dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({
          pk: 'consumer#no-loss#gaps',
          sk: 'List#g',
          kind: 'gap',
          aggregateType: 'List',
          aggregateId: 'g',
          openSince: new Date().toISOString(),
        }),
      }),
    );
    // Between the sweep's read and its delete, a batch opens a new gap on the aggregate.
    const sweeping = createConsumer({
      ...options,
      checkpoints: {
        tableName: table,
        dynamodb: interceptingClient(
          aws,
          (command) => command instanceof TransactWriteItemsCommand,
          async () => void (await deliver(batches, [list('g', 3)])),
        ),
      },
    });

    expect(await sweeping.gaps.expire()).toMatchObject({ stale: 0 });
    expect(await batches.gaps.list()).toEqual([
      { aggregate: { type: 'List', id: 'g' }, openSince: expect.any(String) },
    ]);
  });

  test('reports a held record that cannot be read, and applies its copy when it is delivered again', async ({
    aws,
  }) => {
    const { consumer, calls, table } = await setup(aws);
    const [v1, v2, v3, v4] = history('h', 4);
    await deliver(consumer, [v1!, v3!, v4!]);
    await aws.dynamodb.send(
      new DeleteItemCommand({
        TableName: table,
        Key: marshall({ pk: 'consumer#no-loss#List#h', sk: `held#${String(3).padStart(12, '0')}` }),
      }),
    );

    await deliver(consumer, [v2!]);
    await deliver(consumer, [v3!]);

    expect(calls).toEqual(['h@1', 'h@2', 'h@3', 'h@4']);
    expect((await deadLetters(consumer)).map((letter) => [letter.reason, letter.version])).toEqual([
      ['held-record-lost', 3],
    ]);
  });

  test('never takes an earlier version delivered later for a duplicate (default first contact)', async ({
    aws,
  }) => {
    const { consumer, calls } = await setup(aws);
    const [v1, v2, v3, v4] = history('f', 4);

    await deliver(consumer, [v4!, v3!]);
    await deliver(consumer, [v2!]);
    await deliver(consumer, [v1!]);

    expect(calls).toEqual(['f@1', 'f@2', 'f@3', 'f@4']);
    expect(await deadLetters(consumer)).toEqual([]);
  });

  test('parks implausible versions and misrouted records instead of trusting them', async ({ aws }) => {
    const { consumer, calls } = await setup(aws);
    const forgedNew = list('n', Number.MAX_SAFE_INTEGER - 3);
    const forgedOld = list('o', 5_000_000_000);
    const [o1, o2, o3] = history('o', 3);
    const [n1] = history('n', 1);
    const misrouted = list('m', 1);

    const response = await consumer(
      kinesisEventFromData([
        { data: encodeEnvelope(forgedNew), partitionKey: 'List#n' },
        { data: encodeEnvelope(o1!), partitionKey: 'List#o' },
        { data: encodeEnvelope(forgedOld), partitionKey: 'List#o' },
        { data: encodeEnvelope(misrouted), partitionKey: 'List#elsewhere' },
      ]),
      fakeLambdaContext(),
    );
    await deliver(consumer, [o2!, o3!, n1!]);

    expect(response.batchItemFailures).toEqual([]);
    expect(calls.filter((call) => call.startsWith('o@'))).toEqual(['o@1', 'o@2', 'o@3']);
    expect(calls.filter((call) => call.startsWith('n@'))).toEqual(['n@1']);
    expect((await deadLetters(consumer)).map((letter) => letter.reason).sort()).toEqual([
      'implausible-version',
      'implausible-version',
      'misrouted',
    ]);
  });

  test('counts a handler that hangs past the deadline as an attempt and parks it after maxAttempts', async ({
    aws,
  }) => {
    const { consumer, calls } = await setup(aws, {
      maxAttempts: 2,
      timeoutMarginMs: 400,
      handlers: {
        ListReplaced: (event) => {
          if (event.aggregate.id === 'hang' && event.version === 1) return new Promise(() => undefined);
          calls.push(`${event.aggregate.id}@${event.version}`);
        },
      },
    });
    const event = kinesisEventFromEnvelopes([...history('hang', 2), ...history('ok', 1)]);
    const context = () => {
      const deadline = Date.now() + 1500;
      return { getRemainingTimeInMillis: () => deadline - Date.now() };
    };

    const answers = [];
    do {
      answers.push(await consumer(event, context() as never));
    } while (answers.at(-1)!.batchItemFailures.length > 0 && answers.length < 5);

    // Two deliveries whose handler hung (the second parks it), and one for what the second had no
    // time left to run.
    expect(answers).toHaveLength(3);
    expect(calls).toEqual(['ok@1', 'hang@2']);
    expect(await deadLetters(consumer)).toEqual([
      expect.objectContaining({ reason: 'handler-failed', version: 1, attempts: 2 }),
    ]);
  });

  test('counts deliveries that died under a handler and parks the event, naming only it', async ({ aws }) => {
    let dying = true;
    const { consumer, calls } = await setup(aws, {
      maxAttempts: 2,
      handlers: {
        ListReplaced: (event) => {
          // The runtime dies here (out of memory): this invocation never answers.
          if (dying && event.aggregate.id === 'oom' && event.version === 2)
            return new Promise(() => undefined);
          calls.push(`${event.aggregate.id}@${event.version}`);
        },
      },
    });
    const event = kinesisEventFromEnvelopes([...history('oom', 3), ...history('fine', 2)]);
    const abandon = (invocation: Promise<unknown>) =>
      Promise.race([invocation, new Promise((resolve) => setTimeout(resolve, 1000))]);

    let deliveries = 0;
    let answer: { batchItemFailures: unknown[] } | undefined;
    while (answer === undefined && deliveries < 6) {
      deliveries += 1;
      const context = { getRemainingTimeInMillis: () => 10 * 60_000 };
      answer = (await abandon(consumer(event, context as never))) as typeof answer;
    }
    dying = false;

    // maxAttempts deaths pinned on the event, plus the first one that could not be pinned.
    expect(deliveries).toBeLessThanOrEqual(2 + 2);
    expect(answer?.batchItemFailures).toEqual([]);
    expect(await deadLetters(consumer)).toEqual([
      expect.objectContaining({ reason: 'handler-failed', version: 2, attempts: 2 }),
    ]);
    expect(calls.filter((call) => call.startsWith('oom'))).toContain('oom@3');
    expect(new Set(calls.filter((call) => call.startsWith('fine')))).toEqual(new Set(['fine@1', 'fine@2']));
  });

  test('never interleaves a gap sweep with a batch of the same aggregate', async ({ aws }) => {
    let now = new Date('2026-11-30T12:00:00.000Z');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls: number[] = [];
    const { consumer } = await setup(aws, {
      gapTimeoutSeconds: 60,
      clock: () => now,
      handlers: {
        ListReplaced: async (event) => {
          calls.push(event.version);
          if (event.version === 2) await gate;
        },
      },
    });
    const [v1, v2, v3] = history('s', 3);
    await deliver(consumer, [v1!, v3!]);
    now = new Date(now.getTime() + 61_000);

    const batch = deliver(consumer, [v2!]);
    while (!calls.includes(2)) await new Promise((resolve) => setTimeout(resolve, 10));
    const sweep = await consumer.gaps.expire();
    release();
    await batch;

    expect(sweep).toMatchObject({ expired: 0, applied: 0 });
    expect(calls).toEqual([1, 2, 3]);
    expect(await deadLetters(consumer)).toEqual([]);
    expect(await consumer.gaps.list()).toEqual([]);
  });

  test('applies or parks events republished after their gap expired, never drops them', async ({ aws }) => {
    const { consumer, calls } = await setup(aws, { gapTimeoutSeconds: 0 });
    const [v1, v2, v3, v4, v5] = history('r', 5);
    await deliver(consumer, [v1!, v4!, v5!]);
    const [gap] = await deadLetters(consumer);
    expect(gap).toMatchObject({ reason: 'gap-expired', missing: { from: 2, to: 3 } });

    // The README's remedy: publish the missing events again.
    await deliver(consumer, [v2!, v3!]);
    const parked = (await deadLetters(consumer)).filter(
      (letter) => letter.reason === 'arrived-after-gap-expired',
    );
    expect(parked.map((letter) => letter.version)).toEqual([2, 3]);
    for (const letter of parked) {
      expect((await consumer.deadLetters.redrive(letter.id)).outcome).toBe('applied');
    }
    await deliver(consumer, [v2!, v3!]);

    expect(calls).toEqual(['r@1', 'r@4', 'r@5', 'r@2', 'r@3']);
  });

  test('counts a staged write to a missing table and parks it; refuses staging after the handler returned', async ({
    aws,
  }) => {
    const late: unknown[] = [];
    const { consumer, table } = await setup(aws, {
      transactional: true,
      maxAttempts: 2,
      handlers: {
        ListReplaced: (event, untyped) => {
          const context = untyped as import('../../src/types').TransactionalHandlerContext;
          const target = event.aggregate.id === 'missing' && event.version === 1 ? 'no-such-table' : table;
          context.transaction.put({
            TableName: target,
            Item: marshall({ pk: `effect#${event.aggregate.id}`, sk: String(event.version) }),
          });
          setTimeout(() => {
            try {
              context.transaction.put({ TableName: table, Item: marshall({ pk: 'late', sk: 'late' }) });
            } catch (error) {
              late.push(error);
            }
          }, 0);
        },
      },
    });
    const event = kinesisEventFromEnvelopes([...history('missing', 2), ...history('present', 1)]);

    const first = await consumer(event, fakeLambdaContext());
    const second = await consumer(event, fakeLambdaContext());
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(first.batchItemFailures).toHaveLength(1);
    expect(second.batchItemFailures).toEqual([]);
    expect(await deadLetters(consumer)).toEqual([
      expect.objectContaining({ reason: 'handler-failed', version: 1, attempts: 2 }),
    ]);
    const effect = await aws.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: marshall({ pk: 'effect#missing', sk: '2' }) }),
    );
    expect(effect.Item).toBeDefined();
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((error) => (error as Error).name === 'StagedAfterReturnError')).toBe(true);
    const lateItem = await aws.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: marshall({ pk: 'late', sk: 'late' }) }),
    );
    expect(lateItem.Item).toBeUndefined();
  });
});
