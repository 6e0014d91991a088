/**
 * Rule: an event gets `maxAttempts` deliveries in which its handler did not complete — it threw,
 * its staged writes were refused for a reason that would repeat, it was still running when the
 * invocation had to answer, or the invocation died under it — then it is parked and its aggregate
 * moves on. Failures that pass by waiting (see `failure-kind.ts`) are not attempts.
 */

/** The attempts counted so far for the event a checkpoint is stuck on. */
export interface AttemptState {
  readonly version: number;
  readonly attempts: number;
}

/** The number of the attempt about to be made on `version`. */
export function attemptFor(failure: AttemptState | undefined, version: number): number {
  return failure?.version === version ? failure.attempts + 1 : 1;
}

/**
 * Whether `version` has used up its attempts already (deliveries that did not complete were
 * counted without a handler outcome): park it without running its handler again.
 */
export function attemptsExhausted(
  failure: AttemptState | undefined,
  version: number,
  maxAttempts: number,
): boolean {
  return failure?.version === version && failure.attempts >= maxAttempts;
}

/** Whether a failed attempt is the last one. */
export function isLastAttempt(attempt: number, maxAttempts: number): boolean {
  return attempt >= maxAttempts;
}
