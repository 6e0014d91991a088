/**
 * Packed records: several events of one aggregate in one Kinesis record (the CloudEvents JSON batch
 * format the publisher writes). Each event is applied under the same rules as a record of its own;
 * a failure names the Kinesis record, and its redelivery skips the events already applied.
 */
import { decodeEnvelopeRecord, type EventEnvelope } from '@tidemark/core';
import { kinesisEventFromData, kinesisEventFromEnvelopeRuns } from '@tidemark/testing';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import type { KinesisEvent } from '../../src/types';
import { ARRIVAL, history, lambdaContext, memoryLogger, taskEnvelope, taskEvents } from '../helpers/events';
import { FakeDynamoDb, isCheckpointRequest } from '../helpers/fake-dynamodb';
import { ENTRY_POINTS, harness, NAME, TABLE } from '../helpers/harness';

const packed = (runs: readonly (readonly EventEnvelope[])[]): KinesisEvent =>
  kinesisEventFromEnvelopeRuns(runs, { approximateArrivalTimestamp: ARRIVAL }) as KinesisEvent;

/** The events a stored record's data holds. */
const eventsIn = (data: Uint8Array | string) =>
  decodeEnvelopeRecord(typeof data === 'string' ? Buffer.from(data, 'base64') : data).entries;

