/**
 * Runs a handler against a real DynamoDB stream the way a Lambda event source mapping does.
 */
import {
  type AttributeValue,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { AwsClientOptions } from '@tidemark/core';
import { parseOptions, resolveAwsClientConfig } from '@tidemark/core/internal';
import type {
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
} from 'aws-lambda';
import { EventSourceConfigurationError } from '../errors';
import { withArnRegion } from './arn';
import { StreamEventSourceEngine } from './event-source-engine';
import { clientRegion } from './kinesis-event-source';
import { DYNAMODB_STREAM_EVENT_SOURCE_SCHEMA, isClientLike, streamSettingsOf } from './options';
import type { StreamAdapter } from './stream-adapter';
import type { DynamoDbStreamOnFailureRecord, StreamEventSource, StreamEventSourceOptions } from './types';

/** Where a DynamoDB stream event source starts reading each shard. */
export type DynamoDbStreamStartingPosition = 'TRIM_HORIZON' | 'LATEST';

/** Options of {@link createDynamoDbStreamEventSource}. */
export interface DynamoDbStreamEventSourceOptions
  extends StreamEventSourceOptions<
    DynamoDBStreamEvent,
    DynamoDBBatchResponse,
    DynamoDbStreamOnFailureRecord,
    DynamoDBRecord
  > {
  /**
   * The DynamoDB Streams client, or the config to build one (see core's `resolveAwsClientConfig`).
   * A client you pass is yours to destroy; one built here is destroyed by `stop()`.
   */
  readonly dynamodbStreams: DynamoDBStreamsClient | AwsClientOptions;
  /** The stream ARN (the table's `LatestStreamArn`). */
  readonly streamArn: string;
  /**
   * `StartingPosition`: `TRIM_HORIZON` (every record of the last 24 hours) or `LATEST` (records
   * written after `start()`). Lambda requires it; default here: `'TRIM_HORIZON'`.
   */
  readonly startingPosition?: DynamoDbStreamStartingPosition;
}

/** A running DynamoDB stream event source. */
export type DynamoDbStreamEventSource = StreamEventSource<
  DynamoDBStreamEvent,
  DynamoDBBatchResponse,
  DynamoDbStreamOnFailureRecord
>;

/**
 * Emulates a Lambda event source mapping on a DynamoDB stream: shards read parent before child,
 * closed shards finished, one batch in flight per shard in order, Lambda's batch size, batching
 * window, starting position, `ReportBatchItemFailures`, bisect on error, maximum retry attempts,
 * maximum record age and on-failure destination. Records have the shape Lambda delivers
 * (`ApproximateCreationDateTime` in epoch seconds, binary attributes in base64, `eventSourceARN`).
 * Throws a `ConfigurationError` naming the option for invalid options.
 *
 * @example
 * ```ts
 * import { createDynamoDbStreamEventSource } from '@tidemark/testing';
 * import { test } from '@tidemark/testing/vitest';
 *
 * test('the publisher publishes every appended event', async ({ aws }) => {
 *   const { tableName, streamArn } = await aws.createEventLogTable();
 *   await using source = createDynamoDbStreamEventSource({
 *     dynamodbStreams: aws.dynamodbStreams,
 *     streamArn,
 *     handler: publisher, // (event: DynamoDBStreamEvent, context) => Promise<DynamoDBBatchResponse>
 *     reportBatchItemFailures: true,
 *   });
 *   await source.start();
 *   // … append events to tableName …
 *   await source.drain({ timeoutMs: 30_000 });
 * });
 * ```
 */
export function createDynamoDbStreamEventSource(
  options: DynamoDbStreamEventSourceOptions,
): DynamoDbStreamEventSource {
  const parsed = parseOptions(DYNAMODB_STREAM_EVENT_SOURCE_SCHEMA, options, {
    factory: 'createDynamoDbStreamEventSource',
  });
  const settings = streamSettingsOf<
    DynamoDBStreamEvent,
    DynamoDBBatchResponse,
    DynamoDbStreamOnFailureRecord,
    DynamoDBRecord
  >(parsed);
  const { streamArn, startingPosition } = parsed;
  const ownsClient = !isClientLike(parsed.dynamodbStreams);
  let streamRegion = 'us-east-1';
  const client = ownsClient
    ? new DynamoDBStreamsClient(
        resolveAwsClientConfig(parsed.dynamodbStreams as AwsClientOptions, 'dynamodb_streams'),
      )
    : (parsed.dynamodbStreams as DynamoDBStreamsClient);
  const tableName = /:table\/([^/]+)\//.exec(streamArn)?.[1] ?? streamArn;

  const adapter: StreamAdapter<
    StreamsRecord,
    DynamoDBRecord,
    DynamoDBStreamEvent,
    DynamoDbStreamOnFailureRecord
  > = {
    description: `DynamoDB stream event source on table ${tableName}`,
    maxRecordsPerRead: 1000,
    region: async () => {
      streamRegion = await clientRegion(client);
      return streamRegion;
    },
    async describe(signal) {
      const shards: Shard[] = [];
      let exclusiveStartShardId: string | undefined;
      for (;;) {
        const page = await client.send(
          new DescribeStreamCommand({
            StreamArn: streamArn,
            ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
          }),
          { abortSignal: signal },
        );
        const description = page.StreamDescription;
        if (description?.StreamStatus === 'DISABLED' || description?.StreamStatus === 'DISABLING') {
          throw Object.assign(new Error(`the stream ${streamArn} is ${description.StreamStatus}`), {
            name: 'StreamDisabledException',
          });
        }
        shards.push(...(description?.Shards ?? []));
        exclusiveStartShardId = description?.LastEvaluatedShardId;
        if (!exclusiveStartShardId) break;
      }
      return {
        streamArn,
        shards: shards.map((shard) => ({
          shardId: shard.ShardId!,
          parentShardIds: shard.ParentShardId ? [shard.ParentShardId] : [],
          closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
        })),
      };
    },
    async getIterator(shardId, start, signal) {
      if (start.type === 'AT_TIMESTAMP') throw new Error('DynamoDB streams have no AT_TIMESTAMP iterator');
      const response = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...(start.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: start.sequenceNumber } : {}),
        }),
        { abortSignal: signal },
      );
      return response.ShardIterator;
    },
    async getRecords(iterator, limit, signal) {
      const response = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), {
        abortSignal: signal,
      });
      return { records: response.Records ?? [], nextIterator: response.NextShardIterator ?? undefined };
    },
    convert(raw, _shardId, arn, region) {
      // Lambda's records name the stream in the function's region (DynamoDB Local says `ddblocal`).
      const converted = toLambdaDynamoDbRecord(raw, withArnRegion(arn, region), region);
      return {
        record: converted,
        sequenceNumber: converted.dynamodb?.SequenceNumber ?? '',
        arrivalMs: arrivalTime(raw.dynamodb?.ApproximateCreationDateTime, Date.now()),
      };
    },
    toEvent: (records) => ({ Records: records }),
    toFailure: (base, batchInfo) => ({
      ...base,
      DDBStreamBatchInfo: { ...batchInfo, streamArn: withArnRegion(batchInfo.streamArn, streamRegion) },
    }),
    // Lambda's DynamoDB batch info has whole seconds: 2019-11-14T00:13:19Z.
    formatArrival: (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    close() {
      if (ownsClient) client.destroy();
    },
  };
  return new StreamEventSourceEngine(adapter, settings, { type: startingPosition });
}

