/**
 * Packing runs of one aggregate into one Kinesis record (the CloudEvents JSON batch format), on the
 * strict Kinesis model of `@tidemark/testing/fakes` (which refuses what Kinesis refuses: records
 * over 1 MiB with their key, calls over 500 records or 5 MiB), under the default options.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  decodeEnvelopeRecord,
  type EventEnvelope,
  eventLogItemFromEnvelope,
  eventLogTableDescription,
  KINESIS_LIMITS,
} from '@tidemark/core';
import { FakeDynamoDB, FakeKinesis } from '@tidemark/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createPublisher, type PublisherOptions, replay } from '../../src/index';
import { envelopesFor, memoryLogger, streamEventOf } from '../helpers/fakes';

const STREAM = 'events';

function setup(options: Partial<PublisherOptions> = {}) {
  const kinesis = new FakeKinesis();
  kinesis.createStream(STREAM, 2);
  const publisher = createPublisher({
    kinesis: kinesis.client,
    streamName: STREAM,
    logger: memoryLogger().logger,
    retry: { retries: 3, minTimeoutMs: 0, maxTimeoutMs: 1 },
    ...options,
  } as PublisherOptions);
  return { kinesis, publisher };
}

/** Every Kinesis record of the stream, decoded: its partition key and its events. */
function recordsOf(kinesis: FakeKinesis) {
  return kinesis.records(STREAM).map((record) => ({
    key: record.PartitionKey,
    bytes: record.Data.byteLength + new TextEncoder().encode(record.PartitionKey).byteLength,
    format: decodeEnvelopeRecord(record.Data).format,
    events: decodeEnvelopeRecord(record.Data).entries.map((entry) => {
      if (!entry.success) throw entry.error;
      return entry.envelope;
    }),
  }));
}

