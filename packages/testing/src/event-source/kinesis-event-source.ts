/**
 * Runs a handler against a real Kinesis stream the way a Lambda event source mapping does.
 */
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
  type ListShardsCommandInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { AwsClientOptions } from '@tidemark/core';
import { parseOptions, resolveAwsClientConfig } from '@tidemark/core/internal';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { StreamEventSourceEngine } from './event-source-engine';
import {
  isClientLike,
  KINESIS_EVENT_SOURCE_SCHEMA,
  kinesisStreamNameOfArn,
  streamSettingsOf,
} from './options';
import type { ShardPosition, StreamAdapter } from './stream-adapter';
import type { KinesisOnFailureRecord, StreamEventSource, StreamEventSourceOptions } from './types';

/** Where a Kinesis event source starts reading each shard. */
export type KinesisStartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

interface KinesisTarget {
  /**
   * The Kinesis client, or the config to build one (see core's `resolveAwsClientConfig`). A client
   * you pass is yours to destroy; one built here is destroyed by `stop()`.
   */
  readonly kinesis: KinesisClient | AwsClientOptions;
}

/** The stream, by name or by ARN (one of them). */
export type KinesisStreamRef =
  | { /** The stream name. */ readonly streamName: string; readonly streamArn?: never }
  | { /** The stream ARN. */ readonly streamArn: string; readonly streamName?: never };

/** Options of {@link createKinesisEventSource}. */
export type KinesisEventSourceOptions = KinesisTarget &
  KinesisStreamRef &
  StreamEventSourceOptions<
    KinesisStreamEvent,
    KinesisStreamBatchResponse,
    KinesisOnFailureRecord,
    KinesisStreamRecord
  > & {
    /**
     * `StartingPosition`: `TRIM_HORIZON` (every record kept in the stream), `LATEST` (records
     * written after `start()`), or `AT_TIMESTAMP` (records that arrived at or after
     * `startingPositionTimestamp`). Lambda requires it; default here: `'TRIM_HORIZON'`.
     */
    readonly startingPosition?: KinesisStartingPosition;
    /**
     * `StartingPositionTimestamp`, for `AT_TIMESTAMP`: a `Date`, or epoch seconds as Lambda takes it.
     * Required with `AT_TIMESTAMP`, refused otherwise.
     */
    readonly startingPositionTimestamp?: Date | number;
    /**
     * The `invokeIdentityArn` of every record (the function's execution role).
     * Default: `arn:aws:iam::<account>:role/<functionName>-role`, the account taken from the stream ARN.
     */
    readonly invokeIdentityArn?: string;
  };

/** A running Kinesis event source. */
export type KinesisEventSource = StreamEventSource<
  KinesisStreamEvent,
  KinesisStreamBatchResponse,
  KinesisOnFailureRecord
>;

/**
 * Emulates a Lambda event source mapping on a Kinesis stream: one poller per shard (parents before
 * children), one batch in flight per shard in shard order, Lambda's batch size, batching window,
 * starting position, `ReportBatchItemFailures`, bisect on error, maximum retry attempts, maximum
 * record age and on-failure destination. Events and context have the shape Lambda delivers.
 * Throws a `ConfigurationError` naming the option for invalid options.
 *
 * @example
 * ```ts
 * import { createKinesisEventSource } from '@tidemark/testing';
 * import { test } from '@tidemark/testing/vitest';
 *
 * test('the consumer applies every event', async ({ aws }) => {
 *   const { streamName } = await aws.createKinesisStream();
 *   await using source = createKinesisEventSource({
 *     kinesis: aws.kinesis,
 *     streamName,
 *     handler: consumer, // (event: KinesisStreamEvent, context) => Promise<KinesisStreamBatchResponse>
 *     reportBatchItemFailures: true,
 *   });
 *   await source.start();
 *   // … put records …
 *   await source.drain({ timeoutMs: 30_000 });
 *   expect(source.onFailure).toEqual([]);
 * });
 * ```
 */