/**
 * When a stream record arrived, in epoch ms, for record-age limits. DynamoDB Local truncates
 * `ApproximateCreationDateTime` to the minute: a whole-minute value only says "some time in that
 * minute", so the record is taken to have arrived at the latest moment consistent with it and with
 * having been read at `readAtMs`. Without this, a 30-second-old record could look 89 seconds old and
 * be discarded under a 60-second limit. A precise time is used as it is.
 *
 * @internal
 */
export function arrivalTime(created: Date | number | string | undefined, readAtMs: number): number {
  if (created === undefined) return readAtMs;
  const ms = new Date(created).getTime();
  if (!Number.isFinite(ms)) return readAtMs;
  if (ms % 60_000 !== 0) return ms;
  return Math.max(ms, Math.min(readAtMs, ms + 59_999));
}

/**
 * Converts a record from the DynamoDB Streams API (as the AWS SDK returns it) to the record
 * Lambda delivers: `ApproximateCreationDateTime` in epoch seconds instead of a `Date`, binary
 * attributes in base64, `eventSource: 'aws:dynamodb'`, `eventSourceARN` and `awsRegion` set.
 *
 * @internal
 */
export function toLambdaDynamoDbRecord(
  raw: StreamsRecord,
  streamArn: string,
  region: string,
): DynamoDBRecord {
  const stream = raw.dynamodb ?? {};
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {};
  if (stream.ApproximateCreationDateTime !== undefined) {
    dynamodb.ApproximateCreationDateTime = Math.floor(
      new Date(stream.ApproximateCreationDateTime).getTime() / 1000,
    );
  }
  if (stream.Keys) dynamodb.Keys = toLambdaImage(stream.Keys);
  if (stream.NewImage) dynamodb.NewImage = toLambdaImage(stream.NewImage);
  if (stream.OldImage) dynamodb.OldImage = toLambdaImage(stream.OldImage);
  if (stream.SequenceNumber !== undefined) dynamodb.SequenceNumber = stream.SequenceNumber;
  if (stream.SizeBytes !== undefined) dynamodb.SizeBytes = stream.SizeBytes;
  if (stream.StreamViewType !== undefined) dynamodb.StreamViewType = stream.StreamViewType;
  const record: DynamoDBRecord = {
    eventID: raw.eventID,
    eventName: raw.eventName,
    eventVersion: raw.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb,
    eventSourceARN: streamArn,
  };
  if (raw.userIdentity) record.userIdentity = { ...raw.userIdentity };
  return record;
}

function toLambdaImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  const result: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) result[name] = toLambdaAttribute(value);
  return result;
}

function toLambdaAttribute(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((item) => Buffer.from(item).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  // DynamoDB Local's stream writes an empty map as `{}` instead of `{"M":{}}` (an empty list keeps
  // its `{"L":[]}`), so a value with no member at all can only be an empty map. Real AWS sends `M`.
  if (Object.keys(value).length === 0) return { M: {} };
  throw new EventSourceConfigurationError('unknown DynamoDB attribute value type', {
    keys: Object.keys(value),
  });
}
