/**
 * An in-memory Kinesis Data Streams as strict as the service for what the publisher and the event
 * sources use: a client-compatible `send` for the SDK v3 commands, Kinesis' record and call limits,
 * shards by MD5 hash key ranges, sequence numbers, resharding, reading back per shard, seeded
 * whole-call and per-entry failures, hooks around every call and introspection.
 *
 * It is a client, not a server: the SDK's middleware (retries included) does not run, so every
 * error reaches the caller after one attempt.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { LocalAwsOptionsError } from '../../errors';
import { type FakeCall, type FakeCallOutcome, runCall, supportedOperation } from '../call-pipeline';
import { commonFakeOptions, parseFakeOptions } from '../fake-options';
import {
  KINESIS_OPERATIONS,
  KinesisFaultPlan,
  type KinesisFaultStats,
  type KinesisFaults,
  type KinesisOperation,
} from './fault-plan';
import { hashKeyOf, parseHashKey } from './hash-keys';
import { KinesisState } from './kinesis-state';
import {
  getRecords,
  getShardIterator,
  type KinesisLimits,
  MAX_RECORD_BYTES,
  putRecord,
  putRecords,
} from './record-operations';
import {
  internalFailure,
  KinesisModelError,
  kinesisException,
  kinesisThrottled,
  okMetadata,
} from './service-errors';
import {
  createStream,
  deleteStream,
  describeStream,
  describeStreamSummary,
  listShards,
  listStreams,
  mergeShards,
  splitShard,
} from './stream-operations';
import type { StoredRecord, StreamState } from './stream-state';

/** One Kinesis call as the hooks see it. */
export type KinesisCall = FakeCall<KinesisOperation>;

/** One finished Kinesis call as `onAfterSend` sees it. */
export type KinesisCallOutcome = FakeCallOutcome<KinesisOperation>;

/** Options of {@link FakeKinesis}. */
export interface FakeKinesisOptions {
  /** Seeded fault injection. @default no faults */
  readonly faults?: KinesisFaults;
  /** The region in stream ARNs and `config.region`. @default 'us-east-1' */
  readonly region?: string;
  /** The clock (milliseconds), for arrival timestamps and iterator expiry. @default Date.now */
  readonly now?: () => number;
  /**
   * The most bytes of one record, data and partition key. Kinesis' limit is 1 MiB; raise it only
   * to model a stream configured for larger records. @default 1048576
   */
  readonly maxRecordBytes?: number;
  /**
   * Enforce Kinesis' per-shard write limits (1,000 records and 1 MiB per second per shard, counted
   * in seconds of the `now` clock): records over them fail as `ProvisionedThroughputExceededException`
   * entries (PutRecord: the call fails), as on a hot shard. `true` for the service's limits, or your
   * own. @default false
   */
  readonly shardWriteLimits?:
    | boolean
    | { readonly recordsPerSecond?: number; readonly bytesPerSecond?: number };
  /** Called before each call is carried out; throw to fail it, return a promise to hold it. @default none */
  readonly onBeforeSend?: (call: KinesisCall) => void | Promise<void>;
  /**
   * Called after each call was carried out (records stored) and before the caller gets the answer;
   * throw to lose the answer, return a promise to hold it. @default none
   */
  readonly onAfterSend?: (outcome: KinesisCallOutcome) => void | Promise<void>;
}

const OPTIONS_SCHEMA = z.strictObject({
  ...commonFakeOptions,
  maxRecordBytes: z
    .number()
    .int()
    .min(1)
    .max(10 * 1024 * 1024)
    .optional(),
  shardWriteLimits: z
    .union([
      z.boolean(),
      z.strictObject({
        recordsPerSecond: z.number().int().min(1).optional(),
        bytesPerSecond: z.number().int().min(1).optional(),
      }),
    ])
    .optional(),
});

/** A record as read back from the model, with its shard. */
export interface KinesisStoredRecord extends StoredRecord {
  /** The shard the record is on. */
  readonly shardId: string;
}

/** A snapshot of a model's streams (see {@link FakeKinesis.snapshot}); opaque. */
export interface KinesisSnapshot {
  readonly streams: readonly object[];
}

function operationOf(command: unknown): KinesisOperation {
  return supportedOperation('FakeKinesis', command, KINESIS_OPERATIONS);
}

/**
 * An in-memory Kinesis with the service's limits and semantics.
 *
 * @example
 * ```ts
 * import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
 * import { FakeKinesis } from '@tidemark/testing/fakes';
 *
 * const kinesis = new FakeKinesis({ faults: { seed: 3, entryThrottleRate: 0.1 } });
 * kinesis.createStream('events', 2);
 * const result = await kinesis.client.send(new PutRecordsCommand({
 *   StreamName: 'events',
 *   Records: [{ PartitionKey: 'task-1', Data: new TextEncoder().encode('{}') }],
 * }));
 * // result.FailedRecordCount, result.Records[i].ErrorCode …; kinesis.records('events') reads them back
 * ```
 */
