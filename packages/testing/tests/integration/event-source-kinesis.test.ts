import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import {
  createKinesisEventSource,
  type KinesisEventSource,
  type KinesisEventSourceOptions,
  PendingWorkError,
} from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect } from 'vitest';

/** Puts records in one call (one shard: they keep this order) and returns their sequence numbers. */
async function put(kinesis: KinesisClient, streamName: string, ...data: string[]): Promise<string[]> {
  const response = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: data.map((item) => ({ Data: Buffer.from(item), PartitionKey: 'aggregate-1' })),
    }),
  );
  expect(response.FailedRecordCount ?? 0).toBe(0);
  return response.Records!.map((record) => record.SequenceNumber!);
}

const dataOf = (event: KinesisStreamEvent): string[] =>
  event.Records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString());

const sources: KinesisEventSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function eventSource(options: KinesisEventSourceOptions): KinesisEventSource {
  const source = createKinesisEventSource({ pollIntervalMs: 20, ...options });
  sources.push(source);
  return source;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Kinesis event source on kinesis-mock', () => {
  test('invokes with at most batchSize records, in shard order', async ({ aws, kinesisStream }) => {
    await put(aws.kinesis, kinesisStream.streamName, 'a', 'b', 'c', 'd', 'e');
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      batchSize: 2,
      handler: async () => undefined,
    });

    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => dataOf(invocation.event))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
    const [record] = source.invocations[0]!.event.Records;
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventVersion: '1.0',
      eventSourceARN: kinesisStream.streamArn,
      awsRegion: aws.region,
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'aggregate-1' },
    });
    expect(record!.eventID).toBe(`shardId-000000000000:${record!.kinesis.sequenceNumber}`);
  });

  test('gathers records that arrive within the batching window into one invocation', async ({
    aws,
    kinesisStream,
  }) => {
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      maximumBatchingWindowInSeconds: 2,
      handler: async () => undefined,
    });
    await source.start();

    await put(aws.kinesis, kinesisStream.streamName, 'first');
    await sleep(300);
    // Without the window 'first' would have been delivered alone by now.
    expect(source.invocations).toEqual([]);
    await put(aws.kinesis, kinesisStream.streamName, 'second', 'third');
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => dataOf(invocation.event))).toEqual([
      ['first', 'second', 'third'],
    ]);
  });

  test('TRIM_HORIZON reads every record, LATEST only those after start, AT_TIMESTAMP those from the time', async ({
    aws,
    kinesisStream,
  }) => {
    const { streamName } = kinesisStream;
    await put(aws.kinesis, streamName, 'old');
    await sleep(150);
    const between = new Date();
    await sleep(150);
    await put(aws.kinesis, streamName, 'middle');
    const seen = { TRIM_HORIZON: [] as string[], LATEST: [] as string[], AT_TIMESTAMP: [] as string[] };
    const trimHorizon = eventSource({
      kinesis: aws.kinesis,
      streamName,
      startingPosition: 'TRIM_HORIZON',
      handler: async (event) => void seen.TRIM_HORIZON.push(...dataOf(event)),
    });
    const latest = eventSource({
      kinesis: aws.kinesis,
      streamName,
      startingPosition: 'LATEST',
      handler: async (event) => void seen.LATEST.push(...dataOf(event)),
    });
    const atTimestamp = eventSource({
      kinesis: aws.kinesis,
      streamName,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: between,
      handler: async (event) => void seen.AT_TIMESTAMP.push(...dataOf(event)),
    });
    await Promise.all([trimHorizon.start(), latest.start(), atTimestamp.start()]);

    await put(aws.kinesis, streamName, 'new');
    await Promise.all(
      [trimHorizon, latest, atTimestamp].map((source) => source.drain({ timeoutMs: 20_000 })),
    );

    expect(seen).toEqual({
      TRIM_HORIZON: ['old', 'middle', 'new'],
      LATEST: ['new'],
      AT_TIMESTAMP: ['middle', 'new'],
    });
  });

  test('ReportBatchItemFailures resumes from the lowest reported sequence number', async ({
    aws,
    kinesisStream,
  }) => {
    const sequenceNumbers = await put(aws.kinesis, kinesisStream.streamName, 'a', 'b', 'c', 'd');
    let calls = 0;
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      reportBatchItemFailures: true,
      handler: async () => {
        calls += 1;
        if (calls > 1) return { batchItemFailures: [] };
        return {
          batchItemFailures: [
            { itemIdentifier: sequenceNumbers[3]! },
            { itemIdentifier: sequenceNumbers[1]! },
          ],
        };
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([
      sequenceNumbers,
      sequenceNumbers.slice(1),
    ]);
    expect(source.invocations.map((invocation) => invocation.outcome)).toEqual([
      'partial-failure',
      'success',
    ]);
    expect(source.onFailure).toEqual([]);
  });

  test.for([
    ['an empty identifier', ''],
    ['an unknown identifier', '49999999999999999999999999999999999999999999999999999999'],
  ] as const)(
    'ReportBatchItemFailures with %s fails the whole batch',
    async ([, identifier], { aws, kinesisStream }) => {
      const sequenceNumbers = await put(aws.kinesis, kinesisStream.streamName, 'a', 'b', 'c');
      let calls = 0;
      const source = eventSource({
        kinesis: aws.kinesis,
        streamName: kinesisStream.streamName,
        reportBatchItemFailures: true,
        handler: async () => {
          calls += 1;
          return calls === 1 ? { batchItemFailures: [{ itemIdentifier: identifier }] } : undefined;
        },
      });
      await source.start();
      await source.drain({ timeoutMs: 20_000 });

      expect(
        source.invocations.map((invocation) => [invocation.outcome, invocation.sequenceNumbers]),
      ).toEqual([
        ['failure', sequenceNumbers],
        ['success', sequenceNumbers],
      ]);
    },
  );

  test('BisectBatchOnFunctionError splits a failing batch until the poison record is isolated', async ({
    aws,
    kinesisStream,
  }) => {
    await put(aws.kinesis, kinesisStream.streamName, 'a', 'b', 'c', 'poison', 'e', 'f', 'g', 'h');
    const handled: string[] = [];
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 0,
      handler: async (event) => {
        const data = dataOf(event);
        if (data.includes('poison')) throw new Error('poison');
        handled.push(...data);
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => dataOf(invocation.event))).toEqual([
      ['a', 'b', 'c', 'poison', 'e', 'f', 'g', 'h'],
      ['a', 'b', 'c', 'poison'],
      ['a', 'b'],
      ['c', 'poison'],
      ['c'],
      ['poison'],
      ['e', 'f', 'g', 'h'],
    ]);
    expect(handled).toEqual(['a', 'b', 'c', 'e', 'f', 'g', 'h']);
    expect(source.onFailure.map((failure) => failure.KinesisBatchInfo.batchSize)).toEqual([1]);
  });

  test('MaximumRetryAttempts sends the batch to the on-failure destination and moves on', async ({
    aws,
    kinesisStream,
  }) => {
    const sequenceNumbers = await put(aws.kinesis, kinesisStream.streamName, 'bad', 'also-bad');
    const destination: unknown[] = [];
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      maximumRetryAttempts: 2,
      onFailure: (failure) => void destination.push(failure),
      handler: async (event) => {
        if (dataOf(event).includes('bad')) throw new Error('cannot handle it');
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });
    await put(aws.kinesis, kinesisStream.streamName, 'good');
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => invocation.attempt)).toEqual([1, 2, 3, 1]);
    expect(dataOf(source.invocations[3]!.event)).toEqual(['good']);
    expect(source.onFailure).toEqual([
      {
        requestContext: {
          requestId: source.invocations[2]!.awsRequestId,
          functionArn: expect.stringMatching(
            /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:tidemark-local-function$/,
          ),
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 3,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: expect.any(String),
        KinesisBatchInfo: {
          shardId: 'shardId-000000000000',
          startSequenceNumber: sequenceNumbers[0],
          endSequenceNumber: sequenceNumbers[1],
          approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
          approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
          batchSize: 2,
          streamArn: kinesisStream.streamArn,
        },
      },
    ]);
    expect(destination).toEqual(source.onFailure);
  });

  test('MaximumRecordAgeInSeconds gives up on records older than the limit by their arrival time', async ({
    aws,
    kinesisStream,
  }) => {
    await put(aws.kinesis, kinesisStream.streamName, 'a', 'b');
    let skewMs = 0;
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      maximumRecordAgeInSeconds: 60,
      clock: () => Date.now() + skewMs,
      handler: async () => {
        // The first invocation fails; by its retry the records are 61 s older.
        skewMs = 61_000;
        throw new Error('slow downstream');
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations).toHaveLength(1);
    expect(source.onFailure).toHaveLength(1);
    expect(source.onFailure[0]!.requestContext).toMatchObject({
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 1,
    });
    expect(source.onFailure[0]!.KinesisBatchInfo.batchSize).toBe(2);
  });

  test('an invocation that runs past the function timeout fails and is retried', async ({
    aws,
    kinesisStream,
  }) => {
    await put(aws.kinesis, kinesisStream.streamName, 'a');
    let calls = 0;
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      functionTimeoutSeconds: 0.2,
      handler: async (_event, context) => {
        calls += 1;
        if (calls === 1) await sleep(context.getRemainingTimeInMillis() + 200);
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(source.invocations.map((invocation) => [invocation.timedOut, invocation.outcome])).toEqual([
      [true, 'failure'],
      [false, 'success'],
    ]);
  });

  test('an SDK call the handler forgot to await fails the invocation, naming the operation', async ({
    aws,
    kinesisStream,
  }) => {
    await put(aws.kinesis, kinesisStream.streamName, 'a');
    const { tableName } = await aws.createTable({
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    // The edge holds every answer for a while, so the forgotten call is surely still in flight.
    await aws.faults.set({ latencyMs: 300 });
    let calls = 0;
    const writes: Promise<unknown>[] = [];
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName: kinesisStream.streamName,
      functionTimeoutSeconds: 30,
      handler: async () => {
        calls += 1;
        const write = aws.dynamodb.send(
          new PutItemCommand({ TableName: tableName, Item: { id: { S: `call-${calls}` } } }),
        );
        writes.push(write);
        if (calls > 1) await write; // the fix: await it
      },
    });
    try {
      await source.start();
      await source.drain({ timeoutMs: 30_000 });
    } finally {
      await aws.faults.clear();
      await Promise.allSettled(writes);
    }

    expect(source.invocations.map((invocation) => invocation.outcome)).toEqual(['failure', 'success']);
    const error = source.invocations[0]!.error as PendingWorkError;
    expect(error).toBeInstanceOf(PendingWorkError);
    expect(error.pending).toEqual([`POST ${aws.endpoint.replace(/\/$/, '')}/ (DynamoDB_20120810.PutItem)`]);
  });

  test('after resharding, reads the closed parent shard to its end before its children', async ({
    aws,
    kinesisStream,
  }) => {
    const { streamName } = kinesisStream;
    await put(aws.kinesis, streamName, 'p1', 'p2', 'p3');
    await aws.kinesis.send(
      new UpdateShardCountCommand({
        StreamName: streamName,
        TargetShardCount: 2,
        ScalingType: 'UNIFORM_SCALING',
      }),
    );
    for (let status = ''; status !== 'ACTIVE'; await sleep(50)) {
      const summary = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      status = summary.StreamDescriptionSummary?.StreamStatus ?? '';
    }
    const { Shards: shards = [] } = await aws.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    expect(shards.filter((shard) => shard.ParentShardId === 'shardId-000000000000').length).toBeGreaterThan(
      0,
    );
    await aws.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: ['c1', 'c2', 'c3', 'c4'].map((item, index) => ({
          Data: Buffer.from(item),
          PartitionKey: `key-${index}`,
        })),
      }),
    );
    const order: { shardId: string; data: string }[] = [];
    const source = eventSource({
      kinesis: aws.kinesis,
      streamName,
      batchSize: 1,
      handler: async (event) => {
        await sleep(5);
        for (const record of event.Records) {
          order.push({
            shardId: record.eventID.split(':')[0]!,
            data: Buffer.from(record.kinesis.data, 'base64').toString(),
          });
        }
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(order.slice(0, 3)).toEqual(
      ['p1', 'p2', 'p3'].map((data) => ({ shardId: 'shardId-000000000000', data })),
    );
    expect(
      order
        .slice(3)
        .map((entry) => entry.data)
        .sort(),
    ).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(order.slice(3).every((entry) => entry.shardId !== 'shardId-000000000000')).toBe(true);
  });

  test('keeps reading through throttled reads (fault injection) and delivers every record once, in order', async ({
    aws,
    kinesisStream,
  }) => {
    const written = ['a', 'b', 'c', 'd', 'e', 'f'];
    await put(aws.kinesis, kinesisStream.streamName, ...written);
    await aws.faults.set({
      seed: 11,
      kinesis: {
        throttleRate: 0.3,
        operations: ['GetRecords', 'GetShardIterator', 'ListShards', 'DescribeStreamSummary'],
      },
    });
    try {
      const source = eventSource({
        kinesis: aws.kinesis,
        streamName: kinesisStream.streamName,
        batchSize: 2,
        handler: async () => undefined,
      });
      await source.start();
      await source.drain({ timeoutMs: 30_000 });
      expect(source.invocations.flatMap((invocation) => dataOf(invocation.event))).toEqual(written);
      expect((await aws.faults.stats()).kinesisThrottled).toBeGreaterThan(0);
    } finally {
      await aws.faults.clear();
    }
  });
});
