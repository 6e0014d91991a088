import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { FaultControlError, type LocalAws, LocalAwsOptionsError } from '@tidemark/testing';
import { localAws, test } from '@tidemark/testing/vitest';
import { afterEach, describe, expect } from 'vitest';
import { FAULTS_PATH } from '../../src/faults/fault-control';

afterEach(async () => {
  await (await localAws()).faults.clear();
});

function records(count: number) {
  return Array.from({ length: count }, (_, index) => ({
    PartitionKey: `aggregate-${index}`,
    Data: Buffer.from(`record-${index}`),
  }));
}

async function readAll(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const data: string[] = [];
  for (const shard of Shards) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    data.push(...Records.map((record) => Buffer.from(record.Data ?? []).toString('utf8')));
  }
  return data.sort();
}

function failedPositions(entries: readonly PutRecordsResultEntry[]): number[] {
  return entries.flatMap((entry, index) => (entry.ErrorCode ? [index] : []));
}

/** Clients without SDK retries, so an injected error reaches the test. */
function noRetry(aws: LocalAws) {
  return {
    kinesis: new KinesisClient({ ...aws.clientConfig, maxAttempts: 1 }),
    dynamodb: new DynamoDBClient({ ...aws.clientConfig, maxAttempts: 1 }),
  };
}

describe('PutRecords entry failures', () => {
  test('fails a seeded fraction of entries, forwards only the others and keeps positions', async ({
    aws,
    kinesisStream,
  }) => {
    await aws.faults.set({ seed: 7, kinesis: { putRecordsEntryFailureRate: 0.4 } });

    const result = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: kinesisStream.streamName, Records: records(20) }),
    );
    const entries = result.Records ?? [];
    const failed = failedPositions(entries);
    const stored = await readAll(aws.kinesis, kinesisStream.streamName);
    const stats = await aws.faults.stats();

    expect(entries).toHaveLength(20);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(20);
    expect(result.FailedRecordCount).toBe(failed.length);
    for (const index of failed) {
      expect(entries[index]).toMatchObject({ ErrorCode: 'ProvisionedThroughputExceededException' });
      expect(entries[index]?.SequenceNumber).toBeUndefined();
    }
    const succeeded = entries.flatMap((entry, index) => (entry.ErrorCode ? [] : [index]));
    expect(succeeded.every((index) => /^\d+$/.test(entries[index]?.SequenceNumber ?? ''))).toBe(true);
    expect(stored).toEqual(succeeded.map((index) => `record-${index}`).sort());
    expect(stats.putRecordsEntriesFailed).toBe(failed.length);
    expect(stats.putRecordsCallsWithFailures).toBe(1);
    expect(stats.byOperation).toEqual({ 'Kinesis.PutRecords': failed.length });
    // Every call is counted per operation, not only the faulted ones: one PutRecords, then the reads.
    expect(stats.requestsByOperation['Kinesis.PutRecords']).toBe(1);
    expect(stats.requestsByOperation['Kinesis.GetRecords']).toBeGreaterThan(0);
    expect(Object.values(stats.requestsByOperation).reduce((sum, count) => sum + count, 0)).toBe(
      stats.requests,
    );
  });

  test('the same seed fails the same positions', async ({ aws }) => {
    const first = await aws.createKinesisStream();
    const second = await aws.createKinesisStream();

    await aws.faults.set({ seed: 42, kinesis: { putRecordsEntryFailureRate: 0.5 } });
    const a = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: first.streamName, Records: records(16) }),
    );
    await aws.faults.set({ seed: 42, kinesis: { putRecordsEntryFailureRate: 0.5 } });
    const b = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: second.streamName, Records: records(16) }),
    );
    await aws.faults.set({ seed: 43, kinesis: { putRecordsEntryFailureRate: 0.5 } });
    const c = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: second.streamName, Records: records(16) }),
    );

    expect(failedPositions(b.Records ?? [])).toEqual(failedPositions(a.Records ?? []));
    expect(failedPositions(c.Records ?? [])).not.toEqual(failedPositions(a.Records ?? []));
  });

  test('a rate of 1 fails every entry and writes nothing', async ({ aws, kinesisStream }) => {
    await aws.faults.set({ kinesis: { putRecordsEntryFailureRate: 1 } });

    const result = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: kinesisStream.streamName, Records: records(5) }),
    );

    expect(result.FailedRecordCount).toBe(5);
    expect(failedPositions(result.Records ?? [])).toEqual([0, 1, 2, 3, 4]);
    await aws.faults.clear();
    expect(await readAll(aws.kinesis, kinesisStream.streamName)).toEqual([]);
  });

  test('maxFaults stops injecting after that many failed entries', async ({ aws, kinesisStream }) => {
    await aws.faults.set({ maxFaults: 3, kinesis: { putRecordsEntryFailureRate: 1 } });

    const first = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: kinesisStream.streamName, Records: records(5) }),
    );
    const second = await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: kinesisStream.streamName, Records: records(5) }),
    );

    expect(failedPositions(first.Records ?? [])).toEqual([0, 1, 2]);
    expect(second.FailedRecordCount).toBe(0);
    expect((await aws.faults.stats()).injected).toBe(3);
  });
});

