/**
 * The soak: the whole flow on the real engines under every fault at once.
 *
 * 2,000 commands over 200 aggregates are appended with `createEventLog` while the pipeline runs:
 * DynamoDB stream → publisher (Lambda event-source emulation) → a 4-shard Kinesis stream → two
 * listeners (two consumers with different names, each behind its own event source). Injected:
 * failed PutRecords entries, throttled PutRecords calls and throttled checkpoint reads and writes
 * (at the edge), a publisher that stops
 * mid-batch (publishes a prefix, then fails, so the batch is published again), transient handler
 * exceptions, consumer batches redelivered whole after they completed, already-published records
 * put on Kinesis again, poison events whose handler always throws, and malformed records.
 *
 * Asserted per listener: every event applied exactly once, versions applied in order (contiguous
 * except the parked poison), nothing lost, and only the injected poison and malformed records parked.
 */
import { aggregateKey, type EventEnvelope, newCommandId, toKinesisRecord } from '@tidemark/core';
import { forEachLimited } from '@tidemark/core/internal';
import { createEventLog } from '@tidemark/event-log';
import { createPublisher } from '@tidemark/publisher';
import { createDynamoDbStreamEventSource, createKinesisEventSource } from '@tidemark/testing';
import { localAws } from '@tidemark/testing/vitest';
import type { Context, DynamoDBStreamEvent, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { benchEvents, quietLogger, taskEvent } from '../../src/catalog';
import { fuzzCases, seededRandom } from '../../src/fuzz-records';
import {
  allDeadLetters,
  countingConsumer,
  countStreamRecords,
  createConsumerTable,
  putAll,
  sumSummaries,
} from '../helpers/consumer-harness';

const AGGREGATES = 200;
const COMMANDS = 2_000;
const SHARDS = 4;
const DUPLICATES = 300;
const MALFORMED = 24;
/** Events whose handler always throws: parked after `maxAttempts` deliveries. */
const POISON = new Set([
  'Task#soak-7:3',
  'Task#soak-53:5',
  'Task#soak-101:1',
  'Task#soak-150:8',
  'Task#soak-199:10',
]);
const LISTENERS = ['soak-listener-a', 'soak-listener-b'] as const;

/** A stable hash of a string (FNV-1a), to pick the events that fail transiently. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

describe('soak: append → publisher → Kinesis → two listeners, under injected faults', () => {
  afterAll(async () => (await localAws()).faults.clear());

  it('applies every event exactly once per listener, in order, losing nothing and parking only the poison', async () => {
    const started = Date.now();
    const aws = await localAws();
    const random = seededRandom(2026);
    const { tableName: logTable, streamArn: logStreamArn } = await aws.createEventLogTable({
      prefix: 'soak',
    });
    const { streamName } = await aws.createKinesisStream({ prefix: 'soak', shardCount: SHARDS });
    const consumerTable = await createConsumerTable(aws, 'soak');
    const log = createEventLog({
      tableName: logTable,
      dynamodb: aws.dynamodb,
      catalog: benchEvents,
      source: '/soak',
    });

    // --- Publisher, stopping mid-batch now and then: it publishes a prefix, then fails.
    const publisher = createPublisher({
      kinesis: aws.kinesis,
      dynamodb: aws.dynamodb,
      streamName,
      logger: quietLogger(),
      retry: { retries: 10, minTimeoutMs: 5, maxTimeoutMs: 100 },
      safetyMarginMs: 1000,
    });
    const cutBatches = new Set<string>();
    let publisherInvocations = 0;
    const stoppingPublisher = async (
      event: DynamoDBStreamEvent,
      context: Parameters<typeof publisher>[1],
    ) => {
      publisherInvocations += 1;
      const first = event.Records[0]?.dynamodb?.SequenceNumber ?? '';
      if (event.Records.length > 4 && publisherInvocations % 3 === 1 && !cutBatches.has(first)) {
        cutBatches.add(first);
        await publisher({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) }, context);
        throw new Error('injected: the publisher stopped mid-batch');
      }
      return publisher(event, context);
    };
    const publisherSource = createDynamoDbStreamEventSource({
      dynamodbStreams: aws.dynamodbStreams,
      streamArn: logStreamArn,
      handler: stoppingPublisher,
      batchSize: 200,
      reportBatchItemFailures: true,
      functionTimeoutSeconds: 30,
    });

    // --- Two listeners: transient handler failures, poison, and batches redelivered whole.
    const listeners = LISTENERS.map((name) => {
      const calls = new Map<string, number>();
      let transientFailures = 0;
      const { consumer, effects } = countingConsumer({
        aws,
        name,
        tableName: consumerTable,
        maxAttempts: 3,
        fault: (key, version) => {
          const id = `${key}:${version}`;
          const call = (calls.get(id) ?? 0) + 1;
          calls.set(id, call);
          if (POISON.has(id)) return new Error(`injected poison ${id}`);
          if (call === 1 && hash(`${name}/${id}`) % 20 === 0) {
            transientFailures += 1;
            return new Error(`injected transient failure of ${id}`);
          }
          return undefined;
        },
      });
      const redelivered = new Set<string>();
      let invocations = 0;
      const redeliveringConsumer = async (event: KinesisStreamEvent, context: Context) => {
        invocations += 1;
        const response = await consumer(event, context);
        const first = event.Records[0]?.eventID ?? '';
        if (invocations % 4 === 0 && !redelivered.has(first)) {
          redelivered.add(first);
          throw new Error('injected: the invocation failed after the consumer finished');
        }
        return response;
      };
      const source = createKinesisEventSource({
        kinesis: aws.kinesis,
        streamName,
        handler: redeliveringConsumer,
        batchSize: 100,
        reportBatchItemFailures: true,
        functionTimeoutSeconds: 30,
      });
      return {
        name,
        consumer,
        effects,
        source,
        redelivered,
        transientFailures: () => transientFailures,
      };
    });

    await aws.faults.set({
      seed: 77,
      kinesis: { putRecordsEntryFailureRate: 0.1, throttleRate: 0.05, operations: ['PutRecords'] },
      // The consumers' checkpoint reads and writes (and dead-letter writes) throttled now and then.
      dynamodb: { failureRate: 0.03, operations: ['BatchGetItem', 'PutItem'] },
    });
    const appended = new Map<string, EventEnvelope[]>();
    // Oversized records are left to the fuzz test; bad base64 cannot travel through Kinesis.
    const malformed = fuzzCases({
      seed: 4242,
      count: MALFORMED,
      handledType: 'TaskCreated',
      exclude: ['bad-base64', 'oversized'],
    });
    try {
      await publisherSource.start();
      for (const listener of listeners) await listener.source.start();

      // --- 2,000 commands (every fourth of two events), aggregates side by side, each in order.
      const commandsOf = (a: number) =>
        Math.floor(COMMANDS / AGGREGATES) + (a < COMMANDS % AGGREGATES ? 1 : 0);
      await forEachLimited(
        Array.from({ length: AGGREGATES }, (_, a) => a),
        16,
        async (a) => {
          const aggregate = { type: 'Task', id: `soak-${a}` };
          const events: EventEnvelope[] = [];
          for (let c = 0; c < commandsOf(a); c += 1) {
            const size = (a + c) % 4 === 0 ? 2 : 1;
            const result = await log.append({
              aggregate,
              commandId: newCommandId(),
              expectedVersion: events.length,
              events: Array.from({ length: size }, (_, k) => taskEvent(events.length + k + 1, aggregate.id)),
            });
            events.push(...result.events);
          }
          appended.set(aggregateKey(aggregate), events);
        },
      );
      await publisherSource.drain({ timeoutMs: 120_000 });

      // --- Already-published records put again, and malformed records.
      const all = [...appended.values()].flat();
      const duplicates = Array.from(
        { length: DUPLICATES },
        () => all[Math.floor(random() * all.length)]!,
      ).map((envelope) => toKinesisRecord(envelope));
      await putAll(aws, streamName, [
        ...duplicates,
        ...malformed.map((c) => ({ data: Buffer.from(c.data, 'base64'), partitionKey: c.partitionKey })),
      ]);

      for (const listener of listeners) await listener.source.drain({ timeoutMs: 150_000 });
    } finally {
      await publisherSource.stop();
      for (const listener of listeners) await listener.source.stop();
    }
    const faults = await aws.faults.stats();
    await aws.faults.clear();

    // --- The faults really happened.
    const events = [...appended.values()].reduce((sum, list) => sum + list.length, 0);
    expect(faults.putRecordsEntriesFailed).toBeGreaterThan(0);
    expect(faults.kinesisThrottled).toBeGreaterThan(0);
    expect(faults.dynamodbFailed).toBeGreaterThan(0);
    expect(cutBatches.size).toBeGreaterThan(0);
    expect(publisherSource.onFailure).toEqual([]);

    const expectedMalformedParked = malformed.filter((c) => c.expect === 'parked');
    const figures: Record<string, unknown> = {};
    for (const listener of listeners) {
      expect(listener.transientFailures()).toBeGreaterThan(0);
      expect(listener.redelivered.size).toBeGreaterThan(0);
      expect(listener.source.onFailure).toEqual([]);

      // Exactly once, in order, nothing lost: each aggregate's applied versions are 1..n minus the poison.
      const wrong: unknown[] = [];
      for (const [key, list] of appended) {
        const expected = list.map((e) => e.aggregateversion).filter((v) => !POISON.has(`${key}:${v}`));
        const applied = listener.effects.applied.get(key) ?? [];
        if (JSON.stringify(applied) !== JSON.stringify(expected)) wrong.push({ key, expected, applied });
      }
      expect(wrong).toEqual([]);
      const strayEffects = [...listener.effects.applied.keys()].filter((key) => !appended.has(key));
      expect(strayEffects).toEqual([]);

      // Only the poison (handler-failed) and the malformed records are parked.
      const deadLetters = await allDeadLetters(listener.consumer);
      const handlerFailed = deadLetters
        .filter((d) => d.reason === 'handler-failed')
        .map((d) => `${d.aggregate?.type}#${d.aggregate?.id}:${d.version}`)
        .sort();
      expect(handlerFailed).toEqual([...POISON].sort());
      const badInput = deadLetters.filter((d) => d.reason !== 'handler-failed');
      expect(new Map(badInput.map((d) => [d.record.partitionKey, d.reason]))).toEqual(
        new Map(expectedMalformedParked.map((c) => [c.partitionKey, c.reason])),
      );

      const totals = sumSummaries(listener.effects.summaries);
      expect(totals.applied).toBe(events - POISON.size);
      figures[listener.name] = {
        invocations: listener.source.invocations.length,
        recordsDelivered: totals.records,
        applied: totals.applied,
        duplicatesSkipped: totals.duplicates,
        skippedUnknownType: totals.skipped,
        parked: deadLetters.length,
        parkedPoison: handlerFailed.length,
        parkedMalformed: badInput.length,
        transientHandlerFailures: listener.transientFailures(),
        handlerFailuresCounted: totals.handlerFailures,
        batchesRedeliveredWhole: listener.redelivered.size,
        dynamodbRequests: totals.dynamodbRequests,
      };
    }

    const kinesisRecords = await countStreamRecords(aws, streamName);
    const delivered = new Set(
      listeners[0]!.source.invocations.flatMap((i) => i.sequenceNumbers.map((s) => `${i.shardId}:${s}`)),
    ).size;
    expect(delivered).toBe(kinesisRecords);
    console.log(
      'soak figures',
      JSON.stringify(
        {
          commands: COMMANDS,
          aggregates: AGGREGATES,
          events,
          kinesisShards: SHARDS,
          kinesisRecords,
          kinesisRecordsBeyondEvents: kinesisRecords - events,
          republishedByPublisher: kinesisRecords - events - DUPLICATES - MALFORMED,
          duplicatesPutAgain: DUPLICATES,
          malformedPut: MALFORMED,
          publisherInvocations,
          publisherBatchesStoppedMidway: cutBatches.size,
          faults,
          listeners: figures,
          wallTimeSeconds: Math.round((Date.now() - started) / 100) / 10,
        },
        null,
        2,
      ),
    );
  }, 300_000);
});
