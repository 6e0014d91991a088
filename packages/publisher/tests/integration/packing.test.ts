/**
 * Packed records end to end on the real engines (DynamoDB Local + kinesis-mock): the event log's
 * stream → the publisher (default options: runs packed) → Kinesis → a consumer with default
 * options, for one hot aggregate with a payload the consumer refuses in the middle of a run.
 */
import { type BatchSummary, consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { decodeEnvelopeRecord, defineCatalog, defineEvent, newCommandId } from '@tidemark/core';
import { createEventLog } from '@tidemark/event-log';
import { createKinesisEventSource } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { createPublisher } from '../../src/index';
import { catalog, memoryLogger } from '../helpers/fakes';
import { captureStream } from '../helpers/integration-fixture';
import { readStream } from '../helpers/kinesis-reader';

// A producer with a bug: its TaskRenamed accepts any name, so one event's payload is one the
// listeners' catalog (a non-empty string) refuses.
const LooseTaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.unknown() }),
});
const producerCatalog = defineCatalog([LooseTaskRenamed]);

const EVENTS = 1000;
const POISON = 500;
const FAILS_ONCE = 700;
const COMMAND = 50;

describe('packed records from the publisher to a consumer', () => {
  test('1 aggregate × 1,000 events: one PutRecords call; the consumer applies 999 in order, parks the bad payload alone, and skips what it applied when the record comes again', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const consumerTable = `it-packed-${Date.now().toString(36)}`;
    await aws.createTable(consumerTableDescription(consumerTable));
    const log = createEventLog({
      tableName: eventLogTable.tableName,
      dynamodb: aws.dynamodb,
      catalog: producerCatalog,
      source: '/it',
    });
    const aggregate = { type: 'Task', id: 'hot' };
    for (let first = 1; first <= EVENTS; first += COMMAND) {
      await log.append({
        aggregate,
        commandId: newCommandId(),
        events: Array.from({ length: COMMAND }, (_, k) => ({
          type: 'TaskRenamed' as const,
          data: { name: first + k === POISON ? 42 : `name ${first + k}` },
        })),
      });
    }
    const records = await captureStream(aws, eventLogTable.streamArn, { timeoutMs: 60_000 });
    expect(records).toHaveLength(EVENTS);

    const publisher = createPublisher({
      kinesis: aws.kinesis,
      dynamodb: aws.dynamodb,
      streamName,
      logger: memoryLogger().logger,
    });
    const published = await publisher.publishBatch({ Records: records });
    expect(published.batchItemFailures).toEqual([]);
    expect(published.summary).toMatchObject({
      published: EVENTS,
      calls: 1,
      kinesisRecords: 1,
      packedRecords: 1,
      completionQueries: 0,
    });
    const onStream = await readStream(aws.kinesis, streamName);
    expect(onStream.map((event) => event.envelope.aggregateversion)).toEqual(
      Array.from({ length: EVENTS }, (_, k) => k + 1),
    );
    expect(new Set(onStream.map((event) => event.sequenceNumber)).size).toBe(1);

    const seen: number[] = [];
    const summaries: BatchSummary[] = [];
    let failedOnce = false;
    const consumer = createConsumer({
      name: 'packed',
      events: catalog,
      handlers: {
        TaskRenamed: async (event) => {
          // A passing failure in the middle of the packed record: Lambda delivers the record again.
          if (event.version === FAILS_ONCE && !failedOnce) {
            failedOnce = true;
            throw new Error('not now');
          }
          seen.push(event.version);
        },
      },
      checkpoints: { tableName: consumerTable, dynamodb: aws.dynamodb },
      logger: memoryLogger().logger,
      onBatchSummary: (summary) => summaries.push(summary),
    });
    const consumerSource = createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName,
      handler: consumer,
      reportBatchItemFailures: true,
      functionTimeoutSeconds: 60,
    });
    try {
      await consumerSource.start();
      await consumerSource.drain({ timeoutMs: 120_000 });
    } finally {
      await consumerSource.stop();
    }

    // Each event applied once, in order: the redelivery skipped what the first delivery applied.
    expect(seen).toEqual(Array.from({ length: EVENTS }, (_, k) => k + 1).filter((v) => v !== POISON));
    expect(
      summaries.map(({ records, applied, duplicates, parked, failed }) => ({
        records,
        applied,
        duplicates,
        parked,
        failed,
      })),
    ).toEqual([
      { records: 1, applied: FAILS_ONCE - 2, duplicates: 0, parked: 1, failed: 1 },
      { records: 1, applied: EVENTS - FAILS_ONCE + 1, duplicates: FAILS_ONCE - 1, parked: 0, failed: 0 },
    ]);
    const { items } = await consumer.deadLetters.list();
    expect(items).toHaveLength(1);
    const letter = items[0]!;
    expect(letter).toMatchObject({ reason: 'invalid-payload', version: POISON, aggregate });
    expect(letter.record.batch).toEqual({ position: POISON - 1, size: EVENTS });
    // The dead letter holds that event alone.
    const stored = decodeEnvelopeRecord(Buffer.from(letter.record.data, 'base64'));
    expect(stored.format).toBe('single');
    expect(stored.entries[0]).toMatchObject({
      success: true,
      envelope: { aggregateversion: POISON, data: { name: 42 } },
    });
  });
});
