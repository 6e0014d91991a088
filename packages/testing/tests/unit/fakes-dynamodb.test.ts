import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDB, FakeUnsupportedError, MAX_ITEM_BYTES } from '@tidemark/testing/fakes';
import { describe, expect, it } from 'vitest';

const TABLE = 'events';

async function model(options: ConstructorParameters<typeof FakeDynamoDB>[0] = {}): Promise<FakeDynamoDB> {
  const dynamodb = new FakeDynamoDB(options);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return dynamodb;
}

async function errorOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

/** An item of exactly `bytes` bytes as DynamoDB counts them (names + values). */
function itemOfSize(bytes: number, sk = 1): Record<string, { S: string } | { N: string }> {
  // pk (2) + 'a' (1) + sk (2) + N '1' (2) + data (4) = 11 bytes of overhead.
  return { pk: { S: 'a' }, sk: { N: String(sk) }, data: { S: 'x'.repeat(bytes - 11) } };
}

describe('FakeDynamoDB', () => {
  it('stores and reads an item with numbers normalised as DynamoDB returns them', async () => {
    const dynamodb = await model();
    await dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: '01.50' }, n: { N: '1e2' } } }),
    );
    const got = await dynamodb.send<{ Item?: unknown; $metadata: { httpStatusCode?: number } }>(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'a' }, sk: { N: '1.5' } },
        ConsistentRead: true,
      }),
    );
    expect(got.Item).toEqual({ pk: { S: 'a' }, sk: { N: '1.5' }, n: { N: '100' } });
    expect(got.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses an item over 400 KB and accepts one of exactly 400 KB', async () => {
    const dynamodb = await model();
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: itemOfSize(MAX_ITEM_BYTES) }));
    const error = await errorOf(
      dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: itemOfSize(MAX_ITEM_BYTES + 1, 2) })),
    );
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('Item size has exceeded the maximum allowed size');
    expect(dynamodb.writes.map((write) => write.sizeBytes)).toEqual([MAX_ITEM_BYTES]);
  });

  it('throws ConditionalCheckFailedException with the item when ALL_OLD is asked', async () => {
    const dynamodb = await model();
    const item = { pk: { S: 'a' }, sk: { N: '1' }, revision: { N: '3' } };
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    const error = await errorOf(
      dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...item, revision: { N: '4' } },
          ConditionExpression: '#revision = :revision',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':revision': { N: '2' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error.Item).toEqual(item);
  });

  it('cancels a transaction with one reason per action', async () => {
    const dynamodb = await model();
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: '1' } } }));
    const error = await errorOf(
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: '2' } } } },
            {
              Put: {
                TableName: TABLE,
                Item: { pk: { S: 'a' }, sk: { N: '1' } },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { pk: { S: 'a' }, sk: { N: '1' } },
      },
    ]);
    expect(dynamodb.dump(TABLE)).toHaveLength(1);
  });

  it('refuses BatchGetItem over 100 keys and BatchWriteItem over 25 requests', async () => {
    const dynamodb = await model();
    const keys = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ pk: { S: 'a' }, sk: { N: String(index) } }));
    await dynamodb.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(100) } } }));
    expect(
      (
        await errorOf(
          dynamodb.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(101) } } })),
        )
      ).name,
    ).toBe('ValidationException');
    const puts = (count: number) => keys(count).map((Item) => ({ PutRequest: { Item } }));
    await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: puts(25) } }));
    expect(
      (await errorOf(dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: puts(26) } })))).name,
    ).toBe('ValidationException');
  });

  it('pages a query by Limit and continues from LastEvaluatedKey, backwards too', async () => {
    const dynamodb = await model();
    for (const sk of [3, 1, 10, 2]) {
      await dynamodb.send(
        new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: String(sk) } } }),
      );
    }
    const page = (start?: Record<string, unknown>, forward = true) =>
      dynamodb.send<{ Items: { sk: { N: string } }[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND sk >= :from',
          ExpressionAttributeValues: { ':pk': { S: 'a' }, ':from': { N: '2' } },
          Limit: 2,
          ScanIndexForward: forward,
          // biome-ignore lint/suspicious/noExplicitAny: a key from the previous page
          ...(start ? { ExclusiveStartKey: start as any } : {}),
        }),
      );
    const first = await page();
    expect(first.Items.map((item) => item.sk.N)).toEqual(['2', '3']);
    const second = await page(first.LastEvaluatedKey);
    expect(second.Items.map((item) => item.sk.N)).toEqual(['10']);
    expect(second.LastEvaluatedKey).toBeUndefined();
    expect((await page(undefined, false)).Items.map((item) => item.sk.N)).toEqual(['10', '3']);
  });

  it('refuses unused expression attribute values like DynamoDB', async () => {
    const dynamodb = await model();
    const error = await errorOf(
      dynamodb.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'a' }, sk: { N: '1' } },
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':unused': { S: 'x' } },
        }),
      ),
    );
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('unused in expressions: keys: {:unused}');
  });

  it('applies SET, REMOVE, ADD and DELETE with if_not_exists and list_append', async () => {
    const dynamodb = await model();
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'a' }, sk: { N: '1' }, tags: { SS: ['x', 'y'] }, gone: { S: 'z' } },
      }),
    );
    const result = await dynamodb.send<{ Attributes: unknown }>(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'a' }, sk: { N: '1' } },
        UpdateExpression:
          'SET n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :empty), :l) REMOVE gone ADD c :one DELETE tags :x',
        ExpressionAttributeValues: {
          ':zero': { N: '0' },
          ':one': { N: '1' },
          ':empty': { L: [] },
          ':l': { L: [{ S: 'q' }] },
          ':x': { SS: ['x'] },
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(result.Attributes).toEqual({
      pk: { S: 'a' },
      sk: { N: '1' },
      tags: { SS: ['y'] },
      n: { N: '1' },
      l: { L: [{ S: 'q' }] },
      c: { N: '1' },
    });
  });

  it('answers ResourceNotFoundException for an unknown table and refuses commands it does not implement', async () => {
    const dynamodb = await model();
    expect(
      await errorOf(dynamodb.send(new GetItemCommand({ TableName: 'nope', Key: { pk: { S: 'a' } } }))),
    ).toBeInstanceOf(ResourceNotFoundException);
    class ExecuteStatementCommand {
      readonly input = {};
    }
    expect(await errorOf(dynamodb.send(new ExecuteStatementCommand()))).toBeInstanceOf(FakeUnsupportedError);
  });
});
