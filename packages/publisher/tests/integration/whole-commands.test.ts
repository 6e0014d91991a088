/**
 * The publisher at the edges, on the real engines (DynamoDB Local + kinesis-mock): commands split
 * over invocations and delivered out of order, poison of every kind, history rewrites, and a
 * consumer with default options downstream.
 */
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { createEnvelope, type EventEnvelope, eventLogItemFromEnvelope, newCommandId } from '@tidemark/core';
import { createKinesisEventSource } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { createPublisher } from '../../src/index';
import { catalog, memoryLogger, memoryMetrics } from '../helpers/fakes';
import { captureStream, drainStream, testEventLog, testPublisher } from '../helpers/integration-fixture';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

const versionOf = (record: DynamoDBRecord) => Number(record.dynamodb?.Keys?.sk?.N);
const keyOf = (record: DynamoDBRecord) => record.dynamodb?.Keys?.pk?.S;
const find = (records: readonly DynamoDBRecord[], key: string, version: number) =>
  records.find((record) => keyOf(record) === key && versionOf(record) === version)!;

describe('whole commands, in order, whatever the batch boundaries', () => {
  test('a command split over invocations and shuffled is published whole and in order; whole commands cost no read', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
    const a = { type: 'Task', id: 'split-a' };
    const b = { type: 'Task', id: 'split-b' };
    const renames = (n: number) =>
      Array.from({ length: n }, (_, k) => ({ type: 'TaskRenamed' as const, data: { name: `n${k}` } }));
    await log.append({ aggregate: a, commandId: newCommandId(), events: renames(3) }); // a 1-3
    await log.append({ aggregate: a, commandId: newCommandId(), events: renames(2) }); // a 4-5
    await log.append({ aggregate: b, commandId: newCommandId(), events: renames(2) }); // b 1-2
    const records = await captureStream(aws, eventLogTable.streamArn);
    expect(records).toHaveLength(7);

    const metrics = memoryMetrics();
    const publisher = testPublisher(aws, {
      streamName,
      metrics,
    });
    const A = 'Task#split-a';
    const B = 'Task#split-b';
    // The stream hands over the last event of a's first command alone, then the rest shuffled.
    const first = await publisher.publishBatch({ Records: [find(records, A, 3), find(records, B, 2)] });
    expect(first.batchItemFailures).toEqual([]);
    expect(first.summary).toMatchObject({ commandsCompleted: 2, completionQueries: 2 });
    const second = await publisher.publishBatch({
      Records: [
        find(records, A, 2),
        find(records, B, 1),
        find(records, A, 1),
        find(records, A, 5),
        find(records, A, 4),
      ],
    });
    expect(second.batchItemFailures).toEqual([]);
    // a 1-3 and b 1-2 were re-completed (the batch has part of them again); a 4-5 is whole.
    expect(second.summary).toMatchObject({ commandsCompleted: 2 });
    const whole = await publisher.publishBatch({ Records: [find(records, A, 5), find(records, A, 4)] });
    expect(whole.summary).toMatchObject({ commandsCompleted: 0, completionQueries: 0 });

    const arrived = await readStream(aws.kinesis, streamName);
    const firsts = firstArrivalVersions(arrived);
    expect(firsts.get(A)).toEqual([1, 2, 3, 4, 5]);
    expect(firsts.get(B)).toEqual([1, 2]);
  });

  test('a consumer with default options sees every event of split, shuffled commands in order', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });
    const consumerTable = `it-consumer-${Date.now().toString(36)}`;
    await aws.createTable(consumerTableDescription(consumerTable));
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregates = Array.from({ length: 4 }, (_, i) => ({ type: 'Task', id: `e2e-${i}` }));
    const expected = new Map<string, number>();
    for (let round = 0; round < 3; round += 1) {
      for (const [i, aggregate] of aggregates.entries()) {
        const result = await log.append({
          aggregate,
          commandId: newCommandId(),
          events: Array.from({ length: 2 + ((i + round) % 3) }, (_, k) =>
            round === 0 && k === 0
              ? { type: 'TaskCreated' as const, data: { name: 'x' } }
              : { type: 'TaskRenamed' as const, data: { name: `r${round}.${k}` } },
          ),
        });
        expected.set(aggregate.id, result.version);
      }
    }
    const seen = new Map<string, number[]>();
    const handled = async (event: { aggregate: { id: string }; version: number }) => {
      seen.set(event.aggregate.id, [...(seen.get(event.aggregate.id) ?? []), event.version]);
    };
    const consumer = createConsumer({
      name: 'split-commands',
      events: catalog,
      handlers: { TaskCreated: handled, TaskRenamed: handled },
      checkpoints: { tableName: consumerTable, dynamodb: aws.dynamodb },
    });
    const publisher = testPublisher(aws, {
      streamName,
    });
    // Batches of 3 split most commands, and the stream does not order one transaction's items:
    // the first time a batch starts with an event whose command goes on in the batch, that event
    // is held back (reported as not processed, so it comes again in the next batch) while the
    // later events of its command go to the publisher first.
    const command = (record: DynamoDBRecord) => `${keyOf(record)}|${record.dynamodb?.NewImage?.commandId?.S}`;
    const heldOnce = new Set<string>();
    let held = 0;
    const outOfOrder = async (event: DynamoDBStreamEvent, context: Context) => {
      const [head, ...rest] = event.Records;
      const sequenceNumber = head?.dynamodb?.SequenceNumber;
      if (
        head &&
        sequenceNumber &&
        !heldOnce.has(sequenceNumber) &&
        rest.some((r) => command(r) === command(head))
      ) {
        heldOnce.add(sequenceNumber);
        held += 1;
        await publisher({ ...event, Records: rest }, context);
        return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
      }
      return publisher(event, context);
    };
    await drainStream(aws, eventLogTable.streamArn, outOfOrder, { batchSize: 3, timeoutMs: 60_000 });
    const consumerSource = createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName,
      handler: consumer,
      // One record per invocation: the consumer meets each aggregate at its first arrival.
      batchSize: 1,
      reportBatchItemFailures: true,
      functionTimeoutSeconds: 20,
    });
    try {
      await consumerSource.start();
      await consumerSource.drain({ timeoutMs: 60_000 });
    } finally {
      await consumerSource.stop();
    }
    expect(held).toBeGreaterThan(3);
    for (const [id, version] of expected) {
      expect(seen.get(id)).toEqual(Array.from({ length: version }, (_, k) => k + 1));
    }
  });
});

