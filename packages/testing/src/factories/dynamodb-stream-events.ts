/**
 * DynamoDB stream event factories for unit tests of publishers: the events Lambda delivers, from
 * items, envelopes or mixed records, with increasing, realistic sequence numbers.
 */
import { randomBytes } from 'node:crypto';
import { marshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import { type EventEnvelope, eventLogItemFromEnvelope } from '@tidemark/core';
import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
  StreamRecord,
} from 'aws-lambda';
import { EventSourceConfigurationError } from '../errors';
import { toLambdaDynamoDbRecord } from '../event-source/dynamodb-stream-event-source';
import { assertKnownKeys } from '../event-source/options';
import { parseArn } from './stream-arn';

/** The DynamoDB stream ARN factories use unless told otherwise. */
export const DEFAULT_DYNAMODB_STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/tidemark-test-events/stream/2026-01-01T00:00:00.000';

const DYNAMODB_FACTORY_KEYS = [
  'streamViewType',
  'keyAttributes',
  'streamArn',
  'region',
  'approximateCreationDateTime',
  'firstSequenceNumber',
  'marshallOptions',
];

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