describe('throttling whole calls', () => {
  test('Kinesis calls get ProvisionedThroughputExceededException (HTTP 400) by default', async ({
    aws,
    kinesisStream,
  }) => {
    const { kinesis } = noRetry(aws);
    await aws.faults.set({ kinesis: { throttleRate: 1, operations: ['PutRecord'] } });

    const error = await kinesis
      .send(
        new PutRecordCommand({
          StreamName: kinesisStream.streamName,
          PartitionKey: 'a',
          Data: Buffer.from('x'),
        }),
      )
      .catch((caught: unknown) => caught);
    const listed = await kinesis.send(new ListShardsCommand({ StreamName: kinesisStream.streamName }));

    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(listed.Shards).toHaveLength(1);
    expect(await readAll(aws.kinesis, kinesisStream.streamName)).toEqual([]);
    expect((await aws.faults.stats()).kinesisThrottled).toBe(1);
    kinesis.destroy();
  });

  test('Kinesis calls can get LimitExceededException instead', async ({ aws, kinesisStream }) => {
    const { kinesis } = noRetry(aws);
    await aws.faults.set({
      kinesis: { throttleRate: 1, throttleError: 'LimitExceededException', operations: ['ListShards'] },
    });

    const error = await kinesis
      .send(new ListShardsCommand({ StreamName: kinesisStream.streamName }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } });
    kinesis.destroy();
  });

  test('chosen DynamoDB operations fail with the chosen error; others pass', async ({
    aws,
    eventLogTable,
  }) => {
    const { dynamodb } = noRetry(aws);
    await aws.faults.set({
      dynamodb: { failureRate: 1, operations: ['TransactWriteItems'], error: 'ThrottlingException' },
    });
    const item = { pk: { S: 'task#1' }, sk: { N: '1' } };

    const error = await dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: eventLogTable.tableName, Item: item } }],
        }),
      )
      .catch((caught: unknown) => caught);
    await dynamodb.send(new PutItemCommand({ TableName: eventLogTable.tableName, Item: item }));

    expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect((await aws.faults.stats()).byOperation).toEqual({ 'DynamoDB.TransactWriteItems': 1 });
    dynamodb.destroy();
  });

  test.each([
    ['ProvisionedThroughputExceededException', 400],
    ['RequestLimitExceeded', 400],
    ['InternalServerError', 500],
  ] as const)('DynamoDB %s comes with HTTP %i and the SDK parses it', async (errorName, status) => {
    const aws = await localAws();
    const { dynamodb } = noRetry(aws);
    const { tableName } = await aws.createEventLogTable();
    await aws.faults.set({ dynamodb: { failureRate: 1, operations: ['GetItem'], error: errorName } });

    const error = await dynamodb
      .send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'a' }, sk: { N: '1' } } }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: errorName, $metadata: { httpStatusCode: status } });
    dynamodb.destroy();
  });

  test("the SDK's own retries get through a bounded number of faults", async ({ aws, eventLogTable }) => {
    await aws.faults.set({ maxFaults: 1, dynamodb: { failureRate: 1, operations: ['UpdateItem'] } });

    const result = await aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: eventLogTable.tableName,
        Key: { pk: { S: 'task#1' }, sk: { N: '1' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '1' } },
      }),
    );

    expect(result.$metadata.attempts).toBe(2);
    expect((await aws.faults.stats()).dynamodbFailed).toBe(1);
  });

  test('latency delays calls and is counted', async ({ aws }) => {
    await aws.faults.set({ latencyMs: 5 });

    await aws.createEventLogTable();
    const stats = await aws.faults.stats();

    expect(stats.delayed).toBeGreaterThanOrEqual(2);
    expect(stats.delayed).toBe(stats.requests);
    expect(stats.injected).toBe(0);
  });
});

describe('fault control', () => {
  test('rejects unknown or out-of-range settings with a typed error', async ({ aws }) => {
    await expect(aws.faults.set({ kinesis: { throttelRate: 1 } } as never)).rejects.toBeInstanceOf(
      LocalAwsOptionsError,
    );
    await expect(aws.faults.set({ dynamodb: { failureRate: 2 } })).rejects.toThrow(/from 0 to 1/);
  });

  test('the edge refuses invalid settings sent straight to its control API', async ({ aws }) => {
    const response = await fetch(new URL(FAULTS_PATH, aws.endpoint), {
      method: 'PUT',
      body: JSON.stringify({ latencyMs: -1 }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'LOCAL_AWS_OPTIONS_INVALID' });
  });

  test('clear stops injecting and keeps the stats; set resets them', async ({ aws, eventLogTable }) => {
    const { dynamodb } = noRetry(aws);
    const get = () =>
      dynamodb.send(
        new GetItemCommand({ TableName: eventLogTable.tableName, Key: { pk: { S: 'a' }, sk: { N: '1' } } }),
      );
    await aws.faults.set({ dynamodb: { failureRate: 1 } });
    await expect(get()).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });

    await aws.faults.clear();
    await get();
    const kept = await aws.faults.stats();
    await aws.faults.set({});
    const reset = await aws.faults.stats();

    expect(kept.dynamodbFailed).toBe(1);
    expect(kept.requests).toBe(2);
    expect(reset.requests).toBe(0);
    dynamodb.destroy();
  });

  test('a handle that cannot reach the edge reports a FaultControlError', async () => {
    const { connectLocalAws } = await import('@tidemark/testing');
    const aws = connectLocalAws({
      mode: 'endpoint',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });

    await expect(aws.faults.stats()).rejects.toBeInstanceOf(FaultControlError);
    await aws.stop();
  });
});
