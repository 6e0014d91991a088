import { memoryLogger } from '@tidemark/testing';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { batchItemFailures, reportBatchMetrics, summarizeBatch } from '../../src/batch-summary';
import { PublisherError } from '../../src/errors';
import type { OrderedPublishReport, OutgoingRecord, RecordOutcome } from '../../src/ordered-publish';
import type { ClassifiedRecord } from '../../src/record-classification';

const outgoing = (key: string, version: number): OutgoingRecord => ({
  key,
  stream: 'events',
  data: new Uint8Array([1]),
  size: 1 + key.length,
  describe: { aggregateKey: key, aggregateVersion: version },
  version,
});
const publish = (record: OutgoingRecord, poison = false): ClassifiedRecord => ({
  kind: 'publish',
  record,
  command: undefined,
  poison,
});
const report = (outcomes: RecordOutcome[], reasons = new Map<number, string>()): OrderedPublishReport => ({
  outcomes,
  reasons,
  calls: 1,
  waves: 1,
  retried: 2,
  kinesisRecords: outcomes.length,
  packedRecords: 0,
});
const noImages = { image: undefined, oldImage: undefined, keys: undefined };
const streamRecords = (count: number): DynamoDBRecord[] =>
  Array.from({ length: count }, (_, i) => ({ dynamodb: { SequenceNumber: String(100 + i) } }));

describe('summarizeBatch', () => {
  // Batch: a1 (published), a MODIFY of a1, b1 (failed), an unknown eventName; one completion from the log.
  const a1 = outgoing('Task#a', 1);
  const b1 = outgoing('Task#b', 1);
  const classified: ClassifiedRecord[] = [
    publish(a1),
    { kind: 'rewrite', reason: 'modify' },
    publish(b1),
    { kind: 'skip', reason: 'not-an-event' },
  ];
  const images = [noImages, { ...noImages, keys: { pk: 'Task#a', sk: 1 } }, noImages, noImages];
  const facts = {
    records: 4,
    classified,
    images,
    outgoing: [a1, b1],
    positions: [0, 2],
    // The completion (third outcome) is published; it is no stream record's and is not counted.
    report: report(['published', 'failed', 'published'], new Map([[1, 'throttled']])),
    completion: { commands: 1, queries: 1 },
  };

  it("counts what the batch came to and names the earliest record not published, with onHistoryRewrite 'log'", () => {
    const { summary, earliest, unpublished } = summarizeBatch({ ...facts, onHistoryRewrite: 'log' });
    expect(earliest).toBe(2);
    expect(unpublished).toEqual([
      { aggregateKey: 'Task#b', aggregateVersion: 1, outcome: 'failed', reason: 'throttled' },
    ]);
    expect(summary).toEqual({
      records: 4,
      published: 1,
      failed: 1,
      retried: 2,
      skipped: { modify: 1, remove: 0, notAnEvent: 1 },
      historyRewritten: 1,
      poison: 0,
      commandsCompleted: 1,
      completionQueries: 1,
      calls: 1,
      waves: 1,
      kinesisRecords: 3,
      packedRecords: 0,
    });
  });

  it("with onHistoryRewrite 'fail', the rewrite is the earliest record not published", () => {
    const { earliest, unpublished } = summarizeBatch({ ...facts, onHistoryRewrite: 'fail' });
    expect(earliest).toBe(1);
    expect(unpublished).toContainEqual({
      aggregateKey: 'Task#a',
      aggregateVersion: 1,
      outcome: 'failed',
      reason: 'history rewritten (modify)',
    });
  });

  it('says why a record was not attempted, and counts poison', () => {
    const poisoned = { ...outgoing('Task#c', 1), poison: 'too large' };
    const { summary, earliest, unpublished } = summarizeBatch({
      records: 1,
      classified: [publish(poisoned, true)],
      images: [noImages],
      outgoing: [poisoned],
      positions: [0],
      report: report(['not-attempted']),
      completion: { commands: 0, queries: 0 },
      onHistoryRewrite: 'log',
    });
    expect(earliest).toBe(0);
    expect(summary).toMatchObject({ published: 0, failed: 1, poison: 1 });
    expect(unpublished[0]).toMatchObject({
      outcome: 'not-attempted',
      reason: 'not attempted: an earlier event of its aggregate was not published, or time ran out',
    });
  });
});

describe('batchItemFailures', () => {
  it('names nothing when every record is done', () => {
    const { logger, lines } = memoryLogger();
    expect(batchItemFailures(streamRecords(2), { earliest: undefined, unpublished: [] }, logger)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('names the sequence number of the earliest record not published, and logs it', () => {
    const { logger, lines } = memoryLogger();
    const failures = batchItemFailures(streamRecords(3), { earliest: 1, unpublished: [{ a: 1 }] }, logger);
    expect(failures).toEqual([{ itemIdentifier: '101' }]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        attributes: expect.objectContaining({ earliestSequenceNumber: '101', unpublished: 1 }),
      }),
    );
  });

  it('throws STREAM_RECORD_INVALID when that record has no sequence number', () => {
    const { logger } = memoryLogger();
    const records: DynamoDBRecord[] = [{ dynamodb: {} }];
    const error = (() => {
      try {
        batchItemFailures(records, { earliest: 0, unpublished: [] }, logger);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(PublisherError);
    expect(error).toMatchObject({ code: 'STREAM_RECORD_INVALID', context: { index: 0 } });
  });
});

describe('reportBatchMetrics', () => {
  it('reports each publisher metric once', () => {
    const reported: [string, number][] = [];
    const { summary } = summarizeBatch({
      records: 0,
      classified: [],
      images: [],
      outgoing: [],
      positions: [],
      report: report([]),
      completion: { commands: 0, queries: 0 },
      onHistoryRewrite: 'log',
    });
    reportBatchMetrics((name, value) => reported.push([name, value]), summary);
    expect(reported).toEqual([
      ['RecordsPublished', 0],
      ['PublishRetries', 2],
      ['RecordsUnpublished', 0],
      ['RecordsSkipped', 0],
      ['HistoryRewrites', 0],
      ['UnpublishableRecords', 0],
      ['CommandsCompleted', 0],
    ]);
  });
});
