/**
 * The decision core's state machine for one aggregate in one batch, redrive or sweep: given where
 * the aggregate stands (its mark, the late arrivals and candidates still to run, its held index,
 * the clock and the options) and how the last step ended, it names the next step, with no I/O.
 * The I/O layer (`aggregate-run.ts`) carries the step out and asks again until `finish` or `stop`.
 *
 * Order of the rules: late arrivals first (nothing after a skipped version may be applied before
 * it), then the version after the mark; a candidate beyond a gap waits (held) unless the gap has
 * expired, in which case the gap is expired and the loop goes on from the new mark.
 */
import { expiredRange, gapExpiry } from './gap-expiry';
import type { SkippedRange } from './skipped-ranges';

/**
 * How the last step ended: done; held because the event after the mark cannot be read yet (the
 * aggregate waits for a deploy that reads it); or why the aggregate stops for this batch.
 */
export type StepOutcome =
  | 'done'
  | 'stop-handler'
  | 'stop-infra'
  | 'stop-concurrent'
  | 'stop-time'
  | 'held-unreadable';

/** Versions, as a `Set` of them or the keys of a `Map` by version (read, never copied). */
export interface VersionSet {
  has(version: number): boolean;
  readonly size: number;
  keys(): Iterable<number>;
}

/** Where the aggregate stands. */
export interface AggregateView {
  /** The checkpoint's mark (the highest version applied in order). */
  readonly mark: number;
  /** Late arrivals not run yet, in version order. */
  readonly late: readonly number[];
  /** Versions above the mark that can run now (this batch's and the held ones read back). */
  readonly candidates: VersionSet;
  /** The checkpoint's held index. */
  readonly held: VersionSet;
  /** Whether the held records were read (a batch that cannot use them does not read them). */
  readonly heldRead: boolean;
  /** When the oldest held record was set aside (epoch ms; `nowMs` for a gap opened now). */
  readonly gapOpenSinceMs: number;
  readonly nowMs: number;
  readonly gapTimeoutSeconds: number;
  readonly maxHeldPerAggregate: number;
}

/** The next step of an aggregate's run. */
export type NextStep =
  /** Run a skipped version that arrived while nothing after it was applied. */
  | { readonly kind: 'apply-late'; readonly version: number }
  /** Run the version after the mark. */
  | { readonly kind: 'apply'; readonly version: number }
  /** Give up on the missing versions: report them, remember them as skipped, move the mark past them. */
  | { readonly kind: 'expire-gap'; readonly range: SkippedRange; readonly why: string }
  /**
   * Set aside the candidates not held yet (durably), then write the checkpoint: they wait behind a
   * gap, or behind an event that cannot be read yet.
   */
  | { readonly kind: 'hold' }
  /** Nothing left to run: write the checkpoint. */
  | { readonly kind: 'finish' }
  /** The last step failed: stop this aggregate for this batch. */
  | { readonly kind: 'stop'; readonly outcome: StopOutcome };

/** The outcomes that stop an aggregate for this batch. */
export type StopOutcome = Exclude<StepOutcome, 'done' | 'held-unreadable'>;

/** The next step, given where the aggregate stands and how the last step ended. */
export function nextStep(view: AggregateView, last: StepOutcome = 'done'): NextStep {
  if (last === 'held-unreadable') return { kind: 'hold' };
  if (last !== 'done') return { kind: 'stop', outcome: last };
  const [late] = view.late;
  if (late !== undefined) return { kind: 'apply-late', version: late };
  if (view.candidates.has(view.mark + 1)) return { kind: 'apply', version: view.mark + 1 };
  if (view.candidates.size === 0) return { kind: 'finish' };
  // Held records exist but were not read: they may hold the versions missing here.
  if (!view.heldRead && view.held.size > 0) return { kind: 'hold' };
  const expiry = gapExpiry({
    waiting: new Set([...view.candidates.keys(), ...view.held.keys()]).size,
    openSinceMs: view.gapOpenSinceMs,
    nowMs: view.nowMs,
    gapTimeoutSeconds: view.gapTimeoutSeconds,
    maxHeldPerAggregate: view.maxHeldPerAggregate,
  });
  if (!expiry.expired) return { kind: 'hold' };
  return {
    kind: 'expire-gap',
    range: expiredRange(view.mark, Math.min(...view.candidates.keys())),
    why: expiry.why,
  };
}

/** A record of this batch not yet run when the aggregate stopped. */
export interface Unrun {
  readonly version: number;
  /** Its index in the batch. */
  readonly index: number;
}

/**
 * Which of this batch's records are not completed when the aggregate stops (Lambda delivers the
 * batch again from the first of them): the late arrivals not run, and the candidates at or after
 * the version that failed (`failedVersion`; for a stop before any run, the version after the mark).
 * When the failing event was a held one, none of them is: the aggregate's last record is named, so
 * the held event gets its next delivery. A stop on a concurrent change also fails what this run
 * made durable only in memory (`pending`).
 */
export function notCompletedOnStop(input: {
  readonly outcome: StopOutcome;
  readonly failedVersion: number;
  readonly lateLeft: readonly Unrun[];
  readonly candidates: readonly Unrun[];
  readonly batchIndexes: readonly number[];
  readonly pending: readonly number[];
}): number[] {
  const failed = input.lateLeft.map((record) => record.index);
  const later = input.candidates.filter((record) => record.version >= input.failedVersion);
  if (input.lateLeft.length > 0) {
    failed.push(...input.candidates.map((record) => record.index));
  } else if (later.length > 0) {
    failed.push(...later.map((record) => record.index));
  } else if (input.batchIndexes.length > 0) {
    failed.push(Math.max(...input.batchIndexes));
  }
  if (input.outcome === 'stop-concurrent') failed.push(...input.pending);
  return [...new Set(failed)].sort((a, b) => a - b);
}
