/**
 * The gap sweep: the open-gap index listed, and every open gap evaluated as if a record of its
 * aggregate had arrived (held records run, expired gaps parked and skipped over), for aggregates
 * that get no further records.
 */
import { randomUUID } from 'node:crypto';
import { AggregateRun } from './aggregate-run';
import { heldSince } from './checkpoint-draft';
import type { CheckpointState } from './checkpoint-item';
import type { CheckpointStore } from './checkpoint-store';
import { claimedByOther, claimUntil } from './claims';
import { gapExpiry } from './rules/gap-expiry';
import type { AggregateContext, Run } from './run-context';
import type { GapSweepResult, OpenGap } from './types';

/** Lists the aggregates that hold records because of a gap (the open-gap index). */
export async function listOpenGaps(checkpoints: Pick<CheckpointStore, 'listGaps'>): Promise<OpenGap[]> {
  const gaps: OpenGap[] = [];
  let cursor: string | undefined;
  do {
    const page = await checkpoints.listGaps(cursor);
    for (const item of page.items) gaps.push({ aggregate: item.aggregate, openSince: item.openSince });
    cursor = page.cursor;
  } while (cursor !== undefined);
  return gaps;
}

/**
 * Evaluates every open gap as if a record of its aggregate had arrived: a gap open for
 * `gapTimeoutSeconds` is parked and skipped over and its held records applied. For aggregates
 * that get no further records; run it on a schedule.
 */
export async function expireGaps(consumer: AggregateContext, run: Run): Promise<GapSweepResult> {
  const result = { open: 0, expired: 0, stale: 0 };
  const owner = `sweep#${randomUUID()}`;
  let cursor: string | undefined;
  do {
    const page = await run.checkpoints.listGaps(cursor);
    for (const gap of page.items) {
      if (consumer.timeLeft(run) < consumer.options.timeoutMarginMs) break;
      const state = await run.checkpoints.readCheckpoint(gap.aggregateKey);
      if (!state || state.held.size === 0) {
        // Conditional on the revision read: a batch opening a new gap meanwhile keeps its entry.
        if (await run.checkpoints.deleteStaleGap(gap.aggregateKey, state?.revision)) result.stale += 1;
        continue;
      }
      if (!sweepDue(consumer.options, run, state) || claimedByOther(run, state, owner)) {
        result.open += 1;
        continue;
      }
      const aggregate = new AggregateRun(consumer, run, gap.aggregateKey, state, false);
      // A sweep's claim left behind (expired: see `claimedByOther`) means that sweep died, or
      // could not write, while it ran this aggregate's held events. Count it against the event
      // it would run first, as a batch counts a death through its in-flight marker, so a held
      // event that kills every invocation is parked after `maxAttempts` sweeps. From then on
      // each event's completion is written before the next runs, so a later death is pinned on
      // the event that died.
      if (state.claim?.owner.startsWith('sweep#') && state.claim.owner !== owner) {
        aggregate.countDeath(0, []);
        aggregate.flushEachEvent = true;
      }
      // Claim first (the claim write also makes a counted death durable): a batch of this
      // aggregate that read the same revision can no longer run handlers, and one that started
      // earlier holds its own claim.
      if (!(await aggregate.claim(owner, claimUntil(consumer, run), true))) {
        result.open += 1;
        continue;
      }
      const held = await run.checkpoints.readHeld([
        { aggregateKey: gap.aggregateKey, versions: [...state.held.keys()] },
      ]);
      const expiredBefore = run.stats.gapsExpired;
      await aggregate.process([], held.get(gap.aggregateKey) ?? new Map());
      if (run.stats.gapsExpired > expiredBefore) result.expired += 1;
      else result.open += 1;
    }
    cursor = page.cursor;
  } while (cursor !== undefined && consumer.timeLeft(run) >= consumer.options.timeoutMarginMs);
  consumer.options.logger.info(`tidemark consumer ${consumer.name}: gap sweep done`, {
    ...result,
    applied: run.stats.applied,
    dynamodbRequests: run.counter.requests,
  });
  return { ...result, applied: run.stats.applied };
}

/** Whether a sweep would run anything for this aggregate (its next version is held, or its gap expired). */
function sweepDue(
  options: Pick<AggregateContext['options'], 'gapTimeoutSeconds' | 'maxHeldPerAggregate'>,
  run: Run,
  state: CheckpointState,
): boolean {
  if (state.held.has(state.version + 1)) return true;
  return gapExpiry({
    waiting: state.held.size,
    openSinceMs: heldSince(state),
    nowMs: run.now.getTime(),
    gapTimeoutSeconds: options.gapTimeoutSeconds,
    maxHeldPerAggregate: options.maxHeldPerAggregate,
  }).expired;
}
