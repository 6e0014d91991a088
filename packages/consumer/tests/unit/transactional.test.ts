import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import { TransactionLimitError } from '../../src/errors';
import type { BatchSummary, TransactionalHandlerContext } from '../../src/types';
import {
  history,
  kinesisEvent,
  lambdaContext,
  memoryLogger,
  taskEnvelope,
  taskEvents,
} from '../helpers/events';
import { FakeDynamoDb, isCheckpointRequest } from '../helpers/fake-dynamodb';
import { ENTRY_POINTS, handlerFor, NAME, TABLE } from '../helpers/harness';

const EFFECTS = 'effects';

function transactionalHarness(
  entry: (typeof ENTRY_POINTS)[number],
  stage: (
    event: { aggregate: { id: string }; version: number; type: string },
    context: TransactionalHandlerContext,
  ) => void,
  maxAttempts = 3,
) {
  const db = new FakeDynamoDb();
  const summaries: BatchSummary[] = [];
  const handler = (
    event: { aggregate: { id: string }; version: number; type: string },
    context: TransactionalHandlerContext,
  ) => stage(event, context);
  const handle = handlerFor(entry, {
    name: NAME,
    events: taskEvents,
    transactional: true,
    maxAttempts,
    handlers: { TaskCreated: handler, TaskRenamed: handler },
    checkpoints: { tableName: TABLE, dynamodb: db as never },
    logger: memoryLogger(),
    onBatchSummary: (summary) => summaries.push(summary),
  });
  const effects = () =>
    db
      .items(EFFECTS)
      .map((item) => unmarshall(item).sk as string)
      .sort();
  const checkpoint = (id: string) => {
    const item = db.get(TABLE, `consumer#${NAME}#Task#${id}`, 'checkpoint');
    return item ? unmarshall(item) : undefined;
  };
  return { db, handle, effects, checkpoint, summaries };
}

const putEffect = (
  event: { aggregate: { id: string }; version: number },
  context: TransactionalHandlerContext,
) =>
  context.transaction.put({
    TableName: EFFECTS,
    Item: marshall({ pk: 'effect', sk: `${event.aggregate.id}@${event.version}` }),
    ConditionExpression: 'attribute_not_exists(pk)',
  });

