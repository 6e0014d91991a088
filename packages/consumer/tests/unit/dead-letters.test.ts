import { ConfigurationError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import { createDeadLetters } from '../../src/dead-letters';
import { DeadLetterNotFoundError, DeadLetterNotRedrivableError } from '../../src/errors';
import {
  history,
  kinesisEvent,
  lambdaContext,
  memoryLogger,
  rawRecord,
  taskEnvelope,
  taskEvents,
} from '../helpers/events';
import { FakeDynamoDb } from '../helpers/fake-dynamodb';
import { NAME, TABLE } from '../helpers/harness';

function setup(options: { maxAttempts?: number; transactional?: boolean } = {}) {
  const db = new FakeDynamoDb();
  const applied: string[] = [];
  const failing = new Set<string>();
  const record = (event: { aggregate: { id: string }; version: number }, redrive: boolean) => {
    const key = `${event.aggregate.id}@${event.version}`;
    if (failing.has(key)) throw new Error(`refusing ${key}`);
    applied.push(redrive ? `${key} (redrive)` : key);
  };
  const consumer = createConsumer({
    name: NAME,
    events: taskEvents,
    handlers: {
      TaskCreated: (event, context) => record(event, context.redrive),
      TaskRenamed: (event, context) => record(event, context.redrive),
    },
    checkpoints: { tableName: TABLE, dynamodb: db as never },
    maxAttempts: options.maxAttempts ?? 1,
    logger: memoryLogger(),
  });
  return { db, consumer, applied, failing };
}

describe('consumer.deadLetters', () => {
  it('lists dead letters a page at a time, gets and deletes them', async () => {
    const { consumer } = setup();
    await consumer(kinesisEvent([rawRecord('one'), rawRecord('two'), rawRecord('three')]), lambdaContext());

    const first = await consumer.deadLetters.list({ limit: 2 });
    const second = await consumer.deadLetters.list({ limit: 2, cursor: first.cursor! });

    expect(first.items).toHaveLength(2);
    expect(first.cursor).toEqual(expect.any(String));
    expect(second.items).toHaveLength(1);
    expect(second.cursor).toBeUndefined();
    const letter = await consumer.deadLetters.get(first.items[0]!.id);
    expect(letter).toMatchObject({ consumer: NAME, reason: 'undecodable' });
    expect(Buffer.from(letter.record.data, 'base64').toString()).toMatch(/one|two|three/);

    await consumer.deadLetters.delete(letter.id);
    await expect(consumer.deadLetters.get(letter.id)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    await expect(consumer.deadLetters.delete(letter.id)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });

  it('redrives a parked event once: applied, removed from the checkpoint, dead letter deleted', async () => {
    const { consumer, applied, failing, db } = setup();
    failing.add('a@2');
    await consumer(kinesisEvent(history('a', 1, 3)), lambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;
    failing.clear();

    const result = await consumer.deadLetters.redrive(letter!.id);

    expect(result).toEqual({ id: letter!.id, outcome: 'applied' });
    expect(applied).toEqual(['a@1', 'a@3', 'a@2 (redrive)']);
    expect((await consumer.deadLetters.list()).items).toEqual([]);
    const checkpoint = db.get(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint')!;
    expect(checkpoint.parked).toBeUndefined();
    expect(checkpoint.version).toEqual({ N: '3' });
  });

  it('answers duplicate when a parked event was already redriven', async () => {
    const { consumer, failing, db, applied } = setup();
    failing.add('a@1');
    await consumer(kinesisEvent([taskEnvelope('a', 1)]), lambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;
    const stored = db.get(TABLE, `consumer#${NAME}#dead-letters`, letter!.id)!;
    failing.clear();
    await consumer.deadLetters.redrive(letter!.id);
    db.put(TABLE, stored);

    const again = await consumer.deadLetters.redrive(letter!.id);

    expect(again).toEqual({ id: letter!.id, outcome: 'duplicate' });
    expect(applied).toEqual(['a@1 (redrive)']);
  });

  it('keeps a dead letter that fails again, counting the redrive', async () => {
    const { consumer, failing } = setup();
    failing.add('a@1');
    await consumer(kinesisEvent([taskEnvelope('a', 1)]), lambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;

    const result = await consumer.deadLetters.redrive(letter!.id);

    expect(result.outcome).toBe('parked');
    expect(result.deadLetter).toMatchObject({ reason: 'handler-failed', redriveAttempts: 1, attempts: 2 });
    expect(await consumer.deadLetters.get(letter!.id)).toMatchObject({ redriveAttempts: 1 });
  });

  it('keeps an undecodable record parked on redrive', async () => {
    const { consumer } = setup();
    await consumer(kinesisEvent([rawRecord('garbage')]), lambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;

    const result = await consumer.deadLetters.redrive(letter!.id);

    expect(result).toMatchObject({
      outcome: 'parked',
      deadLetter: { reason: 'undecodable', redriveAttempts: 1 },
    });
  });

  it('refuses to redrive a gap report', async () => {
    const db = new FakeDynamoDb();
    const consumer = createConsumer({
      name: NAME,
      events: taskEvents,
      handlers: { TaskCreated: () => {} },
      checkpoints: { tableName: TABLE, dynamodb: db as never },
      gapTimeoutSeconds: 0,
      logger: memoryLogger(),
    });
    await consumer(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 3)]), lambdaContext());
    const [letter] = (await consumer.deadLetters.list()).items;

    expect(letter).toMatchObject({ reason: 'gap-expired', missing: { from: 2, to: 2 } });
    await expect(consumer.deadLetters.redrive(letter!.id)).rejects.toBeInstanceOf(
      DeadLetterNotRedrivableError,
    );
  });

  it('throws DeadLetterNotFoundError when redriving an unknown id', async () => {
    const { consumer } = setup();
    await expect(consumer.deadLetters.redrive('nope')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });

  it('keeps the whole of an oversized foreign record, chunked, and deletes the chunks with the dead letter', async () => {
    const { consumer, db } = setup();
    const data = new Uint8Array(900 * 1024).map((_, index) => index % 251);
    await consumer(kinesisEvent([rawRecord(data)]), lambdaContext());

    const [letter] = (await consumer.deadLetters.list()).items;

    expect(letter!.record).toMatchObject({ dataBytes: 900 * 1024 });
    expect(letter!.record.dataTruncated).toBeUndefined();
    expect(Buffer.from(letter!.record.data, 'base64').equals(Buffer.from(data))).toBe(true);
    expect(
      Buffer.from((await consumer.deadLetters.get(letter!.id)).record.data, 'base64').equals(
        Buffer.from(data),
      ),
    ).toBe(true);
    expect((await consumer.deadLetters.redrive(letter!.id)).outcome).toBe('parked');

    await consumer.deadLetters.delete(letter!.id);
    expect(db.items(TABLE).filter((item) => item.pk!.S!.includes('dead-letter'))).toEqual([]);
  });

  it('parks the same record once however often it is delivered', async () => {
    const { consumer } = setup();
    const event = kinesisEvent([rawRecord('garbage')]);

    await consumer(event, lambdaContext());
    await consumer(event, lambdaContext());

    expect((await consumer.deadLetters.list()).items).toHaveLength(1);
  });
});

describe('createDeadLetters', () => {
  it('reads and deletes the dead letters of a consumer without its handlers', async () => {
    const { consumer, db } = setup();
    await consumer(kinesisEvent([rawRecord('garbage')]), lambdaContext());
    const deadLetters = createDeadLetters({ consumer: NAME, tableName: TABLE, dynamodb: db as never });

    const { items } = await deadLetters.list();
    expect(items).toHaveLength(1);
    expect(await deadLetters.get(items[0]!.id)).toEqual(items[0]);
    await deadLetters.delete(items[0]!.id);
    expect((await deadLetters.list()).items).toEqual([]);
  });

  it('rejects unknown options and bad limits', async () => {
    const unknown = (() => {
      try {
        createDeadLetters({ consumer: NAME, tableName: TABLE, table: 'x' } as never);
      } catch (error) {
        return error;
      }
    })();
    expect(unknown).toBeInstanceOf(ConfigurationError);
    expect(unknown).toMatchObject({ factory: 'createDeadLetters', option: 'table' });
    expect(() => createDeadLetters({ consumer: '', tableName: TABLE })).toThrow(
      expect.objectContaining({ option: 'consumer' }),
    );
    const deadLetters = createDeadLetters({
      consumer: NAME,
      tableName: TABLE,
      dynamodb: new FakeDynamoDb() as never,
    });
    for (const [page, option] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ limit: 2.5 }, 'limit'],
      [{ cursor: 7 }, 'cursor'],
      [{ limt: 5 }, 'limt'],
    ] as const) {
      const rejection = deadLetters.list(page as never);
      await expect(rejection).rejects.toBeInstanceOf(ConfigurationError);
      await expect(rejection).rejects.toMatchObject({ factory: 'deadLetters.list', option });
      // The consumer's own dead letters check a page the same way.
      const fromConsumer = setup().consumer.deadLetters.list(page as never);
      await expect(fromConsumer).rejects.toBeInstanceOf(ConfigurationError);
      await expect(fromConsumer).rejects.toMatchObject({ factory: 'deadLetters.list', option });
    }
  });

  it('consumer.deadLetters and createDeadLetters take the same limits: integers from 1 to 1000', async () => {
    const { db, consumer } = setup();
    const standalone = createDeadLetters({ consumer: NAME, tableName: TABLE, dynamodb: db as never });
    for (const letters of [consumer.deadLetters, standalone]) {
      for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
        await expect(letters.list({ limit })).rejects.toThrow(ConfigurationError);
        await expect(letters.list({ limit })).rejects.toMatchObject({
          factory: 'deadLetters.list',
          option: 'limit',
        });
      }
      for (const limit of [1, 1000]) await expect(letters.list({ limit })).resolves.toEqual({ items: [] });
    }
  });
});
