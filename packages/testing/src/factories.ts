/**
 * Factories for unit tests: envelopes, the Kinesis events a consumer receives and the DynamoDB
 * stream events a publisher receives, in exactly the shape Lambda delivers them.
 */
import { randomBytes } from 'node:crypto';
import { marshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import {
  type CreateEnvelopeInput,
  createEnvelope,
  type EventEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
  eventLogItemFromEnvelope,
  newCommandId,
} from '@tidemark/core';
import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
  AttributeValue as LambdaAttributeValue,
  StreamRecord,
} from 'aws-lambda';
import { EventSourceConfigurationError } from './errors';
import { toLambdaDynamoDbRecord } from './event-source/dynamodb-stream-event-source';
import { assertKnownKeys } from './event-source/options';

/** The stream ARN factories use unless told otherwise. */
export const DEFAULT_KINESIS_STREAM_ARN =
  'arn:aws:kinesis:us-east-1:123456789012:stream/tidemark-test-stream';
/** The DynamoDB stream ARN factories use unless told otherwise. */
export const DEFAULT_DYNAMODB_STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/tidemark-test-events/stream/2026-01-01T00:00:00.000';

// ---------------------------------------------------------------------------------------------
// Envelopes

const ENVELOPE_KEYS = [
  'source',
  'type',
  'aggregate',
  'version',
  'commandId',
  'schemaVersion',
  'data',
  'eventId',
  'time',
  'metadata',
];
const KINESIS_FACTORY_KEYS = [
  'shardId',
  'streamArn',
  'region',
  'invokeIdentityArn',
  'approximateArrivalTimestamp',
  'firstSequenceNumber',
];
const DYNAMODB_FACTORY_KEYS = [
  'streamViewType',
  'keyAttributes',
  'streamArn',
  'region',
  'approximateCreationDateTime',
  'firstSequenceNumber',
  'marshallOptions',
];

/** What {@link buildEnvelope} takes: any field of `createEnvelope`'s input. */
export type BuildEnvelopeOverrides<TType extends string = string, TData = Record<string, unknown>> = Partial<
  CreateEnvelopeInput<TType, TData>
>;

/**
 * A valid envelope with sensible defaults: source `/tidemark-tests`, type `TestEventHappened`,
 * aggregate `Test#test-1`, version 1, a new command id, empty data. Any field can be overridden;
 * the result is validated by core's `createEnvelope`.
 *
 * @example
 * ```ts
 * import { buildEnvelope } from '@tidemark/testing';
 *
 * const envelope = buildEnvelope({ type: 'TaskCreated', aggregate: { type: 'Task', id: 't-1' }, data: { name: 'x' } });
 * ```
 */
export function buildEnvelope<
  TType extends string = string,
  TData extends Record<string, unknown> = Record<string, unknown>,
>(overrides: BuildEnvelopeOverrides<TType, TData> = {}): EventEnvelope<TType, TData> {
  assertKnownKeys('buildEnvelope', overrides, ENVELOPE_KEYS);
  return createEnvelope<TType, TData>({
    source: '/tidemark-tests',
    type: 'TestEventHappened' as TType,
    aggregate: { type: 'Test', id: 'test-1' },
    version: 1,
    commandId: newCommandId(),
    data: {} as TData,
    ...overrides,
  });
}

/**
 * `count` envelopes of one aggregate with contiguous versions (from `overrides.version`, default 1)
 * and strictly increasing command ids: the history of an aggregate as the event log holds it.
 *
 * @example
 * ```ts
 * import { buildEnvelopes } from '@tidemark/testing';
 *
 * const [v1, v2, v3] = buildEnvelopes(3, { aggregate: { type: 'Task', id: 't-1' } });
 * ```
 */
export function buildEnvelopes<
  TType extends string = string,
  TData extends Record<string, unknown> = Record<string, unknown>,
>(
  count: number,
  overrides: Omit<BuildEnvelopeOverrides<TType, TData>, 'commandId' | 'eventId'> = {},
): EventEnvelope<TType, TData>[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new EventSourceConfigurationError('count must be a non-negative integer', { count });
  }
  const first = overrides.version ?? 1;
  return Array.from({ length: count }, (_, index) =>
    buildEnvelope<TType, TData>({ ...overrides, version: first + index }),
  );
}

