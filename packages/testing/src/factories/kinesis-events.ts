/**
 * Kinesis event factories for unit tests of consumers: the events Lambda delivers, from envelopes
 * or raw data, with increasing, realistic sequence numbers.
 */
import { type EventEnvelope, encodeEnvelope, envelopePartitionKey } from '@tidemark/core';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { EventSourceConfigurationError } from '../errors';
import { assertKnownKeys } from '../event-source/options';
import { parseArn } from './stream-arn';

/** The stream ARN factories use unless told otherwise. */
export const DEFAULT_KINESIS_STREAM_ARN =
  'arn:aws:kinesis:us-east-1:123456789012:stream/tidemark-test-stream';
const KINESIS_FACTORY_KEYS = [
  'shardId',
  'streamArn',
  'region',
  'invokeIdentityArn',
  'approximateArrivalTimestamp',
  'firstSequenceNumber',
];
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
