/** Edges found in review, on DynamoDB Local and kinesis-mock under the default options. */
import { KINESIS_LIMITS, newCommandId, RecordTooLargeError, toKinesisRecord } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { captureStream, testEventLog, testPublisher } from '../helpers/integration-fixture';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

describe('limits end to end (review)', () => {
  test('an event of exactly 1 MiB with a multi-byte partition key is stored and published; one byte more is refused at append', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
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
    const publisher = testPublisher(aws, {
      streamName,
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
    const log = testEventLog(aws, eventLogTable.tableName);
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
    const publisher = testPublisher(aws, {
      streamName,
    });
    const result = await publisher.publishBatch({ Records: big });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary).toMatchObject({ published: 6, calls: 2, retried: 0 });
    const arrived = await readStream(aws.kinesis, streamName);
    expect(arrived.map((record) => record.partitionKey).sort()).toEqual([...keys].sort());
  });
});

describe('split and interleaved commands (review)', () => {
  test('two commands of one aggregate interleaved, first item last, need no read; a split command whose missing part is unroutable holds only its aggregate', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
    const renames = (n: number) =>
      Array.from({ length: n }, (_, k) => ({ type: 'TaskRenamed' as const, data: { name: `n${k}` } }));
    const a = { type: 'Task', id: 'interleaved' };
    const p = { type: 'Task', id: 'unroutable-part' };
    await log.append({ aggregate: a, commandId: newCommandId(), events: renames(2) }); // a 1-2
    await log.append({ aggregate: a, commandId: newCommandId(), events: renames(2) }); // a 3-4
    await log.append({ aggregate: p, commandId: newCommandId(), events: renames(2) }); // p 1-2
    const records = await captureStream(aws, eventLogTable.streamArn);
    const find = (id: string, version: number) =>
      records.find(
        (record) =>
          record.dynamodb?.Keys?.pk?.S === `Task#${id}` && record.dynamodb?.Keys?.sk?.N === String(version),
      )!;
    const publisher = testPublisher(aws, {
      route: (envelope) => {
        if (envelope.aggregateid === p.id && envelope.aggregateversion === 1) throw new Error('no route');
        return streamName;
      },
    });
    const batch = [find(a.id, 4), find(p.id, 2), find(a.id, 2), find(a.id, 3), find(a.id, 1)];
    const result = await publisher.publishBatch({ Records: batch });
    // p 2 is not published: its command's v1 (read from the log) can never be.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: find(p.id, 2).dynamodb!.SequenceNumber }]);
    expect(result.summary).toMatchObject({
      published: 4,
      failed: 1,
      commandsCompleted: 1,
      completionQueries: 1,
    });
    const firsts = firstArrivalVersions(await readStream(aws.kinesis, streamName));
    expect(firsts.get(`Task#${a.id}`)).toEqual([1, 2, 3, 4]);
    expect(firsts.get(`Task#${p.id}`)).toBeUndefined();
    // Lambda retries from p 2: the rest of the batch again, then p 1 arrives as a stream record.
    const retry = await publisher.publishBatch({ Records: [...batch.slice(1), find(p.id, 1)] });
    expect(retry.batchItemFailures).toEqual([{ itemIdentifier: find(p.id, 2).dynamodb!.SequenceNumber }]);
    expect(retry.summary).toMatchObject({ poison: 1, commandsCompleted: 1 });
    const again = firstArrivalVersions(await readStream(aws.kinesis, streamName));
    expect(again.get(`Task#${a.id}`)).toEqual([1, 2, 3, 4]);
    expect(again.get(`Task#${p.id}`)).toBeUndefined();
  });

  test('a split command of large events is completed past a 1 MB Query page', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'wide' };
    // 12 events of ~250 KB: the 11 missing ones are about 2.7 MB, three Query pages.
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: Array.from({ length: 12 }, (_, k) => ({
        type: 'NoteAdded' as const,
        data: { text: `${k}`.padEnd(250_000, 'x') },
      })),
    });
    const records = await captureStream(aws, eventLogTable.streamArn);
    const last = records.find((record) => record.dynamodb?.Keys?.sk?.N === '12')!;
    const publisher = testPublisher(aws, {
      streamName,
    });
    const result = await publisher.publishBatch({ Records: [last] });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary).toMatchObject({ published: 1, commandsCompleted: 1 });
    expect(result.summary.completionQueries).toBeGreaterThan(1);
    const firsts = firstArrivalVersions(await readStream(aws.kinesis, streamName));
    expect(firsts.get('Task#wide')).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
  });
});