/** Per aggregate key, versions in stream order (each aggregate stays on one shard). */
function versionsByKey(kinesis: FakeKinesis): Map<string, number[]> {
  const versions = new Map<string, number[]>();
  for (const record of recordsOf(kinesis)) {
    for (const event of record.events) {
      expect(record.key).toBe(`${event.aggregatetype}#${event.aggregateid}`);
      versions.set(record.key, [...(versions.get(record.key) ?? []), event.aggregateversion]);
    }
  }
  return versions;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('createPublisher packing (default options)', () => {
  it('publishes 1 aggregate × 1,000 small events in one PutRecords call, in version order', async () => {
    const { kinesis, publisher } = setup();
    const response = await publisher.publishBatch(streamEventOf(envelopesFor('hot', 1, 1000)));
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.requestCounts.PutRecords).toBe(1);
    expect(response.summary).toMatchObject({
      published: 1000,
      calls: 1,
      waves: 1,
      kinesisRecords: 1,
      packedRecords: 1,
    });
    expect(versionsByKey(kinesis).get('Task#hot')).toEqual(range(1, 1000));
    expect(recordsOf(kinesis)[0]!.format).toBe('batch');
  });

  it('publishes 100 aggregates × 10 events in one call of 100 records', async () => {
    const { kinesis, publisher } = setup();
    const envelopes = range(0, 99).flatMap((a) => envelopesFor(`t${a}`, 1, 10));
    // Interleaved, as a stream of many writers delivers them.
    const interleaved = range(0, 9).flatMap((v) => range(0, 99).map((a) => envelopes[a * 10 + v]!));
    const response = await publisher.publishBatch(streamEventOf(interleaved));
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.requestCounts.PutRecords).toBe(1);
    expect(response.summary).toMatchObject({ published: 1000, kinesisRecords: 100, packedRecords: 100 });
    for (const [, versions] of versionsByKey(kinesis)) expect(versions).toEqual(range(1, 10));
  });

  it('publishes 1,000 aggregates × 1 event as plain envelopes in 2 calls, as before', async () => {
    const { kinesis, publisher } = setup();
    const envelopes = range(0, 999).flatMap((a) => envelopesFor(`t${a}`, 1, 1));
    const response = await publisher.publishBatch(streamEventOf(envelopes));
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.requestCounts.PutRecords).toBe(2);
    expect(response.summary).toMatchObject({ kinesisRecords: 1000, packedRecords: 0 });
    expect(recordsOf(kinesis).every((record) => record.format === 'single')).toBe(true);
  });

  it('splits a run past 1 MiB into records of at most 1 MiB, one per wave, in order', async () => {
    const { kinesis, publisher } = setup();
    // 40 events of about 100 KB with multi-byte characters: about 4 MB, so at least 4 records.
    const envelopes = envelopesFor('big', 1, 40, { pad: 'é€😀'.repeat(11_000) });
    const response = await publisher.publishBatch(streamEventOf(envelopes));
    expect(response.batchItemFailures).toEqual([]);
    const records = recordsOf(kinesis);
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.every((record) => record.bytes <= KINESIS_LIMITS.maxRecordBytes)).toBe(true);
    // Each record is as full as the next event allows.
    const eventBytes = records[0]!.bytes / records[0]!.events.length;
    for (const record of records.slice(0, -1)) {
      expect(record.bytes + eventBytes).toBeGreaterThan(KINESIS_LIMITS.maxRecordBytes);
    }
    expect(response.summary.waves).toBe(records.length);
    expect(versionsByKey(kinesis).get('Task#big')).toEqual(range(1, 40));
  });

  it('never packs across a gap: the versions after it go in a record of their own', async () => {
    const { kinesis, publisher } = setup();
    const envelopes = envelopesFor('a', 1, 6);
    const response = await publisher.publishBatch(
      streamEventOf([envelopes[0]!, envelopes[1]!, envelopes[3]!, envelopes[4]!, envelopes[5]!]),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(recordsOf(kinesis).map((record) => record.events.map((event) => event.aggregateversion))).toEqual([
      [1, 2],
      [4, 5, 6],
    ]);
  });

  it('never packs a poison record: the run before it goes out, nothing after it, and its stream record is reported', async () => {
    const { kinesis, publisher } = setup();
    const envelopes = envelopesFor('a', 1, 5);
    const oversized = envelopesFor('a', 3, 3, { pad: 'x'.repeat(KINESIS_LIMITS.maxRecordBytes) })[0]!;
    const event = streamEventOf([envelopes[0]!, envelopes[1]!, oversized, envelopes[3]!, envelopes[4]!]);
    const response = await publisher.publishBatch(event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[2]!.dynamodb!.SequenceNumber },
    ]);
    expect(versionsByKey(kinesis).get('Task#a')).toEqual([1, 2]);
    expect(response.summary).toMatchObject({ published: 2, failed: 3, poison: 1 });
  });

  it('fails every event of a packed record that Kinesis refuses, and reports the earliest of them', async () => {
    const { kinesis, publisher } = setup({ retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 } });
    kinesis.setFaults({ entryInternalFailureRate: 1 });
    const a = envelopesFor('a', 1, 3);
    const b = envelopesFor('b', 1, 1);
    const event = streamEventOf([b[0]!, a[1]!, a[0]!, a[2]!]);
    const response = await publisher.publishBatch(event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(response.summary).toMatchObject({ published: 0, failed: 4 });
    expect(kinesis.records(STREAM)).toHaveLength(0);
  });

  it('keeps a packed run on one stream: a route change ends the run', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream('first', 1);
    kinesis.createStream('second', 1);
    const publisher = createPublisher({
      kinesis: kinesis.client,
      route: (envelope) => (envelope.aggregateversion <= 2 ? 'first' : 'second'),
      logger: memoryLogger().logger,
    });
    const response = await publisher.publishBatch(streamEventOf(envelopesFor('a', 1, 4)));
    expect(response.batchItemFailures).toEqual([]);
    const versionsOn = (stream: string) =>
      kinesis
        .records(stream)
        .map((record) =>
          decodeEnvelopeRecord(record.Data).entries.map((entry) =>
            entry.success ? entry.envelope.aggregateversion : -1,
          ),
        );
    expect(versionsOn('first')).toEqual([[1, 2]]);
    expect(versionsOn('second')).toEqual([[3, 4]]);
  });

  it('rejects a packRuns that is not a boolean', () => {
    expect(() => createPublisher({ streamName: STREAM, packRuns: 'yes' as never })).toThrow(/packRuns/);
  });
});

describe('replay packing', () => {
  it('republishes 1 aggregate × 1,000 events in a few calls, in version order', async () => {
    const dynamodb = new FakeDynamoDB();
    await dynamodb.client.send(new CreateTableCommand(eventLogTableDescription('log')));
    const envelopes: EventEnvelope[] = envelopesFor('hot', 1, 1000);
    dynamodb.seed(
      'log',
      envelopes.map((envelope) =>
        marshall(eventLogItemFromEnvelope(envelope), { removeUndefinedValues: true }),
      ),
    );
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 1);
    const result = await replay({
      tableName: 'log',
      streamName: STREAM,
      dynamodb: dynamodb.client,
      kinesis: kinesis.client,
      logger: memoryLogger().logger,
    });
    expect(result.complete).toBe(true);
    // Pages of 500 items: one packed record each.
    expect(kinesis.requestCounts.PutRecords).toBe(2);
    expect(versionsByKey(kinesis).get('Task#hot')).toEqual(range(1, 1000));
  });
});
