/**
 * What the event-source engine needs from a stream service (Kinesis or DynamoDB Streams): describe
 * the shards, position an iterator, read, and convert records, events and on-failure records to the
 * shapes Lambda delivers. The service-specific sources implement it.
 *
 * @internal
 */
import type { OnFailureRecordBase, StreamBatchInfo } from './types';

/** Where a shard iterator starts. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** A shard as the stream describes it. */
export interface ShardDescription {
  readonly shardId: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when present. */
  readonly parentShardIds: readonly string[];
  /** Whether the shard is closed (has an ending sequence number). */
  readonly closed: boolean;
}

/** One record read from a shard, converted to the shape Lambda delivers. */
export interface ConvertedRecord<TRecord> {
  readonly record: TRecord;
  readonly sequenceNumber: string;
  /** When the record arrived in the stream, epoch ms. */
  readonly arrivalMs: number;
}

/** What the engine needs from a stream service. */
export interface StreamAdapter<TRaw, TRecord, TEvent, TFailure> {
  /** For messages: `Kinesis stream my-stream`. */
  readonly description: string;
  /** The most records one GetRecords call may return. */
  readonly maxRecordsPerRead: number;
  /** The region of the client, for ARNs and records. */
  region(): Promise<string>;
  /** The stream ARN and its shards. */
  describe(signal: AbortSignal): Promise<{ streamArn: string; shards: readonly ShardDescription[] }>;
  /** A shard iterator, or `undefined` if the shard has nothing at that position and is closed. */
  getIterator(shardId: string, position: ShardPosition, signal: AbortSignal): Promise<string | undefined>;
  /** One GetRecords call. `nextIterator` is `undefined` once a closed shard is read to its end. */
  getRecords(
    iterator: string,
    limit: number,
    signal: AbortSignal,
  ): Promise<{ records: readonly TRaw[]; nextIterator: string | undefined }>;
  /** Converts a raw record to the record Lambda delivers. */
  convert(raw: TRaw, shardId: string, streamArn: string, region: string): ConvertedRecord<TRecord>;
  /** Wraps records in the event Lambda delivers. */
  toEvent(records: TRecord[]): TEvent;
  /** Wraps the common on-failure fields and the batch info in the service's on-failure record. */
  toFailure(base: OnFailureRecordBase, batchInfo: StreamBatchInfo): TFailure;
  /** Formats an arrival time for the batch info. */
  formatArrival(ms: number): string;
  /** Releases clients the adapter created itself. */
  close(): void;
}
