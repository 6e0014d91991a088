/**
 * The time budget of one invocation: when the last retry may start, and when calls still in flight
 * are aborted, so the handler always answers before Lambda times it out.
 */

/** The two moments of an invocation's budget (epoch ms). */
export interface TimeBudget {
  /** No new wave or retry starts after this. */
  readonly deadline: number;
  /** Calls and reads still in flight are aborted at this time. */
  readonly abortAt: number;
}

/**
 * The budget of an invocation that started at `started` with `remaining` ms left, keeping
 * `safetyMarginMs` free (capped at a quarter of `remaining`, at least 100 ms).
 *
 * @example
 * ```ts
 * timeBudget(Date.now(), context.getRemainingTimeInMillis(), 5000);
 * ```
 */
export function timeBudget(started: number, remaining: number, safetyMarginMs: number): TimeBudget {
  // A short timeout (Lambda's default is 3 s) would leave no time at all: cap the margin at a quarter.
  const margin = Math.min(safetyMarginMs, Math.max(100, Math.floor(remaining / 4)));
  const deadline = started + remaining - margin;
  // Calls still in flight are aborted before the end, so the answer always gets out (middy also
  // answers with a TimeoutError 5 ms before the end, which makes Lambda retry the whole batch).
  const abortAt = started + remaining - Math.max(50, Math.min(1000, Math.ceil(margin / 2)));
  return { deadline, abortAt };
}