// ---------------------------------------------------------------------------------------------
// Kinesis

/** Options of the Kinesis event factories. */
export interface KinesisEventFactoryOptions {
  /** The shard id, used in `eventID`. Default: `'shardId-000000000000'`. */
  readonly shardId?: string;
  /** `eventSourceARN`. Default: `arn:aws:kinesis:us-east-1:123456789012:stream/tidemark-test-stream`. */
  readonly streamArn?: string;
  /** `awsRegion`. Default: the region of `streamArn`. */
  readonly region?: string;
  /** `invokeIdentityArn`. Default: `arn:aws:iam::<account of streamArn>:role/lambda-role`. */
  readonly invokeIdentityArn?: string;
  /** `approximateArrivalTimestamp` of every record. Default: now. */
  readonly approximateArrivalTimestamp?: Date;
  /**
   * The sequence number of the first record; later records get larger ones. Default: the next of a
   * process-wide counter, so records made by successive calls keep increasing.
   */
  readonly firstSequenceNumber?: string;
}

/** One Kinesis record's content for {@link kinesisEventFromData}. */
export interface KinesisDataInput {
  /** The record data: bytes, or text encoded as UTF-8. */
  readonly data: Uint8Array | string;
  /** The partition key. Default: `'partition-key'`. */
  readonly partitionKey?: string;
}

/** The step between two generated Kinesis sequence numbers (what kinesis-mock uses: 2^80). */
const KINESIS_SEQUENCE_STEP = 1n << 80n;
let nextKinesisSequence = 49590338271490256608559692538361571095921575989136588898n;

/**
 * A Kinesis event with one record per envelope, as Lambda delivers it: the envelope encoded as
 * UTF-8 JSON in base64 `data`, its aggregate as partition key, increasing sequence numbers,
 * `eventID` `shardId-…:<sequence number>`, arrival time in epoch seconds.
 *
 * @example
 * ```ts
 * import { buildEnvelopes, fakeLambdaContext, kinesisEventFromEnvelopes } from '@tidemark/testing';
 *
 * const event = kinesisEventFromEnvelopes(buildEnvelopes(3));
 * const response = await consumer(event, fakeLambdaContext());
 * expect(response.batchItemFailures).toEqual([]);
 * ```
 */
export function kinesisEventFromEnvelopes(
  envelopes: readonly EventEnvelope[],
  options: KinesisEventFactoryOptions = {},
): KinesisStreamEvent {
  return kinesisEventFromData(
    envelopes.map((envelope) => ({
      data: encodeEnvelope(envelope),
      partitionKey: envelopePartitionKey(envelope),
    })),
    options,
  );
}

/**
 * A Kinesis event from raw record data: bytes or text (UTF-8), for example malformed input a
 * consumer must park. Entries are data, or `{ data, partitionKey }`.
 *
 * @example
 * ```ts
 * import { kinesisEventFromData } from '@tidemark/testing';
 *
 * const event = kinesisEventFromData(['not json', new Uint8Array([0xff, 0xfe])]);
 * ```
 */
export function kinesisEventFromData(
  entries: readonly (Uint8Array | string | KinesisDataInput)[],
  options: KinesisEventFactoryOptions = {},
): KinesisStreamEvent {
  assertKnownKeys('a Kinesis event factory', options, KINESIS_FACTORY_KEYS);
  const sequenceNumbers = kinesisSequenceNumbers(entries.length, options.firstSequenceNumber);
  return {
    Records: entries.map((entry, index) =>
      kinesisRecord(
        typeof entry === 'string' || entry instanceof Uint8Array ? { data: entry } : entry,
        sequenceNumbers[index]!,
        options,
      ),
    ),
  };
}

/**
 * One Kinesis record for an envelope (see {@link kinesisEventFromEnvelopes}).
 *
 * @example
 * ```ts
 * import { buildEnvelope, kinesisRecordFromEnvelope } from '@tidemark/testing';
 * const record = kinesisRecordFromEnvelope(buildEnvelope());
 * ```
 */