describe.each(ENTRY_POINTS)('transactional mode through %s', (entry) => {
  it('commits the staged writes and the checkpoint advance in one TransactWriteItems per event', async () => {
    const h = transactionalHarness(entry, putEffect);

    const response = await h.handle(kinesisEvent(history('a', 1, 2)));

    expect(response.batchItemFailures).toEqual([]);
    expect(h.effects()).toEqual(['a@1', 'a@2']);
    expect(h.db.count('TransactWriteItems')).toBe(2);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(0);
    expect(h.checkpoint('a')).toMatchObject({ version: 2, revision: 2 });
    const [first] = h.db.requests.filter((request) => request.operation === 'TransactWriteItems');
    expect((first!.input.TransactItems as unknown[]).length).toBe(2);
    expect(first!.input.ClientRequestToken).toEqual(expect.any(String));
  });

  it('writes the checkpoint once at the end for events that stage nothing', async () => {
    const h = transactionalHarness(entry, (event, context) => {
      if (event.version === 1) putEffect(event, context);
    });

    await h.handle(kinesisEvent(history('a', 1, 3)));

    expect(h.db.count('TransactWriteItems')).toBe(1);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(1);
    expect(h.checkpoint('a')).toMatchObject({ version: 3 });
  });

  it('counts a staged condition that fails as a handler failure: no effect, no advance', async () => {
    const h = transactionalHarness(entry, putEffect);
    h.db.put(EFFECTS, marshall({ pk: 'effect', sk: 'a@2' }));
    const event = kinesisEvent(history('a', 1, 3));

    const response = await h.handle(event);

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.kinesis.sequenceNumber },
    ]);
    expect(h.effects()).toEqual(['a@1', 'a@2']);
    expect(h.checkpoint('a')).toMatchObject({
      version: 1,
      failure: { version: 2, attempts: 1, lastError: expect.stringContaining('StagedWriteRejectedError') },
    });
  });

  it('does not count a DynamoDB failure of the transaction as an attempt, and applies once on redelivery', async () => {
    const h = transactionalHarness(entry, putEffect);
    h.db.failNext(
      'TransactWriteItems',
      Object.assign(new Error('injected'), { name: 'InternalServerError' }),
    );
    const event = kinesisEvent(history('a', 1, 2));

    const first = await h.handle(event);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.kinesis.sequenceNumber }]);
    expect(h.effects()).toEqual([]);
    expect(h.checkpoint('a')?.version ?? 0).toBe(0);
    expect(h.checkpoint('a')?.failure).toBeUndefined();

    const second = await h.handle(event);
    expect(second.batchItemFailures).toEqual([]);
    expect(h.effects()).toEqual(['a@1', 'a@2']);
    expect(h.checkpoint('a')).toMatchObject({ version: 2 });
    expect(h.checkpoint('a')!.failure).toBeUndefined();
  });

  it('keeps earlier committed events when a later transaction fails', async () => {
    const h = transactionalHarness(entry, putEffect);
    h.db.failNext('TransactWriteItems', () => undefined);
    h.db.failNext(
      'TransactWriteItems',
      Object.assign(new Error('injected'), { name: 'InternalServerError' }),
    );
    const event = kinesisEvent(history('a', 1, 3));

    const response = await h.handle(event);

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.kinesis.sequenceNumber },
    ]);
    expect(h.effects()).toEqual(['a@1']);
    expect(h.checkpoint('a')).toMatchObject({ version: 1 });
  });

  it('reports a checkpoint changed by another invocation during the transaction as a concurrent update', async () => {
    const h = transactionalHarness(entry, putEffect);
    await h.handle(kinesisEvent([taskEnvelope('a', 1)]));
    h.db.failNext('TransactWriteItems', () => {
      const item = h.db.get(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint')!;
      h.db.put(TABLE, { ...item, revision: { N: '9' } });
      return undefined;
    });

    const response = await h.handle(kinesisEvent([taskEnvelope('a', 2)]));

    expect(response.batchItemFailures).toHaveLength(1);
    expect(h.effects()).toEqual(['a@1']);
    expect(h.summaries[1]).toMatchObject({ concurrentUpdates: 1, handlerFailures: 0 });
  });

  it('refuses more than 99 staged writes with a TransactionLimitError and parks the event', async () => {
    let thrown: unknown;
    const h = transactionalHarness(
      entry,
      (event, context) => {
        try {
          for (let index = 0; index < 100; index += 1) {
            context.transaction.put({
              TableName: EFFECTS,
              Item: marshall({ pk: 'effect', sk: `${event.version}-${index}` }),
            });
          }
        } catch (error) {
          thrown = error;
          throw error;
        }
      },
      1,
    );

    const response = await h.handle(kinesisEvent([taskEnvelope('a', 1)]));

    expect(thrown).toBeInstanceOf(TransactionLimitError);
    expect((thrown as TransactionLimitError).limit).toBe(99);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.effects()).toEqual([]);
    expect(h.checkpoint('a')).toMatchObject({ version: 1, parked: new Set([1]) });
  });
});

describe('transactional context', () => {
  it('gives handlers a transaction only in transactional mode', async () => {
    const db = new FakeDynamoDb();
    const contexts: object[] = [];
    const consumer = createConsumer({
      name: NAME,
      events: taskEvents,
      handlers: { TaskCreated: (_event, context) => void contexts.push(context) },
      checkpoints: { tableName: TABLE, dynamodb: db as never },
      logger: memoryLogger(),
    });

    await consumer(kinesisEvent([taskEnvelope('a', 1)]), lambdaContext());

    expect(contexts[0]).not.toHaveProperty('transaction');
  });
});
