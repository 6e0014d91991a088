import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { ConfigurationError } from '@tidemark/core';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSourceConfigurationError } from '../../src/errors';
import {
  arrivalTime,
  createDynamoDbStreamEventSource,
  type DynamoDbStreamEventSource,
} from '../../src/event-source/dynamodb-stream-event-source';
import { dynamoDbStreamEventFromGetRecords } from '../../src/event-source/get-records';

const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:111122223333:table/events/stream/2026-01-01T00:00:00.000';
const LOCAL_STREAM_ARN = STREAM_ARN.replace('eu-west-1', 'ddblocal');

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly records: _Record[];
  closed: boolean;
}

/** An in-memory DynamoDB Streams API. Iterators are `shardId|index`; pages of one shard each. */
class FakeStreams {
  readonly config = { region: 'eu-west-1' };
  streamArn = STREAM_ARN;
  readonly shards: FakeShard[] = [];
  #sequence = 100;

  shard(shardId: string, parentShardId?: string): FakeShard {
    const shard: FakeShard = {
      shardId,
      records: [],
      closed: false,
      ...(parentShardId ? { parentShardId } : {}),
    };
    this.shards.push(shard);
    return shard;
  }

  write(shard: FakeShard, eventName: 'INSERT' | 'MODIFY' | 'REMOVE', id: string): void {
    this.#sequence += 100;
    shard.records.push({
      eventID: `event-${this.#sequence}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-01-01T10:00:00.750Z'),
        Keys: { pk: { S: id } },
        ...(eventName === 'REMOVE'
          ? {}
          : { NewImage: { pk: { S: id }, bytes: { B: new Uint8Array([1, 2]) } } }),
        SequenceNumber: String(this.#sequence).padStart(21, '0'),
        SizeBytes: 12,
        StreamViewType: 'NEW_IMAGE',
      },
    });
  }

  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof DescribeStreamCommand) {
      // One shard per page, to exercise the pagination.
      const start = command.input.ExclusiveStartShardId
        ? this.shards.findIndex((shard) => shard.shardId === command.input.ExclusiveStartShardId) + 1
        : 0;
      const shard = this.shards[start];
      return {
        StreamDescription: {
          StreamArn: this.streamArn,
          StreamStatus: 'ENABLED',
          Shards: shard
            ? [
                {
                  ShardId: shard.shardId,
                  ParentShardId: shard.parentShardId,
                  SequenceNumberRange: {
                    StartingSequenceNumber: '1',
                    EndingSequenceNumber: shard.closed ? '9' : undefined,
                  },
                },
              ]
            : [],
          LastEvaluatedShardId: start < this.shards.length - 1 ? shard?.shardId : undefined,
        },
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const shard = this.shards.find((candidate) => candidate.shardId === command.input.ShardId)!;
      const index = command.input.ShardIteratorType === 'LATEST' ? shard.records.length : 0;
      return { ShardIterator: `${shard.shardId}|${index}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [shardId, start] = command.input.ShardIterator!.split('|') as [string, string];
      const shard = this.shards.find((candidate) => candidate.shardId === shardId)!;
      const from = Number(start);
      const records = shard.records.slice(from, from + (command.input.Limit ?? 1000));
      const next = from + records.length;
      return {
        Records: records,
        NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${shardId}|${next}`,
      };
    }
    throw new Error('unexpected command');
  }
}

const sources: DynamoDbStreamEventSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function source(streams: FakeStreams, handler: (event: DynamoDBStreamEvent) => Promise<void>) {
  const created = createDynamoDbStreamEventSource({
    dynamodbStreams: streams as unknown as DynamoDBStreamsClient,
    streamArn: STREAM_ARN,
    batchSize: 2,
    pollIntervalMs: 5,
    handler,
  });
  sources.push(created);
  return created;
}

describe('createDynamoDbStreamEventSource', () => {
  it('reads shards parent before child, closed shards to their end, in the shape Lambda sends', async () => {
    const streams = new FakeStreams();
    const child = streams.shard('shardId-child', 'shardId-parent');
    const parent = streams.shard('shardId-parent');
    streams.write(parent, 'INSERT', 'a');
    streams.write(parent, 'MODIFY', 'a');
    streams.write(parent, 'REMOVE', 'a');
    parent.closed = true;
    streams.write(child, 'INSERT', 'b');
    const seen: string[] = [];
    const events = source(streams, async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(...event.Records.map((record) => `${record.eventName} ${record.dynamodb!.Keys!.pk!.S}`));
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });

    expect(seen).toEqual(['INSERT a', 'MODIFY a', 'REMOVE a', 'INSERT b']);
    expect(events.invocations[0]!.event.Records[0]).toEqual({
      eventID: 'event-200',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-01-01T10:00:00Z') / 1000,
        Keys: { pk: { S: 'a' } },
        NewImage: { pk: { S: 'a' }, bytes: { B: 'AQI=' } },
        SequenceNumber: '000000000000000000200',
        SizeBytes: 12,
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: STREAM_ARN,
    });
  });

  it('gives up on records with a DDBStreamBatchInfo on-failure record', async () => {
    const streams = new FakeStreams();
    const shard = streams.shard('shardId-1');
    streams.write(shard, 'INSERT', 'a');
    const events = createDynamoDbStreamEventSource({
      dynamodbStreams: streams as unknown as DynamoDBStreamsClient,
      streamArn: STREAM_ARN,
      maximumRetryAttempts: 0,
      pollIntervalMs: 5,
      handler: async () => {
        throw new Error('no');
      },
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.onFailure).toHaveLength(1);
    expect(events.onFailure[0]!.DDBStreamBatchInfo).toEqual({
      shardId: 'shardId-1',
      startSequenceNumber: '000000000000000000200',
      endSequenceNumber: '000000000000000000200',
      approximateArrivalOfFirstRecord: '2026-01-01T10:00:00Z',
      approximateArrivalOfLastRecord: '2026-01-01T10:00:00Z',
      batchSize: 1,
      streamArn: STREAM_ARN,
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a Kinesis ARN', { streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' }, 'streamArn'],
    ['AT_TIMESTAMP', { startingPosition: 'AT_TIMESTAMP' }, 'startingPosition'],
    ['a missing client', { dynamodbStreams: undefined }, 'dynamodbStreams'],
    ['an unknown option', { streamArns: STREAM_ARN }, 'streamArns'],
    ['a batch size over 10,000', { batchSize: 10_001 }, 'batchSize'],
  ])('refuses %s with a ConfigurationError naming the option', (_, options, option) => {
    const create = () =>
      createDynamoDbStreamEventSource({
        dynamodbStreams: new FakeStreams() as unknown as DynamoDBStreamsClient,
        streamArn: STREAM_ARN,
        handler: async () => undefined,
        ...options,
      } as never);
    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(expect.objectContaining({ factory: 'createDynamoDbStreamEventSource', option }));
  });
  it('names the stream in the client region in every record and on-failure record (DynamoDB Local says ddblocal)', async () => {
    const streams = new FakeStreams();
    streams.streamArn = LOCAL_STREAM_ARN;
    streams.write(streams.shard('shardId-1'), 'INSERT', 'a');
    const events = createDynamoDbStreamEventSource({
      dynamodbStreams: streams as unknown as DynamoDBStreamsClient,
      streamArn: LOCAL_STREAM_ARN,
      maximumRetryAttempts: 0,
      pollIntervalMs: 5,
      handler: async () => {
        throw new Error('no');
      },
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    const record = events.invocations[0]!.event.Records[0]!;
    expect(record.awsRegion).toBe('eu-west-1');
    expect(record.eventSourceARN).toBe(STREAM_ARN);
    expect(events.onFailure[0]!.DDBStreamBatchInfo.streamArn).toBe(STREAM_ARN);
    expect(events.onFailure[0]!.responseContext.functionError).toBe('Unhandled');
  });

  it('measures record age from the arrival time, not from a creation time truncated to the minute', async () => {
    // DynamoDB Local reports a record written at hh:mm:59 as hh:mm:00. Read 30 s after it was
    // written, it must not count as 89 s old under a 60-second limit.
    const minute = Math.floor((Date.now() - 120_000) / 60_000) * 60_000;
    const streams = new FakeStreams();
    const shard = streams.shard('shardId-1');
    streams.write(shard, 'INSERT', 'truncated');
    shard.records[0]!.dynamodb!.ApproximateCreationDateTime = new Date(minute);
    const events = createDynamoDbStreamEventSource({
      dynamodbStreams: streams as unknown as DynamoDBStreamsClient,
      streamArn: STREAM_ARN,
      maximumRecordAgeInSeconds: 60,
      pollIntervalMs: 5,
      clock: () => minute + 89_000,
      handler: async () => undefined,
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.onFailure).toEqual([]);
    expect(events.invocations.map((invocation) => invocation.outcome)).toEqual(['success']);
  });

  it('still discards a record whose precise creation time is past the limit', async () => {
    const created = Date.now() - 120_000 + 750;
    const streams = new FakeStreams();
    const shard = streams.shard('shardId-1');
    streams.write(shard, 'INSERT', 'old');
    shard.records[0]!.dynamodb!.ApproximateCreationDateTime = new Date(created);
    const events = createDynamoDbStreamEventSource({
      dynamodbStreams: streams as unknown as DynamoDBStreamsClient,
      streamArn: STREAM_ARN,
      maximumRecordAgeInSeconds: 60,
      pollIntervalMs: 5,
      clock: () => created + 61_000,
      handler: async () => undefined,
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toEqual([]);
    expect(events.onFailure.map((failure) => failure.requestContext.condition)).toEqual([
      'RecordAgeExceeded',
    ]);
  });
});

describe('arrivalTime', () => {
  const minute = Date.parse('2026-01-01T10:00:00Z');
  it.each([
    ['a precise time, as it is', new Date(minute + 750), minute + 90_000, minute + 750],
    [
      'a whole-minute time read later in the minute, the read time',
      new Date(minute),
      minute + 20_000,
      minute + 20_000,
    ],
    [
      'a whole-minute time read after the minute, its last millisecond',
      new Date(minute),
      minute + 300_000,
      minute + 59_999,
    ],
    ['no time, the read time', undefined, minute + 5, minute + 5],
  ])('takes %s', (_, created, readAt, expected) => {
    expect(arrivalTime(created, readAt)).toBe(expected);
  });
});

describe('dynamoDbStreamEventFromGetRecords', () => {
  const raw = (): _Record => ({
    eventID: 'e-1',
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-01-01T10:00:00.750Z'),
      Keys: { pk: { S: 'Task#1' }, sk: { N: '1' } },
      NewImage: { pk: { S: 'Task#1' }, sk: { N: '1' }, blob: { B: new Uint8Array([1, 2]) } },
      SequenceNumber: '000000000000000000100',
      SizeBytes: 30,
      StreamViewType: 'NEW_IMAGE',
    },
  });

  it('turns GetRecords output into the event Lambda delivers, ARN and region consistent', () => {
    const event = dynamoDbStreamEventFromGetRecords({ Records: [raw()] }, { streamArn: LOCAL_STREAM_ARN });
    expect(event).toEqual({
      Records: [
        {
          eventID: 'e-1',
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'us-east-1',
          dynamodb: {
            ApproximateCreationDateTime: Date.parse('2026-01-01T10:00:00Z') / 1000,
            Keys: { pk: { S: 'Task#1' }, sk: { N: '1' } },
            NewImage: { pk: { S: 'Task#1' }, sk: { N: '1' }, blob: { B: 'AQI=' } },
            SequenceNumber: '000000000000000000100',
            SizeBytes: 30,
            StreamViewType: 'NEW_IMAGE',
          },
          eventSourceARN: LOCAL_STREAM_ARN.replace('ddblocal', 'us-east-1'),
        },
      ],
    });
  });

  it('keeps the region of a real ARN, takes an explicit one, and accepts a list of records', () => {
    expect(dynamoDbStreamEventFromGetRecords([raw()], { streamArn: STREAM_ARN }).Records[0]).toMatchObject({
      awsRegion: 'eu-west-1',
      eventSourceARN: STREAM_ARN,
    });
    expect(
      dynamoDbStreamEventFromGetRecords([raw()], { streamArn: STREAM_ARN, region: 'ap-south-1' }).Records[0],
    ).toMatchObject({
      awsRegion: 'ap-south-1',
      eventSourceARN: STREAM_ARN.replace('eu-west-1', 'ap-south-1'),
    });
    expect(dynamoDbStreamEventFromGetRecords({}, { streamArn: STREAM_ARN })).toEqual({ Records: [] });
  });

  it('refuses an ARN that is not a DynamoDB stream ARN', () => {
    expect(() =>
      dynamoDbStreamEventFromGetRecords([raw()], { streamArn: 'arn:aws:kinesis:us-east-1:1:stream/x' }),
    ).toThrow(EventSourceConfigurationError);
  });
});