export function kinesisRecordFromEnvelope(
  envelope: EventEnvelope,
  options: KinesisEventFactoryOptions = {},
): KinesisStreamRecord {
  return kinesisEventFromEnvelopes([envelope], options).Records[0]!;
}

function kinesisRecord(
  input: KinesisDataInput,
  sequenceNumber: string,
  options: KinesisEventFactoryOptions,
): KinesisStreamRecord {
  if (!(typeof input.data === 'string' || input.data instanceof Uint8Array)) {
    throw new EventSourceConfigurationError('Kinesis record data must be a Uint8Array or a string', {
      dataType: typeof input.data,
    });
  }
  const streamArn = options.streamArn ?? DEFAULT_KINESIS_STREAM_ARN;
  const arn = parseArn(streamArn, 'kinesis');
  const shardId = options.shardId ?? 'shardId-000000000000';
  const arrival = options.approximateArrivalTimestamp ?? new Date();
  const data = typeof input.data === 'string' ? Buffer.from(input.data, 'utf8') : Buffer.from(input.data);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: input.partitionKey ?? 'partition-key',
      sequenceNumber,
      data: data.toString('base64'),
      approximateArrivalTimestamp: arrival.getTime() / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: options.invokeIdentityArn ?? `arn:aws:iam::${arn.account}:role/lambda-role`,
    awsRegion: options.region ?? arn.region,
    eventSourceARN: streamArn,
  };
}

function kinesisSequenceNumbers(count: number, first: string | undefined): string[] {
  let start: bigint;
  if (first !== undefined) {
    if (!/^\d{1,128}$/.test(first)) {
      throw new EventSourceConfigurationError('firstSequenceNumber must be a decimal string', {
        firstSequenceNumber: first,
      });
    }
    start = BigInt(first);
  } else {
    start = nextKinesisSequence;
    nextKinesisSequence += KINESIS_SEQUENCE_STEP * BigInt(Math.max(1, count));
  }
  return Array.from({ length: count }, (_, index) =>
    (start + KINESIS_SEQUENCE_STEP * BigInt(index)).toString(),
  );
}

// ---------------------------------------------------------------------------------------------
// DynamoDB streams

/** The stream view type of a DynamoDB stream. */
export type StreamViewType = 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';

