/**
 * Which refusals of a transaction are transient (worth retrying the same command), and whether the
 * transaction may have committed despite the error — from core's one AWS error classification.
 */
import type { AwsErrorClassification } from '@tidemark/core/internal';

/** A transient refusal, retried by `append`. */
export class TransientAppendFailure extends Error {
  constructor(
    readonly reasons: string[],
    readonly original: unknown,
    /** The transaction may have committed (a server error, not a cancellation or throttling). */
    readonly outcomeUnknown: boolean,
  ) {
    super(`transient refusal: ${reasons.join(', ')}`);
    this.name = 'TransientAppendFailure';
  }
}

/**
 * The {@link TransientAppendFailure} for a TransactWriteItems error classified by
 * `classifyAwsError`, or `undefined` when the error is not transient. Its `reasons` are the
 * cancellation reasons that refused the transaction, or the error's name.
 */
export function transientFailure(
  error: unknown,
  failure: AwsErrorClassification,
): TransientAppendFailure | undefined {
  if (!failure.retryable) return undefined;
  const reasons = failure.reasons
    ? failure.reasons.map((reason) => reason.code).filter((code) => code !== 'None')
    : [failure.name];
  return new TransientAppendFailure(reasons, error, failure.outcomeUnknown);
}