export function createKinesisEventSource(options: KinesisEventSourceOptions): KinesisEventSource {
  const parsed = parseOptions(KINESIS_EVENT_SOURCE_SCHEMA, options, { factory: 'createKinesisEventSource' });
  const settings = streamSettingsOf<
    KinesisStreamEvent,
    KinesisStreamBatchResponse,
    KinesisOnFailureRecord,
    KinesisStreamRecord
  >(parsed);
  const streamName = parsed.streamName ?? kinesisStreamNameOfArn(parsed.streamArn!);
  const position = kinesisStartingPosition(parsed);
  const ownsClient = !isClientLike(parsed.kinesis);
  const kinesis = ownsClient
    ? new KinesisClient(resolveAwsClientConfig(parsed.kinesis as AwsClientOptions, 'kinesis'))
    : (parsed.kinesis as KinesisClient);
  let invokeIdentityArn = parsed.invokeIdentityArn;

  const adapter: StreamAdapter<
    KinesisRecord,
    KinesisStreamRecord,
    KinesisStreamEvent,
    KinesisOnFailureRecord
  > = {
    description: `Kinesis event source on stream ${streamName}`,
    maxRecordsPerRead: 10_000,
    region: () => clientRegion(kinesis),
    async describe(signal) {
      const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }), {
        abortSignal: signal,
      });
      const streamArn = summary.StreamDescriptionSummary?.StreamARN;
      if (!streamArn) throw new Error(`DescribeStreamSummary returned no StreamARN for ${streamName}`);
      const shards: Shard[] = [];
      let input: ListShardsCommandInput = { StreamName: streamName };
      for (;;) {
        const page = await kinesis.send(new ListShardsCommand(input), { abortSignal: signal });
        shards.push(...(page.Shards ?? []));
        if (!page.NextToken) break;
        input = { NextToken: page.NextToken };
      }
      if (invokeIdentityArn === undefined) {
        const account = /^arn:[^:]+:kinesis:[^:]*:(\d{12}):/.exec(streamArn)?.[1] ?? '000000000000';
        invokeIdentityArn = `arn:aws:iam::${account}:role/${settings.functionName}-role`;
      }
      return {
        streamArn,
        shards: shards.map((shard) => ({
          shardId: shard.ShardId!,
          parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
            (id): id is string => typeof id === 'string' && id !== '',
          ),
          closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
        })),
      };
    },
    async getIterator(shardId, start: ShardPosition, signal) {
      const response = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...(start.type === 'AT_TIMESTAMP' ? { Timestamp: start.timestamp } : {}),
          ...(start.type === 'AFTER_SEQUENCE_NUMBER' ? { StartingSequenceNumber: start.sequenceNumber } : {}),
        }),
        { abortSignal: signal },
      );
      return response.ShardIterator;
    },
    async getRecords(iterator, limit, signal) {
      const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), {
        abortSignal: signal,
      });
      return { records: response.Records ?? [], nextIterator: response.NextShardIterator ?? undefined };
    },
    convert(raw, shardId, streamArn, region) {
      const sequenceNumber = raw.SequenceNumber!;
      const arrivalMs = raw.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
      const record: KinesisStreamRecord = {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: raw.PartitionKey ?? '',
          sequenceNumber,
          data: Buffer.from(raw.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: arrivalMs / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: invokeIdentityArn ?? '',
        awsRegion: region,
        eventSourceARN: streamArn,
      };
      return { record, sequenceNumber, arrivalMs };
    },
    toEvent: (records) => ({ Records: records }),
    toFailure: (base, batchInfo) => ({ ...base, KinesisBatchInfo: batchInfo }),
    formatArrival: (ms) => new Date(ms).toISOString(),
    close() {
      if (ownsClient) kinesis.destroy();
    },
  };
  return new StreamEventSourceEngine(adapter, settings, position);
}

/** Where each shard starts, from options the schema accepted. */
function kinesisStartingPosition(options: {
  readonly startingPosition: KinesisStartingPosition;
  readonly startingPositionTimestamp?: Date | number | undefined;
}): ShardPosition {
  const { startingPosition: type, startingPositionTimestamp: timestamp } = options;
  if (type !== 'AT_TIMESTAMP') return { type };
  return { type, timestamp: timestamp instanceof Date ? timestamp : new Date(timestamp! * 1000) };
}

/** @internal The region of an SDK client (its config holds a provider). */
export async function clientRegion(client: { config?: unknown }): Promise<string> {
  const region = (client.config as { region?: unknown } | undefined)?.region;
  const value = typeof region === 'function' ? await (region as () => Promise<unknown>)() : region;
  return typeof value === 'string' && value !== '' ? value : 'us-east-1';
}
