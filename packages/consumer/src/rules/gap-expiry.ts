/**
 * Rule: a gap is given up on when it has been open for `gapTimeoutSeconds`, or when more than
 * `maxHeldPerAggregate` records wait behind it. The missing versions are then reported (a
 * `gap-expired` dead letter), remembered as a skipped range, and the held records after them apply.
 */
import type { SkippedRange } from './skipped-ranges';

/** Whether the gap expires now, and why. */
export function gapExpiry(input: {
  readonly waiting: number;
  readonly openSinceMs: number;
  readonly nowMs: number;
  readonly gapTimeoutSeconds: number;
  readonly maxHeldPerAggregate: number;
}): { expired: false } | { expired: true; why: string } {
  if (input.waiting > input.maxHeldPerAggregate) {
    return { expired: true, why: `more than ${input.maxHeldPerAggregate} records held` };
  }
  if (input.nowMs - Math.min(input.nowMs, input.openSinceMs) >= input.gapTimeoutSeconds * 1000) {
    return { expired: true, why: `open longer than ${input.gapTimeoutSeconds} s` };
  }
  return { expired: false };
}

/** The versions an expiring gap skips: from after the mark to before the first waiting version. */
export function expiredRange(mark: number, firstWaiting: number): SkippedRange {
  return { from: mark + 1, to: firstWaiting - 1, cause: 'gap-expired' };
}
