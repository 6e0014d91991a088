/** Edges found in review, on DynamoDB Local and kinesis-mock under the default options. */
import { KINESIS_LIMITS, newCommandId, RecordTooLargeError, toKinesisRecord } from '@tidemark/core';
import { createEventLog } from '@tidemark/event-log';
import { createDynamoDbStreamEventSource, type LocalAws } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { createPublisher } from '../../src/index';
import { catalog, memoryLogger } from '../helpers/fakes';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

async function captureStream(aws: LocalAws, streamArn: string): Promise<DynamoDBRecord[]> {
  const captured: DynamoDBRecord[] = [];
  const source = createDynamoDbStreamEventSource({
    dynamodbStreams: aws.dynamodbStreams,
    streamArn,
    handler: async (event: DynamoDBStreamEvent) => {
      captured.push(...event.Records);
      return { batchItemFailures: [] };
    },
    reportBatchItemFailures: true,
    functionTimeoutSeconds: 20,
  });
  try {
    await source.start();
    await source.drain({ timeoutMs: 30_000 });
  } finally {
    await source.stop();
  }
  return captured;
}

describe('limits end to end (review)', () => {
  test('an event of exactly 1 MiB with a multi-byte partition key is stored and published; one byte more is refused at append', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = createEventLog({
      tableName: eventLogTable.tableName,
      dynamodb: aws.dynamodb,
      catalog,
      source: '/it',
    });
    // 'Task#' + 251 three-byte characters: a 256-character key of 758 UTF-8 bytes.
    const aggregate = { type: 'Task', id: '€'.repeat(251) };
    const probe = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: '' } }],
    });
    const base = toKinesisRecord(probe.events[0]!).size;
    // Control characters take 6 bytes each in JSON and 1 in DynamoDB: 1 MiB fits a 175 KB item.
    const text = (bytes: number) => {
      const free = bytes - base;
      return '\u0001'.repeat(Math.floor(free / 6)) + 'x'.repeat(free % 6);
    };
    await expect(
      log.append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: text(KINESIS_LIMITS.maxRecordBytes + 1) } }],
      }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    const exact = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: text(KINESIS_LIMITS.maxRecordBytes) } }],
    });
    expect(toKinesisRecord(exact.events[0]!).size).toBe(KINESIS_LIMITS.maxRecordBytes);
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: 'after' } }],
    });

    const records = await captureStream(aws, eventLogTable.streamArn);
    expect(records).toHaveLength(3);
    const publisher = createPublisher({
      kinesis: aws.kinesis,
      dynamodb: aws.dynamodb,
      streamName,
      logger: memoryLogger().logger,
    });
    const result = await publisher.publishBatch({ Records: records });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary).toMatchObject({ published: 3, poison: 0 });
    const arrived = await readStream(aws.kinesis, streamName);
    expect(firstArrivalVersions(arrived).get(`Task#${aggregate.id}`)).toEqual([1, 2, 3]);
    expect(arrived.find((record) => record.envelope.aggregateversion === 2)!.envelope).toEqual(
      exact.events[0],
    );
  });

  test('five events of exactly 1 MiB go out in one PutRecords call of exactly 5 MiB, and a sixth in another', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });
    const log = createEventLog({
      tableName: eventLogTable.tableName,
      dynamodb: aws.dynamodb,
      catalog,
      source: '/it',
    });
    const keys: string[] = [];
    for (let a = 0; a < 6; a += 1) {
      const aggregate = { type: 'Task', id: `mib-${a}-${'€'.repeat(200)}` };
      keys.push(`Task#${aggregate.id}`);
      // An empty probe gives the size of everything but the text; the text fills the rest.
      const probe = await log.append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: '' } }],
      });
      const free = KINESIS_LIMITS.maxRecordBytes - toKinesisRecord(probe.events[0]!).size;
      const exact = await log.append({
        aggregate,
        commandId: newCommandId(),
        events: [
          {
            type: 'NoteAdded',
            data: { text: '\u0001'.repeat(Math.floor(free / 6)) + 'x'.repeat(free % 6) },
          },
        ],
      });
      expect(toKinesisRecord(exact.events[0]!).size).toBe(KINESIS_LIMITS.maxRecordBytes);
    }
    const records = await captureStream(aws, eventLogTable.streamArn);
    // Only the 1 MiB events: one wave of six records.
    const big = records.filter((record) => record.dynamodb?.Keys?.sk?.N === '2');
    expect(big).toHaveLength(6);
    const publisher = createPublisher({
      kinesis: aws.kinesis,
      dynamodb: aws.dynamodb,
      streamName,
      logger: memoryLogger().logger,
    });
    const result = await publisher.publishBatch({ Records: big });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary).toMatchObject({ published: 6, calls: 2, retried: 0 });
    const arrived = await readStream(aws.kinesis, streamName);
    expect(arrived.map((record) => record.partitionKey).sort()).toEqual([...keys].sort());
  });
});