describe('poison holds back nothing earlier', () => {
  /** An event item as the log writes it, put directly (as only a bug or a hand could). */
  const rawEvent = (id: string, version: number, data: Record<string, unknown>): EventEnvelope =>
    createEnvelope({
      source: '/it',
      type: 'NoteAdded',
      aggregate: { type: 'Task', id },
      version,
      commandId: newCommandId(),
      data,
    });

  test('over 1 MiB, not an event, unroutable: each stops only its own aggregate at its version', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const table = eventLogTable.tableName;
    const put = (item: object) =>
      aws.dynamodb.send(
        new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
      );
    // Control characters take 6 bytes each in JSON: a 200 KB item becomes a 1.2 MB envelope.
    const oversized = rawEvent('big', 2, { text: '\u0001'.repeat(200_000) });
    for (const item of [
      eventLogItemFromEnvelope(rawEvent('big', 1, { text: 'ok' })),
      eventLogItemFromEnvelope(oversized),
      eventLogItemFromEnvelope(rawEvent('big', 3, { text: 'after' })),
      eventLogItemFromEnvelope(rawEvent('junk', 1, { text: 'ok' })),
      { pk: 'Task#junk', sk: 2, hello: 'not an event' },
      eventLogItemFromEnvelope(rawEvent('junk', 3, { text: 'after' })),
      eventLogItemFromEnvelope(rawEvent('lost', 1, { text: 'ok' })),
      eventLogItemFromEnvelope(rawEvent('lost', 2, { text: 'no route' })),
      eventLogItemFromEnvelope(rawEvent('fine', 1, { text: 'ok' })),
    ])
      await put(item);
    const records = await captureStream(aws, eventLogTable.streamArn);
    const { lines, logger } = memoryLogger();
    const metrics = memoryMetrics();
    const publisher = testPublisher(aws, {
      route: (envelope) => {
        if (envelope.aggregateid === 'lost' && envelope.aggregateversion === 2) throw new Error('no route');
        return streamName;
      },
      logger,
      metrics,
    });
    // Versions delivered latest first, so the poison's own position is not the batch's first.
    const batch = [...records].reverse();
    const result = await publisher.publishBatch({ Records: batch });
    const firsts = firstArrivalVersions(await readStream(aws.kinesis, streamName));
    expect(firsts.get('Task#big')).toEqual([1]);
    expect(firsts.get('Task#junk')).toEqual([1]);
    expect(firsts.get('Task#lost')).toEqual([1]);
    expect(firsts.get('Task#fine')).toEqual([1]);
    // The earliest stream record not published: the first of the reversed batch that is held.
    const unpublished = batch.filter(
      (record) =>
        (keyOf(record) === 'Task#big' && versionOf(record) >= 2) ||
        (keyOf(record) === 'Task#junk' && versionOf(record) >= 2) ||
        (keyOf(record) === 'Task#lost' && versionOf(record) >= 2),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: unpublished[0]!.dynamodb!.SequenceNumber }]);
    expect(metrics.counts.find((metric) => metric.name === 'UnpublishableRecords')!.value).toBe(3);
    for (const [key, version] of [
      ['Task#big', 2],
      ['Task#junk', 2],
      ['Task#lost', 2],
    ] as const) {
      const logged = lines.find(
        (line) =>
          line.level === 'error' &&
          line.attributes.aggregateKey === key &&
          line.attributes.aggregateVersion === version,
      );
      expect(logged?.attributes.sequenceNumber).toBe(find(records, key, version).dynamodb!.SequenceNumber);
    }
  });
});

