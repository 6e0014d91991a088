/**
 * Claims on an aggregate: while one invocation (a batch or a gap sweep) runs an aggregate's held
 * records, others leave the aggregate alone until the claim's deadline.
 */
import type { CheckpointState } from './checkpoint-item';
import type { AggregateContext, Run } from './run-context';

/** How long a gap sweep without a Lambda context claims an aggregate (ms). */
const SWEEP_CLAIM_MS = 15 * 60 * 1000;

/** Whether another invocation holds a live claim on the aggregate. */
export function claimedByOther(run: Run, state: CheckpointState, owner: string): boolean {
  return (
    state.claim !== undefined &&
    state.claim.owner !== owner &&
    Date.parse(state.claim.until) > run.now.getTime()
  );
}

/** Until when this run may claim an aggregate: its deadline. */
export function claimUntil(consumer: Pick<AggregateContext, 'timeLeft'>, run: Run): Date {
  const left = consumer.timeLeft(run);
  return new Date(run.now.getTime() + (Number.isFinite(left) ? left : SWEEP_CLAIM_MS));
}
