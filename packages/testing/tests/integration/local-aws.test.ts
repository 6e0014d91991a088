import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand as GetStreamRecordsCommand,
  GetShardIteratorCommand as GetStreamShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { test } from '@tidemark/testing/vitest';
import { afterEach, describe, expect } from 'vitest';

const ENV_KEYS = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

afterEach(() => {
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

async function readKinesisShard(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: Shards[0]?.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
  return Records.map((record) => Buffer.from(record.Data ?? []).toString('utf8'));
}

async function readDynamoDbStream(streams: DynamoDBStreamsClient, streamArn: string) {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const { ShardIterator } = await streams.send(
    new GetStreamShardIteratorCommand({
      StreamArn: streamArn,
      ShardId: StreamDescription?.Shards?.[0]?.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await streams.send(new GetStreamRecordsCommand({ ShardIterator }));
  return Records;
}

describe('startLocalAws through the edge', () => {
  test('serves a stock DynamoDBClient given only the endpoint', async ({ aws }) => {
    const dynamodb = new DynamoDBClient({
      endpoint: aws.endpoint,
      region: aws.region,
      credentials: aws.credentials,
    });
    const { tableName } = await aws.createTable({
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });

    await dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { id: { S: 'a' }, n: { N: '7' } } }),
    );
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: 'a' } } }),
    );

    expect(Item).toEqual({ id: { S: 'a' }, n: { N: '7' } });
    dynamodb.destroy();
  });

  test('serves a stock DynamoDBStreamsClient: an insert shows up as a NEW_IMAGE record', async ({
    aws,
    eventLogTable,
  }) => {
    const streams = new DynamoDBStreamsClient({
      endpoint: aws.endpoint,
      region: aws.region,
      credentials: aws.credentials,
    });
    await aws.dynamodb.send(
      new PutItemCommand({
        TableName: eventLogTable.tableName,
        Item: { pk: { S: 'task#1' }, sk: { N: '1' }, eventType: { S: 'TaskCreated' } },
      }),
    );

    const records = await readDynamoDbStream(streams, eventLogTable.streamArn);

    expect(records).toHaveLength(1);
    expect(records[0]?.eventName).toBe('INSERT');
    expect(records[0]?.dynamodb?.NewImage).toEqual({
      pk: { S: 'task#1' },
      sk: { N: '1' },
      eventType: { S: 'TaskCreated' },
    });
    expect(records[0]?.dynamodb?.StreamViewType).toBe('NEW_IMAGE');
    streams.destroy();
  });

  test('serves a stock KinesisClient (HTTP/2 cleartext) given only the endpoint', async ({
    aws,
    kinesisStream,
  }) => {
    const kinesis = new KinesisClient({
      endpoint: aws.endpoint,
      region: aws.region,
      credentials: aws.credentials,
    });

    const put = await kinesis.send(
      new PutRecordCommand({
        StreamName: kinesisStream.streamName,
        PartitionKey: 'task#1',
        Data: Buffer.from('hello'),
      }),
    );
    const data = await readKinesisShard(kinesis, kinesisStream.streamName);

    expect(put.SequenceNumber).toMatch(/^\d+$/);
    expect(data).toEqual(['hello']);
    kinesis.destroy();
  });

  test('serves stock clients configured only through AWS_ENDPOINT_URL and the environment', async ({
    aws,
    kinesisStream,
  }) => {
    process.env.AWS_ENDPOINT_URL = aws.endpoint;
    process.env.AWS_REGION = aws.region;
    process.env.AWS_ACCESS_KEY_ID = aws.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = aws.credentials.secretAccessKey;
    const dynamodb = new DynamoDBClient({});
    const streams = new DynamoDBStreamsClient({});
    const kinesis = new KinesisClient({});

    const tableName = `env-${Date.now().toString(36)}`;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'x' } } }));
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const streamRecords = await readDynamoDbStream(streams, Table?.LatestStreamArn ?? '');
    await kinesis.send(
      new PutRecordCommand({
        StreamName: kinesisStream.streamName,
        PartitionKey: 'p',
        Data: Buffer.from('env'),
      }),
    );
    const data = await readKinesisShard(kinesis, kinesisStream.streamName);

    // The table made by the environment-configured client is visible through the edge's own client.
    expect((await aws.dynamodb.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
    expect(streamRecords.map((record) => record.dynamodb?.Keys)).toEqual([{ id: { S: 'x' } }]);
    expect(data).toEqual(['env']);
    dynamodb.destroy();
    streams.destroy();
    kinesis.destroy();
  });
});

describe('resource helpers and fixtures', () => {
  test('eventLogTable is a fresh ACTIVE event-log table with a NEW_IMAGE stream', async ({
    aws,
    eventLogTable,
  }) => {
    const { Table } = await aws.dynamodb.send(
      new DescribeTableCommand({ TableName: eventLogTable.tableName }),
    );

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(Table?.LatestStreamArn).toBe(eventLogTable.streamArn);
  });

  test('kinesisStream is a fresh ACTIVE one-shard stream', async ({ aws, kinesisStream }) => {
    const { StreamDescriptionSummary } = await aws.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: kinesisStream.streamName }),
    );

    expect(StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(StreamDescriptionSummary?.OpenShardCount).toBe(1);
    expect(StreamDescriptionSummary?.StreamARN).toBe(kinesisStream.streamArn);
  });

  test('createKinesisStream honours prefix and shardCount and makes unique names', async ({ aws }) => {
    const first = await aws.createKinesisStream({ prefix: 'orders', shardCount: 3 });
    const second = await aws.createKinesisStream({ prefix: 'orders', shardCount: 3 });
    const { Shards = [] } = await aws.kinesis.send(new ListShardsCommand({ StreamName: first.streamName }));

    expect(first.streamName).toMatch(/^orders-/);
    expect(second.streamName).not.toBe(first.streamName);
    expect(Shards).toHaveLength(3);
  });

  test('createTable makes a unique name when none is given and returns the stream ARN when there is one', async ({
    aws,
  }) => {
    const input = {
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' as const }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
      BillingMode: 'PAY_PER_REQUEST' as const,
    };
    const plain = await aws.createTable(input);
    const streamed = await aws.createTable({
      ...input,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    const named = await aws.createTable({ ...input, TableName: `named-${Date.now().toString(36)}` });

    expect(plain.streamArn).toBeUndefined();
    expect(streamed.streamArn).toMatch(/stream/);
    expect(streamed.tableName).not.toBe(plain.tableName);
    expect(named.tableName).toMatch(/^named-/);
  });

  test('helpers reject unknown options and bad values', async ({ aws }) => {
    await expect(aws.createEventLogTable({ prefix: 'no spaces' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      factory: 'createEventLogTable',
      option: 'prefix',
    });
    await expect(aws.createKinesisStream({ shardCount: 0 })).rejects.toMatchObject({
      factory: 'createKinesisStream',
      option: 'shardCount',
    });
    await expect(aws.createKinesisStream({ shards: 2 } as never)).rejects.toThrow(
      'createKinesisStream: unknown option "shards"; expected one of prefix, shardCount',
    );
  });

  test('the fixture handle is the same as localAws() and its stop() leaves the run running', async ({
    aws,
  }) => {
    const { localAws } = await import('@tidemark/testing/vitest');
    const again = await localAws();
    await again.stop();

    expect(again).toBe(aws);
    expect((await aws.dynamodb.send(new ListTablesCommand({}))).TableNames).toBeDefined();
  });
});
