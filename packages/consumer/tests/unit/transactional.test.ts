import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import { EarlierCommitError, TransactionLimitError } from '../../src/errors';
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
  it("commits the staged writes of all of an aggregate's events and its checkpoint in one TransactWriteItems", async () => {
    const h = transactionalHarness(entry, putEffect);

    const response = await h.handle(kinesisEvent([...history('a', 1, 3), ...history('b', 1, 2)]));

    expect(response.batchItemFailures).toEqual([]);
    expect(h.effects()).toEqual(['a@1', 'a@2', 'a@3', 'b@1', 'b@2']);
    expect(h.db.count('TransactWriteItems')).toBe(2);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(0);
    expect(h.checkpoint('a')).toMatchObject({ version: 3, revision: 1 });
    expect(h.checkpoint('b')).toMatchObject({ version: 2, revision: 1 });
    const transactions = h.db.requests.filter((request) => request.operation === 'TransactWriteItems');
    expect(transactions.map((request) => (request.input.TransactItems as unknown[]).length).sort()).toEqual([
      3, 4,
    ]);
    expect(transactions[0]!.input.ClientRequestToken).toEqual(expect.any(String));
  });

  it('commits events that stage nothing in the same transaction as the ones that stage writes', async () => {
    const h = transactionalHarness(entry, (event, context) => {
      if (event.version === 1) putEffect(event, context);
    });

    await h.handle(kinesisEvent(history('a', 1, 3)));

    expect(h.db.count('TransactWriteItems')).toBe(1);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(0);
    expect(h.checkpoint('a')).toMatchObject({ version: 3, revision: 1 });
  });

  it('commits the events before a handler failure with the failure, in one transaction', async () => {
    const h = transactionalHarness(entry, (event, context) => {
      if (event.version === 3) throw new Error('boom');
      putEffect(event, context);
    });
    const event = kinesisEvent(history('a', 1, 4));

    const response = await h.handle(event);

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[2]!.kinesis.sequenceNumber },
    ]);
    expect(h.effects()).toEqual(['a@1', 'a@2']);
    expect(h.db.count('TransactWriteItems')).toBe(1);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(0);
    expect(h.checkpoint('a')).toMatchObject({ version: 2, failure: { version: 3, attempts: 1 } });
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

  it('keeps the requests already committed when a later one of the same aggregate fails, and applies the rest once on redelivery', async () => {
    // 60 writes per event: two events never fit in one request (100 actions), so each goes alone.
    const h = transactionalHarness(entry, (event, context) => {
      for (let index = 0; index < 60; index += 1) {
        context.transaction.put({
          TableName: EFFECTS,
          Item: marshall({ pk: 'effect', sk: `${event.aggregate.id}@${event.version}#${index}` }),
          ConditionExpression: 'attribute_not_exists(pk)',
        });
      }
    });
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
    expect(h.effects()).toHaveLength(60);
    expect(h.checkpoint('a')).toMatchObject({ version: 1, revision: 1 });

    const again = await h.handle(event);
    expect(again.batchItemFailures).toEqual([]);
    expect(h.effects()).toHaveLength(180);
    expect(h.checkpoint('a')).toMatchObject({ version: 3, revision: 3 });
  });

  it('parks an event whose staged write is refused on its last attempt; the events after it commit at once, or come again when something else changed between', async () => {
    const h = transactionalHarness(
      entry,
      (event, context) => {
        if (event.aggregate.id !== 'a' || event.version !== 3) putEffect(event, context);
      },
      1,
    );
    h.db.put(EFFECTS, marshall({ pk: 'effect', sk: 'a@2' }));
    h.db.put(EFFECTS, marshall({ pk: 'effect', sk: 'b@1' }));
    const event = kinesisEvent([...history('a', 1, 4), ...history('b', 1, 3)]);

    const first = await h.handle(event);

    // a: version 3 stages nothing, so what came after the parked version 2 changed the draft:
    // versions 3–4 come again. b: versions 2–3 follow the parked version 1 directly: they commit.
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }]);
    expect(h.checkpoint('a')).toMatchObject({ version: 2, parked: new Set([2]) });
    expect(h.checkpoint('b')).toMatchObject({ version: 3, parked: new Set([1]) });
    expect(h.effects()).toEqual(['a@1', 'a@2', 'b@1', 'b@2', 'b@3']);

    const again = await h.handle(kinesisEvent(history('a', 3, 4)));
    expect(again.batchItemFailures).toEqual([]);
    expect(h.checkpoint('a')).toMatchObject({ version: 4 });
    expect(h.effects()).toEqual(['a@1', 'a@2', 'a@4', 'b@1', 'b@2', 'b@3']);
  });

  it('lets a handler commit the earlier events before it reads what they wrote (commitEarlier)', async () => {
    const seen: string[][] = [];
    const h = transactionalHarness(entry, async (event, context) => {
      if (event.version === 3) {
        await context.transaction.commitEarlier();
        seen.push(h.effects());
      }
      putEffect(event, context);
    });

    const response = await h.handle(kinesisEvent(history('a', 1, 4)));

    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([['a@1', 'a@2']]);
    expect(h.effects()).toEqual(['a@1', 'a@2', 'a@3', 'a@4']);
    // Versions 1–2 when asked, then 3–4 with the checkpoint at the end.
    expect(h.db.count('TransactWriteItems')).toBe(2);
    expect(h.checkpoint('a')).toMatchObject({ version: 4, revision: 2 });
    expect(h.summaries[0]).toMatchObject({ applied: 4, handlerFailures: 0 });
  });

  it('stops at the event that asked when committing the earlier events fails, counting nothing, even if the handler swallows the error', async () => {
    const caught: unknown[] = [];
    const h = transactionalHarness(entry, async (event, context) => {
      if (event.version === 2) {
        try {
          await context.transaction.commitEarlier();
        } catch (error) {
          caught.push(error);
        }
      }
      putEffect(event, context);
    });
    h.db.failNext(
      'TransactWriteItems',
      Object.assign(new Error('injected'), { name: 'InternalServerError' }),
    );
    const event = kinesisEvent(history('a', 1, 3));

    const response = await h.handle(event);

    expect(caught).toHaveLength(1);
    expect(caught[0]).toBeInstanceOf(EarlierCommitError);
    expect((caught[0] as EarlierCommitError).code).toBe('EARLIER_COMMIT_FAILED');
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.kinesis.sequenceNumber },
    ]);
    expect(h.effects()).toEqual([]);
    expect(h.checkpoint('a')?.failure).toBeUndefined();
    expect(h.summaries[0]).toMatchObject({ applied: 0, handlerFailures: 0 });

    const again = await h.handle(event);
    expect(again.batchItemFailures).toEqual([]);
    expect(h.effects()).toEqual(['a@1', 'a@2', 'a@3']);
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
