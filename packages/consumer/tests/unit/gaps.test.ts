import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import {
  history,
  kinesisEvent,
  lambdaContext,
  memoryLogger,
  taskEnvelope,
  taskEvents,
} from '../helpers/events';
import { FakeDynamoDb } from '../helpers/fake-dynamodb';
import { NAME, TABLE } from '../helpers/harness';

function setup() {
  const db = new FakeDynamoDb();
  const applied: string[] = [];
  const clock = { now: new Date('2026-11-23T12:00:00.000Z') };
  const record = (event: { aggregate: { id: string }; version: number }) =>
    void applied.push(`${event.aggregate.id}@${event.version}`);
  const consumer = createConsumer({
    name: NAME,
    events: taskEvents,
    handlers: { TaskCreated: record, TaskRenamed: record },
    checkpoints: { tableName: TABLE, dynamodb: db as never },
    gapTimeoutSeconds: 600,
    logger: memoryLogger(),
    clock: () => clock.now,
  });
  const gapEntries = () =>
    db
      .items(TABLE)
      .filter((item) => item.pk!.S === `consumer#${NAME}#gaps`)
      .map((item) => unmarshall(item));
  return { db, consumer, applied, clock, gapEntries };
}

describe('the open-gap index', () => {
  it('gets an entry when a gap opens, in the same transaction as the checkpoint that holds the record', async () => {
    const { db, consumer, gapEntries } = setup();

    await consumer(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 3)]), lambdaContext());

    expect(gapEntries()).toEqual([
      expect.objectContaining({
        sk: 'Task#a',
        aggregateType: 'Task',
        aggregateId: 'a',
        openSince: '2026-11-23T12:00:00.000Z',
      }),
    ]);
    expect(db.count('TransactWriteItems')).toBe(1);
    expect(db.count('PutItem')).toBe(1); // the held record
    expect(db.markerWrites()).toBe(1); // the in-flight marker (an UpdateItem)
    expect(db.count()).toBe(4);
    expect(await consumer.gaps.list()).toEqual([
      { aggregate: { type: 'Task', id: 'a' }, openSince: '2026-11-23T12:00:00.000Z' },
    ]);
  });

  it('loses the entry when the gap closes, in the same transaction as the checkpoint', async () => {
    const { db, consumer, gapEntries } = setup();
    const [v1, v2, v3] = history('a', 1, 3);
    await consumer(kinesisEvent([v1!, v3!]), lambdaContext());
    const before = db.count('TransactWriteItems') + db.count('BatchWriteItem') + db.count('PutItem');

    await consumer(kinesisEvent([v2!]), lambdaContext());

    expect(gapEntries()).toEqual([]);
    // The claim (a conditional checkpoint write, so a gap sweep cannot run the held record at the
    // same time), one transaction (checkpoint + index entry), one BatchWriteItem deleting the held record.
    expect(db.count('TransactWriteItems') + db.count('BatchWriteItem') + db.count('PutItem') - before).toBe(
      3,
    );
    expect(await consumer.gaps.list()).toEqual([]);
  });

  it('costs no index write while a gap stays open', async () => {
    const { db, consumer } = setup();
    const [v1, , v3, v4] = history('a', 1, 4);
    await consumer(kinesisEvent([v1!, v3!]), lambdaContext());
    const before = db.count('BatchWriteItem') + db.count('PutItem');

    await consumer(kinesisEvent([v4!]), lambdaContext());

    // One PutItem for the held record, one for the checkpoint.
    expect(db.count('BatchWriteItem') + db.count('PutItem') - before).toBe(2);
  });
});

describe('consumer.gaps.expire', () => {
  it('parks and skips gaps older than gapTimeoutSeconds for aggregates without further records', async () => {
    const { consumer, applied, clock, gapEntries } = setup();
    await consumer(
      kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 3), taskEnvelope('b', 1)]),
      lambdaContext(),
    );
    clock.now = new Date(clock.now.getTime() + 601_000);

    const result = await consumer.gaps.expire();

    expect(result).toEqual({ open: 0, expired: 1, stale: 0, applied: 1 });
    expect(applied).toEqual(expect.arrayContaining(['a@1', 'b@1', 'a@3']));
    expect(gapEntries()).toEqual([]);
    const [letter] = (await consumer.deadLetters.list()).items;
    expect(letter).toMatchObject({ reason: 'gap-expired', missing: { from: 2, to: 2 } });
  });

  it('leaves younger gaps open', async () => {
    const { consumer, applied } = setup();
    await consumer(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 3)]), lambdaContext());

    const result = await consumer.gaps.expire();

    expect(result).toEqual({ open: 1, expired: 0, stale: 0, applied: 0 });
    expect(applied).toEqual(['a@1']);
    expect(await consumer.gaps.list()).toHaveLength(1);
  });

  it('removes index entries of aggregates that hold nothing', async () => {
    const { db, consumer, gapEntries } = setup();
    await consumer(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 3)]), lambdaContext());
    // The checkpoint write after the index entry failed once: the entry is stale.
    await db.delete(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint');

    const result = await consumer.gaps.expire();

    expect(result).toMatchObject({ stale: 1, expired: 0 });
    expect(gapEntries()).toEqual([]);
  });
});