export class FakeKinesis {
  /** The SDK-style client configuration (only `region`), read by helpers such as the event sources. */
  readonly config: { readonly region: string };
  readonly #state: KinesisState;
  readonly #faults: KinesisFaultPlan;
  readonly #options: FakeKinesisOptions;
  readonly #limits: KinesisLimits;
  readonly #now: () => number;
  readonly #counts = new Map<KinesisOperation, number>();
  #calls = 0;

  constructor(options: FakeKinesisOptions = {}) {
    parseFakeOptions(OPTIONS_SCHEMA, options, 'FakeKinesis');
    this.#options = options;
    this.config = { region: options.region ?? 'us-east-1' };
    this.#state = new KinesisState(this.config.region);
    this.#faults = new KinesisFaultPlan(options.faults ?? {});
    const writes = options.shardWriteLimits;
    this.#limits = {
      maxRecordBytes: options.maxRecordBytes ?? MAX_RECORD_BYTES,
      shardWrites:
        writes === undefined || writes === false
          ? undefined
          : {
              recordsPerSecond: (writes === true ? undefined : writes.recordsPerSecond) ?? 1000,
              bytesPerSecond: (writes === true ? undefined : writes.bytesPerSecond) ?? 1024 * 1024,
            },
    };
    this.#now = options.now ?? Date.now;
  }

  /** This model typed as a `KinesisClient`, for code that takes one (only `send` is implemented). */
  get client(): KinesisClient {
    return this as unknown as KinesisClient;
  }

  /** Carries out one SDK v3 command and answers as Kinesis would. */
  async send<Output = Record<string, unknown>>(
    command: unknown,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Output> {
    const operation = operationOf(command);
    const input = ((command as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
    this.#calls += 1;
    const callIndex = this.#calls;
    const requestId = `fake-kinesis-${callIndex}`;
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const settings = () => this.#faults.settingsFor(operation);
    const answer = await runCall({
      call: { operation, input, callIndex },
      hooks: this.#options,
      abortSignal: options?.abortSignal,
      refuse: () => {
        const refused = this.#faults.beforeCall(operation);
        if (refused === 'throttle')
          return kinesisThrottled(
            settings().throttleError ?? 'ProvisionedThroughputExceededException',
            requestId,
          );
        return refused === 'server-error' ? internalFailure(requestId) : undefined;
      },
      execute: () => this.#execute(operation, input, requestId),
      toServiceError: (error) =>
        error instanceof KinesisModelError ? kinesisException(error, requestId) : error,
      loseAnswer: () => {
        if (!this.#faults.loseResponse(operation)) return undefined;
        if (settings().lostResponseError === 'TimeoutError') {
          const error = new Error(`Connection timed out after the request was sent (request ${requestId})`);
          error.name = 'TimeoutError';
          return error;
        }
        return internalFailure(requestId);
      },
      metadata: () => okMetadata(requestId),
    });
    return answer as Output;
  }

  #execute(
    operation: KinesisOperation,
    input: Record<string, unknown>,
    requestId: string,
  ): Record<string, unknown> {
    const state = this.#state;
    const now = this.#now();
    // biome-ignore lint/suspicious/noExplicitAny: each operation validates its own input
    const request = input as any;
    switch (operation) {
      case 'PutRecords':
        return putRecords(state, request, this.#faults, this.#limits, new Date(now));
      case 'PutRecord': {
        const result = putRecord(state, request, this.#faults, this.#limits, new Date(now));
        if ('failure' in result) {
          if (result.failure === 'InternalFailure') throw internalFailure(requestId);
          throw new KinesisModelError('ProvisionedThroughputExceededException', result.message);
        }
        return result;
      }
      case 'GetShardIterator':
        return getShardIterator(state, request, now);
      case 'GetRecords':
        return getRecords(state, request, now);
      case 'CreateStream':
        return createStream(state, request, new Date(now));
      case 'DeleteStream':
        return deleteStream(state, request);
      case 'DescribeStream':
        return describeStream(state, request);
      case 'DescribeStreamSummary':
        return describeStreamSummary(state, request);
      case 'ListShards':
        return listShards(state, request);
      case 'ListStreams':
        return listStreams(state, request);
      case 'SplitShard':
        return splitShard(state, request);
      case 'MergeShards':
        return mergeShards(state, request);
    }
  }

  /** Creates a stream at once with `shardCount` shards of even hash key ranges (no call is counted or faulted). */
  createStream(streamName: string, shardCount = 1): void {
    try {
      createStream(this.#state, { StreamName: streamName, ShardCount: shardCount }, new Date(this.#now()));
    } catch (error) {
      throw error instanceof KinesisModelError ? kinesisException(error, 'fake-kinesis-setup') : error;
    }
  }

  /** The ARN of a stream of this model. */
  streamArn(streamName: string): string {
    return this.#stream(streamName).arn;
  }

  #stream(streamName: string): StreamState {
    const stream = this.#state.streams.get(streamName);
    if (!stream) {
      throw new LocalAwsOptionsError(`FakeKinesis: no stream ${streamName}`, {
        streamName,
        streams: [...this.#state.streams.keys()],
      });
    }
    return stream;
  }

  /**
   * The records of a stream (or of one shard), as stored: per shard in sequence order, shards in
   * creation order (parents before children). Copies.
   */
  records(streamName: string, shardId?: string): KinesisStoredRecord[] {
    const stream = this.#stream(streamName);
    const shards =
      shardId === undefined ? stream.shards : stream.shards.filter((shard) => shard.shardId === shardId);
    if (shardId !== undefined && shards.length === 0) {
      throw new LocalAwsOptionsError(`FakeKinesis: no shard ${shardId} in stream ${streamName}`, {
        streamName,
        shardId,
      });
    }
    return shards.flatMap((shard) =>
      shard.records.map((record) => ({
        ...record,
        Data: Uint8Array.from(record.Data),
        shardId: shard.shardId,
      })),
    );
  }

  /** The shards of a stream as ListShards describes them. */
  shards(streamName: string) {
    const stream = this.#stream(streamName);
    return stream.shards.map((shard) => stream.describe(shard));
  }

  /** The open shard a partition key (or explicit hash key) maps to now. */
  shardIdFor(streamName: string, partitionKey: string, explicitHashKey?: string): string {
    const key = explicitHashKey === undefined ? hashKeyOf(partitionKey) : parseHashKey(explicitHashKey);
    if (key === undefined)
      throw new LocalAwsOptionsError(`FakeKinesis: invalid explicit hash key ${explicitHashKey}`, {
        explicitHashKey,
      });
    return this.#stream(streamName).shardFor(key).shardId;
  }

  /**
   * Splits an open shard (at `newStartingHashKey`, by default the middle of its range): the parent
   * closes and two children open, as SplitShard does. Returns the children's ids.
   */
  splitShard(streamName: string, shardId: string, newStartingHashKey?: string): [string, string] {
    const stream = this.#stream(streamName);
    const shard = stream.shard(shardId);
    const key = newStartingHashKey ?? (shard ? ((shard.start + shard.end + 1n) / 2n).toString() : '0');
    try {
      splitShard(this.#state, { StreamName: streamName, ShardToSplit: shardId, NewStartingHashKey: key });
    } catch (error) {
      throw error instanceof KinesisModelError ? kinesisException(error, 'fake-kinesis-setup') : error;
    }
    const children = stream.shards.slice(-2);
    return [children[0]!.shardId, children[1]!.shardId];
  }

  /** Merges two adjacent open shards, as MergeShards does. Returns the child's id. */
  mergeShards(streamName: string, shardId: string, adjacentShardId: string): string {
    const stream = this.#stream(streamName);
    try {
      mergeShards(this.#state, {
        StreamName: streamName,
        ShardToMerge: shardId,
        AdjacentShardToMerge: adjacentShardId,
      });
    } catch (error) {
      throw error instanceof KinesisModelError ? kinesisException(error, 'fake-kinesis-setup') : error;
    }
    return stream.shards[stream.shards.length - 1]!.shardId;
  }

  /** The number of calls per operation so far (faulted and refused calls included). */
  get requestCounts(): Readonly<Partial<Record<KinesisOperation, number>>> {
    return Object.fromEntries(this.#counts);
  }

  /** The total number of calls so far. */
  get callCount(): number {
    return this.#calls;
  }

  /** The faults injected so far. */
  get faultStats(): KinesisFaultStats {
    return this.#faults.stats;
  }

  /** Replaces the fault settings (restarts the seeded sequence). */
  setFaults(faults: KinesisFaults): void {
    this.#faults.set(faults);
  }

  /** Clears the call counts (streams are kept). */
  resetStats(): void {
    this.#counts.clear();
  }

  /** A deep copy of every stream. */
  snapshot(): KinesisSnapshot {
    return { streams: [...this.#state.streams.values()].map((stream) => stream.clone()) };
  }

  /** Puts the streams back as they were in `snapshot`. */
  restore(snapshot: KinesisSnapshot): void {
    this.#state.streams.clear();
    for (const stream of snapshot.streams as readonly StreamState[])
      this.#state.streams.set(stream.name, stream.clone());
  }

  /** For `KinesisClient` compatibility: nothing to release. */
  destroy(): void {}
}
