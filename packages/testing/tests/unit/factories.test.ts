import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  ConfigurationError,
  decodeEnvelope,
  EnvelopeValidationError,
  type EventLogItem,
  eventLogItemFromEnvelope,
  parseEventLogItem,
} from '@tidemark/core';
import type { AttributeValue } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { EventSourceConfigurationError, LambdaContextMethodError } from '../../src/errors';
import {
  buildEnvelope,
  buildEnvelopes,
  dynamoDbStreamEvent,
  dynamoDbStreamEventFromEnvelopes,
  dynamoDbStreamEventFromItems,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
  kinesisRecordFromEnvelope,
} from '../../src/index';
import { fakeLambdaContext, LAMBDA_CONTEXT_DEFAULTS } from '../../src/lambda-context';

/** The sample record of https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html */
const awsKinesisSample = {
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: '1',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
    approximateArrivalTimestamp: 1545084650.987,
  },
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
  awsRegion: 'us-east-2',
  eventSourceARN: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
};

/** The sample INSERT record of https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html */
const awsDynamoDbSample = {
  eventID: '1',
  eventVersion: '1.0',
  dynamodb: {
    Keys: { Id: { N: '101' } },
    NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
    StreamViewType: 'NEW_AND_OLD_IMAGES',
    SequenceNumber: '111',
    SizeBytes: 26,
  },
  awsRegion: 'us-west-2',
  eventName: 'INSERT',
  eventSourceARN:
    'arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899',
  eventSource: 'aws:dynamodb',
};

describe('buildEnvelope', () => {
  it('builds a valid envelope with defaults', () => {
    const envelope = buildEnvelope();
    expect(envelope).toMatchObject({
      specversion: '1.0',
      source: '/tidemark-tests',
      type: 'TestEventHappened',
      aggregatetype: 'Test',
      aggregateid: 'test-1',
      subject: 'test-1',
      aggregateversion: 1,
      data: {},
    });
  });

  it('takes overrides and validates them', () => {
    const envelope = buildEnvelope({
      type: 'TaskCreated',
      aggregate: { type: 'Task', id: 't-9' },
      version: 4,
      data: { n: 1 },
    });
    expect(envelope).toMatchObject({
      type: 'TaskCreated',
      aggregateid: 't-9',
      aggregateversion: 4,
      data: { n: 1 },
    });
    expect(() => buildEnvelope({ version: 0 })).toThrow(EnvelopeValidationError);
  });

  it('builds an aggregate history with contiguous versions and increasing command ids', () => {
    const envelopes = buildEnvelopes(3, { aggregate: { type: 'Task', id: 't-1' }, version: 5 });
    expect(envelopes.map((envelope) => envelope.aggregateversion)).toEqual([5, 6, 7]);
    const commandIds = envelopes.map((envelope) => envelope.commandid);
    expect([...commandIds].sort()).toEqual(commandIds);
    expect(new Set(commandIds).size).toBe(3);
  });
});

