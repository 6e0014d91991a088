/**
 * `drain()`'s accounting: whether every record that was in the stream when a drain began (its
 * ticket) has been handled or given up on, and, when not, what each shard still holds.
 *
 * Ticks order the engine's reads: a drain takes a ticket, and a shard counts as caught up only when
 * a read that started after the ticket found nothing new (or the shard's end).
 *
 * @internal
 */
import type { PendingShardWork } from '../errors';
import { describeError } from './read-errors';
import type { ShardState } from './shard-state';

/** What the accounting reads of the engine. */
export interface DrainView {
  /** Every shard known. */
  readonly shards: Iterable<ShardState<unknown>>;
  /** The tick of the last completed listing of the shards. */
  readonly refreshedTick: number;
  /** Whether a shard's parents are finished (a child waits for them). */
  parentsFinished(shard: ShardState<unknown>): boolean;
}

/** Whether everything in the stream at `ticket`, and every retry it caused, is settled. */
export function isDrained(view: DrainView, ticket: number): boolean {
  if (view.refreshedTick <= ticket) return false;
  for (const shard of view.shards) {
    if (shard.finished) continue;
    if (shard.inFlight || shard.buffer.length > 0 || shard.work.length > 0) return false;
    if (shard.caughtUpTick <= ticket) return false;
  }
  return true;
}

/** What each unsettled shard still holds, for a drain that timed out. */
export function pendingWork(view: DrainView, ticket: number): PendingShardWork[] {
  const pending: PendingShardWork[] = [];
  for (const shard of view.shards) {
    if (shard.finished) continue;
    const caughtUp = shard.caughtUpTick > ticket;
    if (caughtUp && !shard.inFlight && shard.buffer.length === 0 && shard.work.length === 0) continue;
    pending.push({
      shardId: shard.shardId,
      bufferedRecords: shard.buffer.length,
      ...(shard.buffer[0] ? { firstPendingSequenceNumber: shard.buffer[0].sequenceNumber } : {}),
      invocationInFlight: shard.inFlight,
      retryingBatchInvocations: shard.work[0]?.invocations ?? 0,
      caughtUp,
      waitingForParent: !view.parentsFinished(shard),
      ...(shard.lastReadError !== undefined ? { lastReadError: describeError(shard.lastReadError) } : {}),
    });
  }
  return pending;
}
