import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ThrottlingException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { dynamoDbStreamEvent } from '@tidemark/testing';
import {
  CLIENT_REQUEST_TOKEN_TTL_MS,
  FakeDynamoDB,
  type FakeDynamoDBOptions,
  LocalAwsOptionsError,
} from '@tidemark/testing/fakes';
import { describe, expect, it } from 'vitest';

const TABLE = 'state';

function model(options: FakeDynamoDBOptions = {}): FakeDynamoDB {
  const dynamodb = new FakeDynamoDB(options);
  dynamodb.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  });
  return dynamodb;
}

const put = (pk: string, extra: Record<string, unknown> = {}) =>
  new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk } }, ...extra });

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

describe('FakeDynamoDB faults', () => {
  it('draws the same faults from the same seed and the same calls', async () => {
    const run = async (seed: number) => {
      const dynamodb = model({ faults: { seed, all: { throttleRate: 0.3, serverErrorRate: 0.2 } } });
      const outcomes: string[] = [];
      for (let index = 0; index < 40; index += 1) {
        const result = await settle(dynamodb.send(put(`k${index}`)));
        outcomes.push(result instanceof Error ? result.name : 'ok');
      }
      return { outcomes, stats: dynamodb.faultStats, stored: dynamodb.dump(TABLE).length };
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect(await run(12)).not.toEqual(first);
    expect(first.outcomes).toContain('ProvisionedThroughputExceededException');
    expect(first.outcomes).toContain('InternalServerError');
    expect(first.stored).toBe(first.outcomes.filter((outcome) => outcome === 'ok').length);
    expect(first.stats.throttled + first.stats.serverErrors).toBe(40 - first.stored);
  });

  it('throws the SDK exception classes with the metadata the SDK sets', async () => {
    const throttled = model({ faults: { all: { throttleRate: 1, throttleError: 'ThrottlingException' } } });
    const throttle = (await settle(throttled.send(put('a')))) as ThrottlingException;
    expect(throttle).toBeInstanceOf(ThrottlingException);
    expect(throttle.$metadata.httpStatusCode).toBe(400);
    expect(throttle.$fault).toBe('client');
    const failing = model({ faults: { operations: { PutItem: { serverErrorRate: 1 } } } });
    const failure = (await settle(failing.send(put('a')))) as InternalServerError;
    expect(failure).toBeInstanceOf(InternalServerError);
    expect(failure.$metadata.httpStatusCode).toBe(500);
    expect(
      await failing.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } })),
    ).not.toHaveProperty('Item');
    const invalid = (await settle(
      failing.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: '' } } })),
    )) as DynamoDBServiceException;
    expect(invalid).toBeInstanceOf(DynamoDBServiceException);
    expect([invalid.name, invalid.$fault, invalid.$metadata.httpStatusCode]).toEqual([
      'ValidationException',
      'client',
      400,
    ]);
  });

  it('stores a write whose answer it then loses', async () => {
    const outcomes: { applied: boolean; error?: unknown }[] = [];
    const dynamodb = model({
      faults: { operations: { PutItem: { lostResponseRate: 1, lostResponseError: 'TimeoutError' } } },
      onAfterSend: (outcome) => {
        outcomes.push({ applied: outcome.applied, error: outcome.error });
      },
    });
    const error = (await settle(dynamodb.send(put('a')))) as Error;
    expect(error.name).toBe('TimeoutError');
    expect(dynamodb.item(TABLE, { pk: { S: 'a' } })).toEqual({ pk: { S: 'a' } });
    expect(outcomes).toEqual([{ applied: true, error }]);
    expect(dynamodb.faultStats.lostResponses).toBe(1);
  });

  it('returns unprocessed keys that a retry loop eventually reads, each key once', async () => {
    const dynamodb = model({ faults: { seed: 5, operations: { BatchGetItem: { unprocessedRate: 0.5 } } } });
    dynamodb.seed(
      TABLE,
      Array.from({ length: 100 }, (_, index) => ({ pk: { S: `k${index}` } })),
    );
    let pending = Array.from({ length: 100 }, (_, index) => ({ pk: { S: `k${index}` } }));
    const read: string[] = [];
    let calls = 0;
    while (pending.length > 0) {
      calls += 1;
      const answer = await dynamodb.send<{
        Responses: Record<string, { pk: { S: string } }[]>;
        UnprocessedKeys: Record<string, { Keys: typeof pending }>;
      }>(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: pending } } }));
      read.push(...answer.Responses[TABLE]!.map((item) => item.pk.S));
      pending = answer.UnprocessedKeys[TABLE]?.Keys ?? [];
    }
    expect(read.sort()).toEqual(Array.from({ length: 100 }, (_, index) => `k${index}`).sort());
    expect(calls).toBeGreaterThan(1);
    expect(dynamodb.requestCounts.BatchGetItem).toBe(calls);
  });

  it('cancels a transaction with TransactionConflict and writes nothing', async () => {
    const dynamodb = model({
      faults: { operations: { TransactWriteItems: { transactionConflictRate: 1 } } },
    });
    const error = (await settle(
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: { S: 'a' } } } },
            { Put: { TableName: TABLE, Item: { pk: { S: 'b' } } } },
          ],
        }),
      ),
    )) as { name: string; CancellationReasons: { Code: string }[] };
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.CancellationReasons.map((reason) => reason.Code)).toEqual(['TransactionConflict', 'None']);
    expect(dynamodb.dump(TABLE)).toEqual([]);
  });

  it('stops injecting after maxFaults', async () => {
    const dynamodb = model({ faults: { maxFaults: 2, all: { throttleRate: 1 } } });
    const outcomes = [];
    for (let index = 0; index < 4; index += 1) outcomes.push(await settle(dynamodb.send(put(`k${index}`))));
    expect(
      outcomes.map((outcome) =>
        outcome instanceof ProvisionedThroughputExceededException ? 'throttled' : 'ok',
      ),
    ).toEqual(['throttled', 'throttled', 'ok', 'ok']);
  });

  it('refuses unknown options and invalid fault settings with a typed error', () => {
    expect(() => new FakeDynamoDB({ fault: {} } as unknown as FakeDynamoDBOptions)).toThrow(
      LocalAwsOptionsError,
    );
    expect(() => new FakeDynamoDB({ faults: { all: { throttleRate: 2 } } })).toThrow(
      /faults\.all\.throttleRate/,
    );
    expect(() => new FakeDynamoDB({ faults: { operations: { PutItems: {} } } as never })).toThrow(
      LocalAwsOptionsError,
    );
    expect(() => new FakeDynamoDB({ onBeforeSend: 'nope' as never })).toThrow(/onBeforeSend/);
  });
});

