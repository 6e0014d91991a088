/**
 * What the consumer's integration tests share on the real engines (DynamoDB Local + kinesis-mock):
 * a counter catalog and its histories, a fresh consumer table, the effect items a test's handler
 * wrote, records put on a stream in order, and event sources stopped after each test.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
} from '@tidemark/core';
import {
  buildEnvelopes,
  createKinesisEventSource,
  type KinesisEventSource,
  type KinesisEventSourceOptions,
  type LocalAws,
} from '@tidemark/testing';
import { expect } from 'vitest';
import { z } from 'zod';
import { consumerTableDescription } from '../../src/index';

export const CounterIncremented = defineEvent({
  type: 'CounterIncremented',
  schemaVersion: 1,
  aggregateType: 'Counter',
  schema: z.object({ by: z.number().int().positive() }),
});

/** The catalog of the counter tests: one event type. */
export const counterEvents = defineCatalog([CounterIncremented]);

/** `count` increments of counter `id`, versions 1 to `count`. */
export function counterHistory(id: string, count: number): EventEnvelope[] {
  return buildEnvelopes(count, {
    type: 'CounterIncremented',
    aggregate: { type: 'Counter', id },
    data: { by: 1 },
  });
}

/** `aggregates` counters of `versions` increments each, interleaved as many writers would put them. */
export function interleavedHistories(aggregates: number, versions: number): EventEnvelope[] {
  const histories = Array.from({ length: aggregates }, (_, index) => counterHistory(`c${index}`, versions));
  return Array.from({ length: versions }, (_, version) =>
    histories.map((history) => history[version]!),
  ).flat();
}

/** A fresh table with the consumer table's layout (checkpoints, dead letters, or a test's effects). */
export async function consumerTable(aws: LocalAws): Promise<string> {
  const { TableName: _name, ...description } = consumerTableDescription('unused');
  return (await aws.createTable(description)).tableName;
}

/** Every effect item: how many times each (aggregate, version) was applied. */
export async function effects(aws: LocalAws, tableName: string): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  let start: Record<string, never> | undefined;
  do {
    const page = await aws.dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const { pk, sk, applications } = unmarshall(item);
      result.set(`${pk}@${sk}`, Number(applications ?? 1));
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return result;
}

const sources: KinesisEventSource[] = [];

/** A Kinesis event source as the tests run it (fast polling, failures reported, never give up). */
export function eventSource(options: KinesisEventSourceOptions): KinesisEventSource {
  const source = createKinesisEventSource({
    pollIntervalMs: 20,
    reportBatchItemFailures: true,
    maximumRetryAttempts: -1,
    startingPosition: 'TRIM_HORIZON',
    ...options,
  });
  sources.push(source);
  return source;
}

/** Stops every event source made by {@link eventSource}: call it in `afterEach`. */
export async function stopEventSources(): Promise<void> {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
}

/** Puts records in order (one shard keeps it), 500 per call, and expects none refused. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  records: { data: Uint8Array; key: string }[],
): Promise<void> {
  for (let start = 0; start < records.length; start += 500) {
    const chunk = records.slice(start, start + 500);
    const response = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((record) => ({ Data: record.data, PartitionKey: record.key })),
      }),
    );
    expect(response.FailedRecordCount ?? 0).toBe(0);
  }
}

/** Envelopes as records to put: their encoded data and partition key. */
export const asRecords = (envelopes: readonly EventEnvelope[]) =>
  envelopes.map((envelope) => ({ data: encodeEnvelope(envelope), key: envelopePartitionKey(envelope) }));