describe.each(ENTRY_POINTS)('packed records through %s', (entry) => {
  it('applies the events of a packed record in version order with one checkpoint write', async () => {
    const h = harness(entry);
    const event = packed([history('a', 1, 5), history('b', 1, 2)]);

    const response = await h.handle(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied.filter((key) => key.startsWith('a@'))).toEqual(['a@1', 'a@2', 'a@3', 'a@4', 'a@5']);
    expect(h.applied.filter((key) => key.startsWith('b@'))).toEqual(['b@1', 'b@2']);
    expect(h.db.count('PutItem', isCheckpointRequest)).toBe(2);
    expect(h.checkpoint('a')).toMatchObject({ version: 5 });
    expect(h.summaries[0]).toMatchObject({ records: 2, aggregates: 2, applied: 7, duplicates: 0 });
  });

  it('names the packed record on a failure inside it; the redelivery skips the events already applied', async () => {
    const h = harness(entry);
    const event = packed([history('a', 1, 2), history('a', 3, 6)]);
    h.failing.add('a@4');

    const first = await h.handle(event);

    // v1–v2 (record 0) and v3 (record 1) are applied; v4 failed, so record 1 is not done.
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]!.kinesis.sequenceNumber }]);
    expect(h.applied).toEqual(['a@1', 'a@2', 'a@3']);
    expect(h.checkpoint('a')).toMatchObject({ version: 3 });

    h.failing.clear();
    // Lambda redelivers from the failed record: the whole packed record again.
    const second = await h.handle({ Records: event.Records.slice(1) });

    expect(second.batchItemFailures).toEqual([]);
    expect(h.applied).toEqual(['a@1', 'a@2', 'a@3', 'a@4', 'a@5', 'a@6']);
    expect(h.summaries[1]).toMatchObject({ records: 1, applied: 3, duplicates: 1 });
  });

  it('parks an entry that is not an envelope alone, applies its neighbours, and stores that entry alone', async () => {
    const h = harness(entry);
    const [v1, v2, v3] = history('a', 1, 3);
    const bad = { ...taskEnvelope('a', 99), aggregateversion: 0 };
    const event = kinesisEventFromData(
      [{ data: JSON.stringify([v1, v2, bad, v3]), partitionKey: 'Task#a' }],
      { approximateArrivalTimestamp: ARRIVAL },
    ) as KinesisEvent;

    const response = await h.handle(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied).toEqual(['a@1', 'a@2', 'a@3']);
    const letters = h.deadLetters();
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter).toMatchObject({
      reason: 'invalid-envelope',
      id: `record#${event.Records[0]!.eventID}#2`,
    });
    const record = letter.record as { data: Uint8Array; dataBytes: number; batch: unknown };
    expect(record.batch).toEqual({ position: 2, size: 4 });
    expect(new TextDecoder().decode(record.data)).toBe(JSON.stringify(bad));
    expect(record.dataBytes).toBe(record.data.byteLength);
  });

  it('parks one record whose JSON is broken as one failure, not per event', async () => {
    const h = harness(entry);
    const text = JSON.stringify(history('a', 1, 3)).slice(0, -20);
    const event = kinesisEventFromData([{ data: text, partitionKey: 'Task#a' }]) as KinesisEvent;

    const response = await h.handle(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied).toEqual([]);
    expect(h.deadLetters()).toEqual([
      expect.objectContaining({ reason: 'undecodable', id: `record#${event.Records[0]!.eventID}` }),
    ]);
  });

  it('parks a payload the catalog refuses alone, under its own version, and applies the rest of the run', async () => {
    const h = harness(entry);
    const run = history('a', 1, 5);
    run[2] = taskEnvelope('a', 3, { data: { name: '', reason: 'empty name' } });

    const response = await h.handle(packed([run]));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied).toEqual(['a@1', 'a@2', 'a@4', 'a@5']);
    const letters = h.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'invalid-payload', version: 3, aggregate: { id: 'a' } });
    const stored = eventsIn((letters[0]!.record as { data: Uint8Array }).data);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ success: true, envelope: { aggregateversion: 3 } });
  });

  it('holds the events of a packed record behind a gap one by one, and applies them when the gap closes', async () => {
    const h = harness(entry);

    await h.handle(packed([history('a', 3, 5)]));
    expect(h.applied).toEqual([]);
    const held = h.held('a').filter((item) => item.record !== undefined);
    expect(held.map((item) => item.version).sort()).toEqual([3, 4, 5]);
    for (const item of held) {
      const entries = eventsIn((item.record as { data: Uint8Array }).data);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ envelope: { aggregateversion: item.version } });
    }

    const response = await h.handle(packed([history('a', 1, 2)]));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied).toEqual(['a@1', 'a@2', 'a@3', 'a@4', 'a@5']);
  });

  it("starts a new aggregate at a packed record's first version under firstContact 'any-version'", async () => {
    const h = harness(entry, { firstContact: 'any-version' });

    const response = await h.handle(packed([history('a', 5, 7)]));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.applied).toEqual(['a@5', 'a@6', 'a@7']);
    // Versions 1–4 are skipped and reported.
    expect(h.summaries[0]).toMatchObject({ firstContactSkips: 4 });
  });

  it('parks every event of a misrouted packed record under its own version', async () => {
    const h = harness(entry);
    const event = kinesisEventFromData([
      { data: JSON.stringify(history('a', 1, 2)), partitionKey: 'Task#elsewhere' },
    ]) as KinesisEvent;

    await h.handle(event);

    expect(h.applied).toEqual([]);
    expect(
      h
        .deadLetters()
        .map((letter) => [letter.reason, letter.version])
        .sort(),
    ).toEqual([
      ['misrouted', 1],
      ['misrouted', 2],
    ]);
  });
});

describe('a dead letter of one event of a packed record', () => {
  it('redrives that event alone and never re-applies its neighbours', async () => {
    const db = new FakeDynamoDb();
    const applied: string[] = [];
    const failing = new Set(['a@3']);
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
      maxAttempts: 1,
      logger: memoryLogger(),
    });

    const response = await consumer(packed([history('a', 1, 5)]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(applied).toEqual(['a@1', 'a@2', 'a@4', 'a@5']);
    const { items } = await consumer.deadLetters.list();
    expect(items).toHaveLength(1);
    const letter = items[0]!;
    expect(letter).toMatchObject({ reason: 'handler-failed', version: 3 });
    expect(letter.record.batch).toEqual({ position: 2, size: 5 });
    const stored = eventsIn(letter.record.data);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ success: true, envelope: { aggregateversion: 3 } });

    failing.clear();
    const result = await consumer.deadLetters.redrive(letter.id);

    expect(result.outcome).toBe('applied');
    expect(applied).toEqual(['a@1', 'a@2', 'a@4', 'a@5', 'a@3 (redrive)']);
    expect((await consumer.deadLetters.list()).items).toEqual([]);
  });
});