describe('FakeDynamoDB hooks', () => {
  it('holds a call in onBeforeSend: nothing is written until the hook lets it go', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const dynamodb = model({ onBeforeSend: (call) => (call.operation === 'PutItem' ? gate : undefined) });
    const pending = dynamodb.send(put('a'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(dynamodb.dump(TABLE)).toEqual([]);
    release();
    await pending;
    expect(dynamodb.dump(TABLE)).toEqual([{ pk: { S: 'a' } }]);
  });

  it('kills a call in onBeforeSend: the error reaches the caller and nothing is written', async () => {
    const killed = new Error('invocation killed');
    const dynamodb = model({
      onBeforeSend: (call) => {
        if (call.callIndex === 2) throw killed;
      },
    });
    await dynamodb.send(put('a'));
    expect(await settle(dynamodb.send(put('b')))).toBe(killed);
    expect(dynamodb.dump(TABLE).map((item) => item.pk!.S)).toEqual(['a']);
    expect(dynamodb.callCount).toBe(2);
  });

  it('honours an aborted signal before the call is carried out', async () => {
    const dynamodb = model();
    const controller = new AbortController();
    controller.abort();
    const error = (await settle(dynamodb.send(put('a'), { abortSignal: controller.signal }))) as Error;
    expect(error.name).toBe('AbortError');
    expect(dynamodb.dump(TABLE)).toEqual([]);
  });
});

describe('FakeDynamoDB introspection and idempotency', () => {
  it('records every write with its size and restores a snapshot', async () => {
    const dynamodb = model();
    await dynamodb.send(put('a', { Item: { pk: { S: 'a' }, data: { S: 'xyz' } } }));
    const snapshot = dynamodb.snapshot();
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '12345' } },
      }),
    );
    expect(dynamodb.writes.map((write) => [write.operation, write.kind, write.sizeBytes])).toEqual([
      ['PutItem', 'put', 2 + 1 + 4 + 3],
      ['UpdateItem', 'update', 2 + 1 + 4 + 3 + 1 + (1 + 3)],
    ]);
    dynamodb.restore(snapshot);
    expect(dynamodb.dump(TABLE)).toEqual([{ pk: { S: 'a' }, data: { S: 'xyz' } }]);
  });

  it('validates what is seeded or looked up directly like a request', () => {
    const dynamodb = model();
    expect(() => dynamodb.seed(TABLE, [{ pk: { S: 'a' }, big: { S: 'x'.repeat(400 * 1024) } }])).toThrow(
      'Item size has exceeded the maximum allowed size',
    );
    expect(() => dynamodb.item(TABLE, { pk: { N: '1' } })).toThrow(
      'The provided key element does not match the schema',
    );
    expect(() => dynamodb.dump('nope')).toThrow(LocalAwsOptionsError);
  });

  it('applies a retried transaction once within 10 minutes of its token, and again after', async () => {
    let now = 1_000_000;
    const dynamodb = model({ now: () => now });
    const increment = () =>
      new TransactWriteItemsCommand({
        ClientRequestToken: 'command-1',
        TransactItems: [
          {
            Update: {
              TableName: TABLE,
              Key: { pk: { S: 'a' } },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      });
    await dynamodb.send(increment());
    await dynamodb.send(increment());
    expect(dynamodb.item(TABLE, { pk: { S: 'a' } })?.n).toEqual({ N: '1' });
    const other = new TransactWriteItemsCommand({
      ClientRequestToken: 'command-1',
      TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: 'b' } } } }],
    });
    expect(((await settle(dynamodb.send(other))) as Error).name).toBe('IdempotentParameterMismatchException');
    now += CLIENT_REQUEST_TOKEN_TTL_MS;
    await dynamodb.send(increment());
    expect(dynamodb.item(TABLE, { pk: { S: 'a' } })?.n).toEqual({ N: '2' });
  });

  it('forgets a token ten minutes after its transaction, and keeps no copy of the transaction', async () => {
    let now = 1_000_000;
    const dynamodb = model({ now: () => now });
    const put = (token: string, pad: number) =>
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [
          { Put: { TableName: TABLE, Item: { pk: { S: token }, pad: { S: 'p'.repeat(pad) } } } },
        ],
      });
    // A warm consumer's transactions, one a second for an hour: only the last ten minutes' tokens stay.
    for (let second = 0; second < 3600; second += 1) {
      await dynamodb.send(put(`token-${second}`, 10));
      now += 1000;
    }
    const tokens = dynamodb.snapshot().tokens.map(([token]) => token);
    expect(tokens).toHaveLength(CLIENT_REQUEST_TOKEN_TTL_MS / 1000);
    expect(tokens[0]).toBe(`token-${3600 - CLIENT_REQUEST_TOKEN_TTL_MS / 1000}`);
    // A token reused after it expired is remembered again, as the newest.
    await dynamodb.send(put('token-0', 10));
    expect(dynamodb.snapshot().tokens.at(-1)?.[0]).toBe('token-0');
    // A 350 KB transaction is remembered by a digest, and a retry with other items still mismatches.
    await dynamodb.send(put('big', 350 * 1024));
    const [, remembered] = dynamodb.snapshot().tokens.find(([token]) => token === 'big')!;
    expect(remembered.fingerprint.length).toBeLessThan(100);
    expect(((await settle(dynamodb.send(put('big', 350 * 1024 - 1)))) as Error).name).toBe(
      'IdempotentParameterMismatchException',
    );
    await dynamodb.send(put('big', 350 * 1024));
  });

  it('describes its tables like DynamoDB', async () => {
    const dynamodb = new FakeDynamoDB({ region: 'eu-west-1' });
    const created = await dynamodb.send<{ TableDescription: { TableArn: string; TableStatus: string } }>(
      new CreateTableCommand({
        TableName: 'with-stream',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    expect(created.TableDescription).toMatchObject({
      TableArn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/with-stream',
      TableStatus: 'ACTIVE',
    });
    expect(dynamodb.config.region).toBe('eu-west-1');
    expect(
      (
        (await settle(
          dynamodb.send(
            new CreateTableCommand({
              TableName: 'with-stream',
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
            }),
          ),
        )) as Error
      ).name,
    ).toBe('ResourceInUseException');
  });
});

describe('FakeDynamoDB change log', () => {
  it('records INSERT, MODIFY and REMOVE for real changes only, ready for the stream event factories', async () => {
    const dynamodb = model();
    await dynamodb.send(put('a', { Item: { pk: { S: 'a' }, v: { N: '1' } } }));
    await dynamodb.send(put('a', { Item: { pk: { S: 'a' }, v: { N: '1' } } })); // identical: no change
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET v = :two',
        ExpressionAttributeValues: { ':two': { N: '2' } },
      }),
    );
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Delete: { TableName: TABLE, Key: { pk: { S: 'a' } } } },
          { Delete: { TableName: TABLE, Key: { pk: { S: 'missing' } } } },
        ],
      }),
    );
    const changes = dynamodb.changes(TABLE);
    expect(
      changes.map((change) => [
        change.eventName,
        change.operation,
        change.oldImage?.v?.N,
        change.newImage?.v?.N,
      ]),
    ).toEqual([
      ['INSERT', 'PutItem', undefined, '1'],
      ['MODIFY', 'UpdateItem', '1', '2'],
      ['REMOVE', 'TransactWriteItems', '2', undefined],
    ]);
    const event = dynamoDbStreamEvent(
      changes.map((change) => ({
        eventName: change.eventName,
        ...(change.newImage ? { newImage: unmarshall(change.newImage) } : {}),
        ...(change.oldImage ? { oldImage: unmarshall(change.oldImage) } : {}),
      })),
      { streamViewType: 'NEW_AND_OLD_IMAGES', keyAttributes: ['pk'] },
    );
    expect(event.Records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
  });
});
