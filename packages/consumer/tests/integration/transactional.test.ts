/**
 * Transactional mode on DynamoDB Local: one TransactWriteItems per aggregate per batch, cut only
 * where DynamoDB's limits force it (100 actions, 4 MB, one action per item), with the request
 * counts asserted for first delivery, redelivery, a handler failure in the middle of an aggregate,
 * a staged write refused in the middle, and the splits.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { afterEach, describe, expect } from 'vitest';
import { createConsumer, type Transaction } from '../../src/index';
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

type Handled = { aggregate: { id: string }; version: number };

const clients: DynamoDBClient[] = [];
afterEach(async () => {
  await stopEventSources();
  for (const client of clients.splice(0)) client.destroy();
});

/** A test's tables (checkpoints, effects) and a client that records the commands it sends. */
async function setup(aws: LocalAws) {
  const checkpoints = await consumerTable(aws);
  const effectTable = await consumerTable(aws);
  return { checkpoints, effectTable, ...countingClient(aws) };
}

/** A client that records the name of every command it sends. */
function countingClient(aws: LocalAws): { client: DynamoDBClient; commands: string[] } {
  const client = new DynamoDBClient(aws.clientConfig);
  clients.push(client);
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, commands };
}

/** One effect item per event, written once (a second write of it would fail its condition). */
function putEffect(effectTable: string, event: Handled, transaction: Transaction, extra = {}): void {
  transaction.put({
    TableName: effectTable,
    Item: marshall({ pk: event.aggregate.id, sk: String(event.version), ...extra }),
    ConditionExpression: 'attribute_not_exists(pk)',
  });
}

function consumerWith(
  options: Omit<ConsumerOptions<typeof counterEvents, true>, 'events' | 'transactional' | 'logger'>,
) {
  const summaries: BatchSummary[] = [];
  const consumer = createConsumer({
    events: counterEvents,
    transactional: true,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onBatchSummary: (summary) => summaries.push(summary),
    ...options,
  });
  return { consumer, summaries };
}

const count = (commands: readonly string[], name: string) =>
  commands.filter((command) => command === name).length;

