import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbStreamEventSource, type DynamoDbStreamEventSource } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, describe, expect } from 'vitest';

const sources: DynamoDbStreamEventSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

const key = { pk: { S: 'Task#t-1' }, sk: { N: '1' } };

describe('DynamoDB stream event source on DynamoDB Local', () => {
  test('delivers INSERT, MODIFY and REMOVE in order, in the shape Lambda sends', async ({
    aws,
    eventLogTable,
  }) => {
    const { tableName, streamArn } = eventLogTable;
    await aws.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...key, name: { S: 'draft' }, blob: { B: Buffer.from('hi') } },
      }),
    );
    await aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': { S: 'final' } },
      }),
    );
    await aws.dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: key }));
    const records: DynamoDBRecord[] = [];
    const source = createDynamoDbStreamEventSource({
      dynamodbStreams: aws.dynamodbStreams,
      streamArn,
      pollIntervalMs: 20,
      handler: async (event) => void records.push(...event.Records),
    });
    sources.push(source);

    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const sequenceNumbers = records.map((record) => BigInt(record.dynamodb!.SequenceNumber!));
    expect([...sequenceNumbers].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequenceNumbers);
    const [insert, modify, remove] = records;
    expect(insert).toMatchObject({
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      // The stream in the records' region (DynamoDB Local's own ARNs say `ddblocal`).
      eventSourceARN: streamArn.replace(/^(arn:[^:]+:dynamodb:)[^:]*/, `$1${aws.region}`),
      awsRegion: aws.region,
      dynamodb: {
        Keys: key,
        NewImage: { ...key, name: { S: 'draft' }, blob: { B: Buffer.from('hi').toString('base64') } },
        StreamViewType: 'NEW_IMAGE',
      },
    });
    expect(insert!.eventID).toEqual(expect.any(String));
    expect(Number.isInteger(insert!.dynamodb!.ApproximateCreationDateTime)).toBe(true);
    expect(insert!.dynamodb!.ApproximateCreationDateTime! * 1000).toBeLessThanOrEqual(Date.now());
    expect(insert!.dynamodb!.SizeBytes).toBeGreaterThan(0);
    expect(modify!.dynamodb!.NewImage!.name).toEqual({ S: 'final' });
    expect(remove!.dynamodb).not.toHaveProperty('NewImage');
    expect(remove!.dynamodb!.Keys).toEqual(key);
  });

  test('delivers empty maps and lists as Lambda does, although DynamoDB Local streams drop the M of an empty map', async ({
    aws,
    eventLogTable,
  }) => {
    const { tableName, streamArn } = eventLogTable;
    const item = {
      ...key,
      payload: { M: {} },
      list: { L: [] },
      nested: { M: { empty: { M: {} }, none: { L: [] } } },
    };
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: item }));
    const records: DynamoDBRecord[] = [];
    const source = createDynamoDbStreamEventSource({
      dynamodbStreams: aws.dynamodbStreams,
      streamArn,
      pollIntervalMs: 20,
      handler: async (event) => void records.push(...event.Records),
    });
    sources.push(source);

    await source.start();
    await source.drain({ timeoutMs: 20_000 });

    expect(records).toHaveLength(1);
    expect(records[0]?.dynamodb?.NewImage).toEqual(item);
  });

  test('with LATEST delivers only changes made after start() (client built from a config)', async ({
    aws,
    eventLogTable,
  }) => {
    const { tableName, streamArn } = eventLogTable;
    await aws.dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'A#before' }, sk: { N: '1' } } }),
    );
    const keys: string[] = [];
    const source = createDynamoDbStreamEventSource({
      dynamodbStreams: aws.clientConfig,
      streamArn,
      startingPosition: 'LATEST',
      pollIntervalMs: 20,
      handler: async (event) =>
        void keys.push(...event.Records.map((record) => record.dynamodb!.Keys!.pk!.S!)),
    });
    sources.push(source);
    await source.start();
    await aws.dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'A#after' }, sk: { N: '1' } } }),
    );
    await source.drain({ timeoutMs: 20_000 });
    expect(keys).toEqual(['A#after']);
  });

  test('ReportBatchItemFailures resumes from the failed stream record', async ({ aws, eventLogTable }) => {
    const { tableName, streamArn } = eventLogTable;
    for (const version of [1, 2, 3]) {
      await aws.dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: 'Task#t-2' }, sk: { N: String(version) } },
        }),
      );
    }
    let calls = 0;
    const source = createDynamoDbStreamEventSource({
      dynamodbStreams: aws.dynamodbStreams,
      streamArn,
      reportBatchItemFailures: true,
      pollIntervalMs: 20,
      handler: async (event) => {
        calls += 1;
        if (calls > 1) return { batchItemFailures: [] };
        return { batchItemFailures: [{ itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber! }] };
      },
    });
    sources.push(source);
    await source.start();
    await source.drain({ timeoutMs: 20_000 });
    const versions = source.invocations.map((invocation) =>
      invocation.event.Records.map((record) => record.dynamodb!.Keys!.sk!.N),
    );
    expect(versions).toEqual([
      ['1', '2', '3'],
      ['2', '3'],
    ]);
  });
});