describe('history rewrites are loud', () => {
  test('MODIFY and REMOVE of event items: error logs with coordinates, historyRewritten, and fail mode stops there', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'rewritten' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [
        { type: 'TaskCreated', data: { name: 'a' } },
        { type: 'TaskRenamed', data: { name: 'b' } },
      ],
    });
    const key = { pk: { S: 'Task#rewritten' }, sk: { N: '1' } };
    await aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: eventLogTable.tableName,
        Key: key,
        UpdateExpression: 'SET #p.#n = :n',
        ExpressionAttributeNames: { '#p': 'payload', '#n': 'name' },
        ExpressionAttributeValues: { ':n': { S: 'changed' } },
      }),
    );
    await aws.dynamodb.send(
      new DeleteItemCommand({ TableName: eventLogTable.tableName, Key: { ...key, sk: { N: '2' } } }),
    );
    const records = await captureStream(aws, eventLogTable.streamArn);
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'INSERT', 'MODIFY', 'REMOVE']);

    const { lines, logger } = memoryLogger();
    const metrics = memoryMetrics();
    const loud = createPublisher({
      kinesis: aws.kinesis,
      streamName,
      logger,
      metrics,
    });
    const logged = await loud.publishBatch({ Records: records });
    expect(logged.batchItemFailures).toEqual([]);
    expect(metrics.counts.filter((m) => m.name === 'HistoryRewrites').map((m) => m.value)).toEqual([2]);
    const errors = lines.filter(
      (line) => line.level === 'error' && line.message.startsWith('History rewritten'),
    );
    expect(
      errors.map((line) => [
        line.attributes.eventName,
        line.attributes.aggregateKey,
        line.attributes.aggregateVersion,
      ]),
    ).toEqual([
      ['MODIFY', 'Task#rewritten', 1],
      ['REMOVE', 'Task#rewritten', 2],
    ]);
    expect(firstArrivalVersions(await readStream(aws.kinesis, streamName)).get('Task#rewritten')).toEqual([
      1, 2,
    ]);

    const strict = createPublisher({ kinesis: aws.kinesis, streamName, logger, onHistoryRewrite: 'fail' });
    const failed = await strict.publishBatch({ Records: records });
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[2]!.dynamodb!.SequenceNumber }]);
  });
});