describe('transactional mode on DynamoDB Local', () => {
  test('commits 1,000 records of 100 aggregates in one transaction per aggregate, and redelivery writes nothing', async ({
    aws,
    kinesisStream,
  }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    const { consumer, summaries } = consumerWith({
      name: 'tx-batch',
      handlers: {
        CounterIncremented: (event, { transaction }) => putEffect(effectTable, event, transaction),
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
      concurrency: 16,
    });
    const envelopes = interleavedHistories(100, 10);
    await putRecords(aws.kinesis, kinesisStream.streamName, asRecords(envelopes));
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
    const firstCommands = commands.splice(0);
    const again = eventSource(mapping);
    await again.start();
    await again.drain({ timeoutMs: 60_000 });

    const applied = await effects(aws, effectTable);
    expect(applied.size).toBe(1000);
    expect([...applied.values()].every((times) => times === 1)).toBe(true);
    const requests = firstSummaries.reduce((sum, summary) => sum + summary.dynamodbRequests, 0);
    for (const summary of firstSummaries) {
      // One BatchGetItem per 100 aggregates, one TransactWriteItems per aggregate, the in-flight marker.
      expect(summary.dynamodbRequests).toBe(Math.ceil(summary.aggregates / 100) + summary.aggregates + 1);
    }
    expect(requests).toBeLessThanOrEqual(150);
    expect(count(firstCommands, 'TransactWriteItemsCommand')).toBe(100);
    expect(count(firstCommands, 'PutItemCommand')).toBe(0);
    expect(summaries.reduce((sum, summary) => sum + summary.duplicates, 0)).toBe(1000);
    for (const summary of summaries) {
      expect(summary.dynamodbRequests).toBe(Math.ceil(summary.aggregates / 100));
    }
    console.info(
      `[consumer] transactional, 1,000 records / 100 aggregates: first delivery ${requests} DynamoDB requests, redelivery ${summaries.reduce((sum, summary) => sum + summary.dynamodbRequests, 0)}`,
    );
  });

  test('commits the events before a handler failure in one transaction with the failure; the redelivery applies the rest once', async ({
    aws,
  }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    let failures = 1;
    const { consumer, summaries } = consumerWith({
      name: 'tx-failure',
      handlers: {
        CounterIncremented: (event, { transaction }) => {
          if (event.version === 5 && failures-- > 0) throw new Error('the handler failed once');
          putEffect(effectTable, event, transaction);
        },
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });
    const event = kinesisEventFromEnvelopes(counterHistory('m', 10));

    const first = await consumer(event, fakeLambdaContext());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[4]!.kinesis.sequenceNumber }]);
    expect([...(await effects(aws, effectTable)).keys()].sort()).toEqual(['m@1', 'm@2', 'm@3', 'm@4']);
    // The checkpoint read, the marker, ONE transaction (events 1–4 and the failure), the marker answered.
    expect(commands.splice(0)).toEqual([
      'BatchGetItemCommand',
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
    ]);
    expect(summaries[0]).toMatchObject({ applied: 4, handlerFailures: 1 });

    // Lambda delivers from the failed record on.
    const retry = await consumer({ Records: event.Records.slice(4) } as typeof event, fakeLambdaContext());
    expect(retry.batchItemFailures).toEqual([]);
    const applied = await effects(aws, effectTable);
    expect(applied.size).toBe(10);
    expect([...applied.values()].every((times) => times === 1)).toBe(true);
    expect(count(commands.splice(0), 'TransactWriteItemsCommand')).toBe(1);
    expect(summaries[1]).toMatchObject({ applied: 6, handlerFailures: 0 });

    // The whole batch again: nothing is applied twice, nothing is written.
    await consumer(event, fakeLambdaContext());
    expect(commands.splice(0)).toEqual(['BatchGetItemCommand']);
  });

  test('commits the events before a refused staged write and charges the refusal to its event alone', async ({
    aws,
  }) => {
    const checkpoints = await consumerTable(aws);
    const effectTable = await consumerTable(aws);
    // Version 3's effect exists already: its condition fails.
    await aws.dynamodb.send(
      new (await import('@aws-sdk/client-dynamodb')).PutItemCommand({
        TableName: effectTable,
        Item: marshall({ pk: 'r', sk: '3', applications: 7 }),
      }),
    );
    const { client, commands } = countingClient(aws);
    const { consumer, summaries } = consumerWith({
      name: 'tx-refused',
      maxAttempts: 2,
      handlers: {
        CounterIncremented: (event, { transaction }) => putEffect(effectTable, event, transaction),
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });
    const event = kinesisEventFromEnvelopes(counterHistory('r', 6));

    const first = await consumer(event, fakeLambdaContext());

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }]);
    const applied = await effects(aws, effectTable);
    expect([...applied.keys()].sort()).toEqual(['r@1', 'r@2', 'r@3']);
    expect(applied.get('r@3')).toBe(7);
    // All six refused together; 1–2 commit; 3 alone is refused (its attempt); the failure is written.
    expect(count(commands, 'TransactWriteItemsCommand')).toBe(3);
    expect(summaries[0]).toMatchObject({ applied: 2, handlerFailures: 1 });

    // The second attempt parks it (maxAttempts 2); events 4–6, which ran after it, commit in the
    // same delivery (the refused request is cut again without it).
    commands.splice(0);
    const second = await consumer({ Records: event.Records.slice(2) } as typeof event, fakeLambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    expect(summaries[1]).toMatchObject({ applied: 3, parked: 1, handlerFailures: 1 });
    // All four refused together; 3 alone refused again (parked); 4–6 together.
    expect(count(commands, 'TransactWriteItemsCommand')).toBe(3);
    const after = await effects(aws, effectTable);
    expect([...after.keys()].sort()).toEqual(['r@1', 'r@2', 'r@3', 'r@4', 'r@5', 'r@6']);
    expect([...after.values()].filter((times) => times !== 1)).toEqual([7]);
  });

  test('splits an aggregate whose staged writes pass 100 actions, each request advancing the checkpoint', async ({
    aws,
  }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    const { consumer } = consumerWith({
      name: 'tx-actions',
      handlers: {
        // 30 writes per event: three events (90 writes) and the checkpoint fit in one request.
        CounterIncremented: (event, { transaction }) => {
          for (let index = 0; index < 30; index += 1) {
            transaction.put({
              TableName: effectTable,
              Item: marshall({ pk: `${event.aggregate.id}#${index}`, sk: String(event.version) }),
              ConditionExpression: 'attribute_not_exists(pk)',
            });
          }
        },
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });
    const event = kinesisEventFromEnvelopes(counterHistory('s', 10));

    const response = await consumer(event, fakeLambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect((await effects(aws, effectTable)).size).toBe(300);
    // 10 events × 30 writes: requests of 3, 3, 3 and 1 events.
    expect(count(commands, 'TransactWriteItemsCommand')).toBe(4);
    const checkpoint = unmarshall(
      (
        await aws.dynamodb.send(new ScanCommand({ TableName: checkpoints, ConsistentRead: true }))
      ).Items!.find((item) => item.sk?.S === 'checkpoint')!,
    );
    expect(checkpoint).toMatchObject({ version: 10, revision: 4 });

    // Delivered again: nothing twice.
    commands.splice(0);
    await consumer(event, fakeLambdaContext());
    expect(commands).toEqual(['BatchGetItemCommand']);
  });

  test('splits an aggregate whose staged writes pass 4 MB', async ({ aws }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    const payload = 'x'.repeat(340 * 1024);
    const { consumer } = consumerWith({
      name: 'tx-bytes',
      handlers: {
        // Three items of 340 KB per event (about 1 MB): three events fit in a request, four would pass 4 MB.
        CounterIncremented: (event, { transaction }) => {
          for (let index = 0; index < 3; index += 1) {
            transaction.put({
              TableName: effectTable,
              Item: marshall({ pk: `${event.aggregate.id}#${index}`, sk: String(event.version), payload }),
            });
          }
        },
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });
    const event = kinesisEventFromEnvelopes(counterHistory('b', 7));

    const response = await consumer(event, fakeLambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect((await effects(aws, effectTable)).size).toBe(21);
    expect(count(commands, 'TransactWriteItemsCommand')).toBe(3);
  });

  test('never puts two writes to one item in a request: an Update per event of one counter item commits once per event', async ({
    aws,
  }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    const { consumer } = consumerWith({
      name: 'tx-same-item',
      handlers: {
        CounterIncremented: (event, { transaction }) => {
          transaction.update({
            TableName: effectTable,
            Key: marshall({ pk: event.aggregate.id, sk: 'count' }),
            UpdateExpression: 'ADD applications :one',
            ExpressionAttributeValues: marshall({ ':one': 1 }),
          });
        },
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });
    const event = kinesisEventFromEnvelopes(counterHistory('u', 5));

    expect((await consumer(event, fakeLambdaContext())).batchItemFailures).toEqual([]);
    await consumer(event, fakeLambdaContext());

    expect((await effects(aws, effectTable)).get('u@count')).toBe(5);
    expect(count(commands, 'TransactWriteItemsCommand')).toBe(5);
  });

  test('learns that Puts whose key it cannot see touch one item, and splits them from then on', async ({
    aws,
  }) => {
    const { checkpoints, effectTable, client, commands } = await setup(aws);
    const { consumer, summaries } = consumerWith({
      name: 'tx-same-put',
      maxAttempts: 1,
      handlers: {
        // One row per aggregate, rewritten by every event.
        CounterIncremented: (event, { transaction }) => {
          transaction.put({
            TableName: effectTable,
            Item: marshall({ pk: event.aggregate.id, sk: 'row', applications: event.version }),
          });
        },
      },
      checkpoints: { tableName: checkpoints, dynamodb: client },
    });

    const first = await consumer(kinesisEventFromEnvelopes(counterHistory('p', 4)), fakeLambdaContext());
    expect(first.batchItemFailures).toEqual([]);
    // Refused once as a whole, then one request per event; nothing is counted against an event.
    expect(count(commands.splice(0), 'TransactWriteItemsCommand')).toBe(5);
    expect(summaries[0]).toMatchObject({ applied: 4, handlerFailures: 0, parked: 0 });
    expect((await effects(aws, effectTable)).get('p@row')).toBe(4);

    const second = await consumer(kinesisEventFromEnvelopes(counterHistory('q', 3)), fakeLambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    expect(count(commands.splice(0), 'TransactWriteItemsCommand')).toBe(3);
  });
});