describe('kinesisEventFromData', () => {
  it('builds exactly the record of AWS sample event', () => {
    const event = kinesisEventFromData([{ data: 'Hello, this is a test.', partitionKey: '1' }], {
      shardId: 'shardId-000000000006',
      streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
      firstSequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      approximateArrivalTimestamp: new Date(1545084650987),
    });
    expect(event).toEqual({ Records: [awsKinesisSample] });
  });

  it('keeps raw bytes as they are, for malformed input', () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00]);
    const [record] = kinesisEventFromData([bytes, 'not json']).Records;
    expect(Buffer.from(record!.kinesis.data, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('gives increasing sequence numbers within and across calls', () => {
    const first = kinesisEventFromData(['a', 'b']).Records;
    const second = kinesisEventFromData(['c']).Records;
    const numbers = [...first, ...second].map((record) => BigInt(record.kinesis.sequenceNumber));
    expect(numbers[0]! < numbers[1]! && numbers[1]! < numbers[2]!).toBe(true);
    expect(first[0]!.eventID).toBe(`shardId-000000000000:${first[0]!.kinesis.sequenceNumber}`);
  });

  it('refuses data that is neither bytes nor text', () => {
    expect(() => kinesisEventFromData([{ data: 42 as unknown as string }])).toThrow(
      EventSourceConfigurationError,
    );
  });
});

describe('kinesisEventFromEnvelopes', () => {
  it('encodes each envelope as the data of a record keyed by its aggregate', () => {
    const envelopes = buildEnvelopes(2, { aggregate: { type: 'Task', id: 't-1' } });
    const event = kinesisEventFromEnvelopes(envelopes);
    expect(event.Records).toHaveLength(2);
    expect(event.Records.map((record) => record.kinesis.partitionKey)).toEqual(['Task#t-1', 'Task#t-1']);
    expect(decodeEnvelope(Buffer.from(event.Records[1]!.kinesis.data, 'base64'))).toEqual(envelopes[1]);
    expect(kinesisRecordFromEnvelope(envelopes[0]!).eventName).toBe('aws:kinesis:record');
  });
});

describe('dynamoDbStreamEventFromItems', () => {
  it('builds the record of AWS sample event (up to its random id, version and time)', () => {
    const event = dynamoDbStreamEventFromItems([{ Message: 'New item!', Id: 101 }], {
      keyAttributes: ['Id'],
      streamViewType: 'NEW_AND_OLD_IMAGES',
      firstSequenceNumber: '111',
      streamArn: awsDynamoDbSample.eventSourceARN,
      approximateCreationDateTime: new Date(1_700_000_000_900),
    });
    const [record] = event.Records;
    expect(record).toEqual({
      ...awsDynamoDbSample,
      eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventVersion: '1.1',
      dynamodb: { ...awsDynamoDbSample.dynamodb, ApproximateCreationDateTime: 1_700_000_000 },
    });
  });

  it('marshals event-log items as NEW_IMAGE INSERTs keyed by pk and sk', () => {
    const envelopes = buildEnvelopes(2, { aggregate: { type: 'Task', id: 't-1' }, data: { tags: ['a'] } });
    const event = dynamoDbStreamEventFromEnvelopes(envelopes);
    expect(event.Records.map((record) => record.eventName)).toEqual(['INSERT', 'INSERT']);
    const [first, second] = event.Records;
    expect(first!.dynamodb!.Keys).toEqual({ pk: { S: 'Task#t-1' }, sk: { N: '1' } });
    expect(first!.dynamodb!.StreamViewType).toBe('NEW_IMAGE');
    expect(first!.dynamodb!.OldImage).toBeUndefined();
    expect(BigInt(first!.dynamodb!.SequenceNumber!) < BigInt(second!.dynamodb!.SequenceNumber!)).toBe(true);
    const image = unmarshall(first!.dynamodb!.NewImage as Record<string, never>) as EventLogItem;
    expect(parseEventLogItem(image)).toEqual(eventLogItemFromEnvelope(envelopes[0]!));
    const fromItems = dynamoDbStreamEventFromItems(envelopes.map(eventLogItemFromEnvelope));
    expect(fromItems.Records[0]!.dynamodb!.NewImage).toEqual(first!.dynamodb!.NewImage);
  });

  it('carries only the keys of a REMOVE in a NEW_IMAGE stream, and the old image in NEW_AND_OLD_IMAGES', () => {
    const item = { pk: 'Task#t-1', sk: 1, name: 'x' };
    const [newOnly] = dynamoDbStreamEventFromItems([item], { eventName: 'REMOVE' }).Records;
    expect(newOnly!.eventName).toBe('REMOVE');
    expect(newOnly!.dynamodb).not.toHaveProperty('NewImage');
    expect(newOnly!.dynamodb).not.toHaveProperty('OldImage');
    const [both] = dynamoDbStreamEventFromItems([item], {
      eventName: 'REMOVE',
      streamViewType: 'NEW_AND_OLD_IMAGES',
    }).Records;
    expect(both!.dynamodb!.OldImage).toEqual({ pk: { S: 'Task#t-1' }, sk: { N: '1' }, name: { S: 'x' } });
  });

  it('delivers binary attributes in base64, as Lambda does', () => {
    const [record] = dynamoDbStreamEventFromItems([
      { pk: 'a', sk: 1, blob: new Uint8Array([1, 2, 3]) },
    ]).Records;
    expect(record!.dynamodb!.NewImage!.blob).toEqual({ B: 'AQID' } satisfies AttributeValue);
  });

  it('builds mixed records in order', () => {
    const event = dynamoDbStreamEvent(
      [
        { eventName: 'INSERT', newImage: { pk: 'a', sk: 1, v: 1 } },
        { eventName: 'MODIFY', newImage: { pk: 'a', sk: 1, v: 2 }, oldImage: { pk: 'a', sk: 1, v: 1 } },
        { eventName: 'REMOVE', oldImage: { pk: 'a', sk: 1, v: 2 } },
      ],
      { streamViewType: 'NEW_AND_OLD_IMAGES' },
    );
    expect(event.Records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(event.Records[1]!.dynamodb!.OldImage!.v).toEqual({ N: '1' });
    expect(event.Records[1]!.dynamodb!.NewImage!.v).toEqual({ N: '2' });
  });

  it('refuses an item without its key attributes', () => {
    expect(() => dynamoDbStreamEventFromItems([{ id: 'x' }])).toThrow(EventSourceConfigurationError);
  });
});

describe('fakeLambdaContext', () => {
  it('has the fields of the Node.js runtime context', () => {
    const context = fakeLambdaContext({
      functionName: 'orders',
      region: 'eu-west-1',
      accountId: '111122223333',
    });
    expect(context).toMatchObject({
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'orders',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:orders',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/orders',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.logStreamName).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('counts the remaining time down from the timeout, never below zero', () => {
    let now = 1_000_000;
    const context = fakeLambdaContext({ timeoutSeconds: 3, clock: () => now });
    expect(context.getRemainingTimeInMillis()).toBe(3000);
    now += 1200;
    expect(context.getRemainingTimeInMillis()).toBe(1800);
    now += 5000;
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });

  it('refuses the deprecated callback methods', () => {
    const context = fakeLambdaContext();
    expect(() => context.succeed('ok')).toThrow(LambdaContextMethodError);
    expect(() => context.fail('no')).toThrow(LambdaContextMethodError);
  });

  it('refuses unknown options, in every factory, with a ConfigurationError naming the factory and the key', () => {
    for (const [create, factory, option] of [
      [() => fakeLambdaContext({ timeout: 3 } as never), 'fakeLambdaContext', 'timeout'],
      [() => buildEnvelope({ aggregateId: 'x' } as never), 'buildEnvelope', 'aggregateId'],
      [() => kinesisEventFromData(['a'], { shard: 'x' } as never), 'a Kinesis event factory', 'shard'],
      [
        () => dynamoDbStreamEventFromItems([{ pk: 'a', sk: 1 }], { keys: ['pk'] } as never),
        'a DynamoDB stream event factory',
        'keys',
      ],
    ] as const) {
      expect(create).toThrow(ConfigurationError);
      expect(create).toThrow(expect.objectContaining({ factory, option }));
    }
  });

  it('refuses a timeout over Lambda maximum, and other bad context options', () => {
    for (const [options, option] of [
      [{ timeoutSeconds: 901 }, 'timeoutSeconds'],
      [{ timeoutSeconds: 0 }, 'timeoutSeconds'],
      [{ memoryLimitInMB: 127 }, 'memoryLimitInMB'],
      [{ clock: 5 }, 'clock'],
    ] as const) {
      const create = () => fakeLambdaContext(options as never);
      expect(create).toThrow(ConfigurationError);
      expect(create).toThrow(expect.objectContaining({ factory: 'fakeLambdaContext', option }));
    }
    expect(Object.isFrozen(LAMBDA_CONTEXT_DEFAULTS)).toBe(true);
    expect(fakeLambdaContext().getRemainingTimeInMillis()).toBeLessThanOrEqual(
      LAMBDA_CONTEXT_DEFAULTS.timeoutSeconds * 1000,
    );
  });
});