/** Options of the DynamoDB stream event factories. */
export interface DynamoDbStreamEventFactoryOptions {
  /** `eventName` of every record. Default: `'INSERT'`. */
  readonly eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The stream view type, which decides which images the records carry. Default: `'NEW_IMAGE'` (the event log's). */
  readonly streamViewType?: StreamViewType;
  /** The key attribute names, copied into `Keys`. Default: `['pk', 'sk']` (the event log's). */
  readonly keyAttributes?: readonly string[];
  /** `eventSourceARN`. Default: a stream of table `tidemark-test-events` in us-east-1. */
  readonly streamArn?: string;
  /** `awsRegion`. Default: the region of `streamArn`. */
  readonly region?: string;
  /** `ApproximateCreationDateTime` (delivered in epoch seconds). Default: now. */
  readonly approximateCreationDateTime?: Date;
  /**
   * The sequence number of the first record; later records get larger ones. Default: the next of a
   * process-wide counter.
   */
  readonly firstSequenceNumber?: string;
  /** Options for `marshall` from `@aws-sdk/util-dynamodb`. Default: `{ removeUndefinedValues: true }`. */
  readonly marshallOptions?: marshallOptions;
}

/** One DynamoDB stream record's content for {@link dynamoDbStreamRecord}. */
export interface DynamoDbStreamRecordInput {
  /** INSERT, MODIFY or REMOVE. */
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The item after the change (INSERT, MODIFY), plain JavaScript. */
  readonly newImage?: object;
  /** The item before the change (MODIFY, REMOVE), plain JavaScript. */
  readonly oldImage?: object;
}

let nextDynamoDbSequence = 400000000000000000001n;

/**
 * A DynamoDB stream event with one record per item, as Lambda delivers it: `eventName` INSERT by
 * default, `Keys` and `NewImage` marshalled, `eventVersion` '1.1', `eventSource` 'aws:dynamodb',
 * `ApproximateCreationDateTime` in epoch seconds, increasing `SequenceNumber`s, `SizeBytes`.
 * With MODIFY the item is the new image (and the old one when the view keeps it); with REMOVE it
 * is the old image.
 *
 * @example
 * ```ts
 * import { eventLogItemFromEnvelope } from '@tidemark/core';
 * import { buildEnvelopes, dynamoDbStreamEventFromItems, fakeLambdaContext } from '@tidemark/testing';
 *
 * const event = dynamoDbStreamEventFromItems(buildEnvelopes(2).map(eventLogItemFromEnvelope));
 * const response = await publisher(event, fakeLambdaContext());
 * ```
 */
export function dynamoDbStreamEventFromItems(
  items: readonly object[],
  options: DynamoDbStreamEventFactoryOptions = {},
): DynamoDBStreamEvent {
  const { eventName = 'INSERT', ...rest } = options;
  const records: DynamoDbStreamRecordInput[] = items.map((item) =>
    eventName === 'REMOVE' ? { eventName, oldImage: item } : { eventName, newImage: item },
  );
  return dynamoDbStreamEvent(records, rest);
}

/**
 * The DynamoDB stream event the publisher gets when envelopes are appended to the event log: one
 * INSERT per envelope, its event-log item as `NewImage`.
 *
 * @example
 * ```ts
 * import { buildEnvelopes, dynamoDbStreamEventFromEnvelopes } from '@tidemark/testing';
 * const event = dynamoDbStreamEventFromEnvelopes(buildEnvelopes(3));
 * ```
 */
export function dynamoDbStreamEventFromEnvelopes(
  envelopes: readonly EventEnvelope[],
  options: DynamoDbStreamEventFactoryOptions = {},
): DynamoDBStreamEvent {
  return dynamoDbStreamEventFromItems(
    envelopes.map((envelope) => eventLogItemFromEnvelope(envelope)),
    options,
  );
}

/**
 * A DynamoDB stream event from records of mixed kinds, in order.
 *
 * @example
 * ```ts
 * import { dynamoDbStreamEvent } from '@tidemark/testing';
 *
 * const event = dynamoDbStreamEvent(
 *   [
 *     { eventName: 'INSERT', newImage: { pk: 'Task#t-1', sk: 1 } },
 *     { eventName: 'REMOVE', oldImage: { pk: 'Task#t-1', sk: 1 } },
 *   ],
 *   { streamViewType: 'NEW_AND_OLD_IMAGES' },
 * );
 * ```
 */
export function dynamoDbStreamEvent(
  records: readonly DynamoDbStreamRecordInput[],
  options: Omit<DynamoDbStreamEventFactoryOptions, 'eventName'> = {},
): DynamoDBStreamEvent {
  const sequenceNumbers = dynamoDbSequenceNumbers(records.length, options.firstSequenceNumber);
  return {
    Records: records.map((record, index) =>
      dynamoDbStreamRecord(record, { ...options, firstSequenceNumber: sequenceNumbers[index]! }),
    ),
  };
}

/**
 * One DynamoDB stream record (see {@link dynamoDbStreamEventFromItems}). `firstSequenceNumber` is
 * its sequence number.
 *
 * @example
 * ```ts
 * import { dynamoDbStreamRecord } from '@tidemark/testing';
 * const record = dynamoDbStreamRecord({ eventName: 'MODIFY', newImage: item, oldImage: before });
 * ```
 */
export function dynamoDbStreamRecord(
  input: DynamoDbStreamRecordInput,
  options: Omit<DynamoDbStreamEventFactoryOptions, 'eventName'> = {},
): DynamoDBRecord {
  assertKnownKeys('a DynamoDB stream event factory', options, DYNAMODB_FACTORY_KEYS);
  const { eventName } = input;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    throw new EventSourceConfigurationError('eventName must be INSERT, MODIFY or REMOVE', { eventName });
  }
  const view = options.streamViewType ?? 'NEW_IMAGE';
  if (!['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY'].includes(view)) {
    throw new EventSourceConfigurationError(
      'streamViewType must be NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY',
      {
        streamViewType: view,
      },
    );
  }
  const newItem = eventName === 'REMOVE' ? undefined : input.newImage;
  const oldItem =
    eventName === 'INSERT'
      ? undefined
      : (input.oldImage ?? (eventName === 'MODIFY' ? input.newImage : undefined));
  const keySource = (newItem ?? oldItem) as Record<string, unknown> | undefined;
  if (keySource === undefined) {
    throw new EventSourceConfigurationError(
      `${eventName} needs ${eventName === 'REMOVE' ? 'oldImage' : 'newImage'}`,
      { eventName },
    );
  }
  const keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  const keys: Record<string, unknown> = {};
  for (const name of keyAttributes) {
    if (keySource[name] === undefined) {
      throw new EventSourceConfigurationError(`the item has no key attribute "${name}"`, {
        keyAttribute: name,
        attributes: Object.keys(keySource),
      });
    }
    keys[name] = keySource[name];
  }
  const marshalling: marshallOptions = options.marshallOptions ?? { removeUndefinedValues: true };
  const withNew = view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES';
  const withOld = view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES';
  const streamArn = options.streamArn ?? DEFAULT_DYNAMODB_STREAM_ARN;
  const arn = parseArn(streamArn, 'dynamodb');
  const sequenceNumber = options.firstSequenceNumber ?? dynamoDbSequenceNumbers(1, undefined)[0]!;
  const created = options.approximateCreationDateTime ?? new Date();
  const keysImage = marshall(keys, marshalling);
  const newImage = withNew && newItem ? marshall(newItem, marshalling) : undefined;
  const oldImage = withOld && oldItem ? marshall(oldItem, marshalling) : undefined;
  const record = toLambdaDynamoDbRecord(
    {
      eventID: randomBytes(16).toString('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: options.region ?? arn.region,
      dynamodb: {
        ApproximateCreationDateTime: created,
        Keys: keysImage,
        ...(newImage ? { NewImage: newImage } : {}),
        ...(oldImage ? { OldImage: oldImage } : {}),
        SequenceNumber: sequenceNumber,
        SizeBytes: 0,
        StreamViewType: view,
      },
    },
    streamArn,
    options.region ?? arn.region,
  );
  const stream = record.dynamodb as StreamRecord;
  stream.SizeBytes = imageSize(stream.Keys) + imageSize(stream.NewImage) + imageSize(stream.OldImage);
  return record;
}

function dynamoDbSequenceNumbers(count: number, first: string | undefined): string[] {
  let start: bigint;
  if (first !== undefined) {
    if (!/^\d{1,40}$/.test(first)) {
      throw new EventSourceConfigurationError('firstSequenceNumber must be a decimal string', {
        firstSequenceNumber: first,
      });
    }
    start = BigInt(first);
  } else {
    start = nextDynamoDbSequence;
    nextDynamoDbSequence += 100n * BigInt(Math.max(1, count));
  }
  return Array.from({ length: count }, (_, index) => (start + 100n * BigInt(index)).toString());
}

/** DynamoDB's item size rules, roughly: attribute name bytes plus value bytes. */
function imageSize(image: Record<string, LambdaAttributeValue> | undefined): number {
  if (!image) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(image)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: LambdaAttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, item) => sum + Buffer.byteLength(item), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, item) => sum + Math.ceil(item.length / 2) + 1, 0);
  if (value.BS !== undefined)
    return value.BS.reduce((sum, item) => sum + Buffer.from(item, 'base64').length, 0);
  if (value.M !== undefined) return 3 + imageSize(value.M);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, item) => sum + 1 + valueSize(item), 0);
  return 0;
}

function parseArn(arn: string, service: 'kinesis' | 'dynamodb'): { region: string; account: string } {
  const match = new RegExp(`^arn:[^:]+:${service}:([^:]*):(\\d{12}):`).exec(arn);
  if (!match) {
    throw new EventSourceConfigurationError(`not a ${service} ARN: ${arn}`, { arn });
  }
  return { region: match[1]!, account: match[2]! };
}
