/**
 * The state of one shard as the event-source engine reads it, and the decisions that depend on it
 * alone: how long an idle shard waits, and what the next batch is (Lambda's batch size, 6 MB payload
 * limit and batching window).
 *
 * @internal
 */
import type { ResolvedStreamSettings } from './options';
import type { BatchWork } from './retry-policy';
import type { ConvertedRecord, ShardDescription, ShardPosition } from './stream-adapter';

/** The longest an idle shard waits between reads (unless `pollIntervalMs` is longer). */
export const MAX_IDLE_POLL_MS = 500;

/** Lambda's payload limit for a synchronous invocation, in bytes. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** A record read and waiting in a shard's buffer. */
export interface BufferedRecord<TRecord> extends ConvertedRecord<TRecord> {
  /** When the poller read it, epoch ms (for the batching window). */
  readonly readAtMs: number;
  /** Its share of the invocation payload, in bytes. */
  readonly payloadBytes: number;
}

/** The last invocation of a shard's records, for on-failure records. */
export interface LastInvocation {
  readonly awsRequestId: string;
  readonly functionError: boolean;
}

/** One shard's reading and batching state. */
export interface ShardState<TRecord> {
  readonly shardId: string;
  parentShardIds: readonly string[];
  position: ShardPosition;
  iterator: string | undefined;
  /** Whether the iterator (or the decision that the shard has nothing) was taken. */
  positioned: boolean;
  /** GetRecords said the shard ends here. */
  closed: boolean;
  /** Closed and everything in it handled or given up on. */
  finished: boolean;
  buffer: BufferedRecord<TRecord>[];
  work: BatchWork[];
  notBeforeMs: number;
  inFlight: boolean;
  /** The tick of the last read that started after … and found nothing new. */
  caughtUpTick: number;
  lastInvocation: LastInvocation | undefined;
  lastReadError: unknown;
  readErrorStreak: number;
  /** Reads in a row that found nothing new (the idle poll interval grows with it). */
  emptyReadStreak: number;
  wake: (() => void) | undefined;
  loop: Promise<void> | undefined;
}

/** The settings batching depends on. */
export type BatchingSettings = Pick<
  ResolvedStreamSettings<unknown, unknown, unknown, unknown>,
  'batchSize' | 'maximumBatchingWindowInSeconds'
>;

/** A new shard's state, read from `position`. */
export function newShardState<TRecord>(
  description: ShardDescription,
  position: ShardPosition,
): ShardState<TRecord> {
  const shard: ShardState<TRecord> = {
    shardId: description.shardId,
    parentShardIds: description.parentShardIds,
    position,
    iterator: undefined,
    positioned: false,
    closed: false,
    finished: false,
    buffer: [],
    work: [],
    notBeforeMs: 0,
    inFlight: false,
    caughtUpTick: 0,
    lastInvocation: undefined,
    lastReadError: undefined,
    readErrorStreak: 0,
    emptyReadStreak: 0,
    wake: undefined,
    loop: undefined,
  };
  // With LATEST, a shard that is already closed has nothing after "now".
  if (description.closed && position.type === 'LATEST') {
    shard.closed = true;
    shard.finished = true;
    shard.positioned = true;
  }
  return shard;
}

/**
 * How long an idle shard waits before reading again: `pollIntervalMs`, doubling while reads
 * keep finding nothing up to {@link MAX_IDLE_POLL_MS} (drain() and stop() wake it at once); after
 * read errors, 50 ms doubling up to 1 s.
 */
export function idleWaitMs(shard: ShardState<unknown>, pollIntervalMs: number): number {
  if (shard.readErrorStreak > 0) {
    return Math.max(pollIntervalMs, Math.min(1000, 50 * 2 ** shard.readErrorStreak));
  }
  const idle = pollIntervalMs * 2 ** Math.min(10, Math.max(0, shard.emptyReadStreak - 1));
  return Math.min(Math.max(pollIntervalMs, MAX_IDLE_POLL_MS), idle);
}

/**
 * What a shard does next: `'invoke'` its head batch, `'idle'` (nothing to do), or wait until the
 * returned epoch ms (batching window, retry delay). Opens the next batch when the buffer holds one.
 */
export function nextStep(
  shard: ShardState<unknown>,
  settings: BatchingSettings,
  now: number,
): 'invoke' | 'idle' | number {
  if (shard.work.length === 0) {
    if (shard.buffer.length === 0) return 'idle';
    const size = batchLimit(shard.buffer, settings.batchSize);
    const windowMs = settings.maximumBatchingWindowInSeconds * 1000;
    const full = size >= settings.batchSize || size < shard.buffer.length;
    const windowOver = windowMs === 0 || now - shard.buffer[0]!.readAtMs >= windowMs;
    if (!full && !windowOver && !shard.closed) return shard.buffer[0]!.readAtMs + windowMs;
    shard.work.push({ size, retries: 0, invocations: 0 });
  }
  return shard.notBeforeMs > now ? shard.notBeforeMs : 'invoke';
}

/** How many buffered records fit one invocation (batch size and payload limit). */
export function batchLimit(buffer: readonly BufferedRecord<unknown>[], batchSize: number): number {
  let bytes = 16;
  let count = 0;
  for (const record of buffer) {
    if (count >= batchSize) break;
    if (count > 0 && bytes + record.payloadBytes > MAX_INVOCATION_PAYLOAD_BYTES) break;
    bytes += record.payloadBytes;
    count += 1;
  }
  return count;
}
