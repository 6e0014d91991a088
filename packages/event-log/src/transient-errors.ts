/**
 * Which refusals of a transaction are transient (worth retrying the same command), and whether the
 * transaction may have committed despite the error.
 */
import { errorName } from './options';

const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
const TRANSIENT_ERRORS = new Set([
  'TransactionInProgressException',
  'TransactionConflictException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** Whole-call errors after which the transaction may have committed (a server error answered late). */
const OUTCOME_UNKNOWN_ERRORS = new Set(['InternalServerError', 'ServiceUnavailable']);

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
 * The {@link TransientAppendFailure} for a TransactWriteItems error, or `undefined` when the error
 * is not transient. `reasons` are the error's cancellation reasons (from
 * {@link cancellationReasons}), `undefined` when it is not a cancellation.
 */
export function transientFailure(
  error: unknown,
  reasons: string[] | undefined,
): TransientAppendFailure | undefined {
  const name = errorName(error);
  const transient = reasons
    ? reasons.filter((reason) => TRANSIENT_REASONS.has(reason))
    : TRANSIENT_ERRORS.has(name)
      ? [name]
      : [];
  if (transient.length === 0) return undefined;
  return new TransientAppendFailure(
    transient,
    error,
    reasons === undefined && OUTCOME_UNKNOWN_ERRORS.has(name),
  );
}

/** The cancellation reason codes of a TransactionCanceledException, or `undefined` for other errors. */
export function cancellationReasons(error: unknown): string[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((reason) => reason.Code ?? 'None');
  // Some emulators only list the reasons in the message: "... reasons [ConditionalCheckFailed, None]".
  const message = (error as { message?: unknown }).message;
  const listed = typeof message === 'string' ? /\[([^\]]*)\]/.exec(message)?.[1] : undefined;
  return listed ? listed.split(',').map((reason) => reason.trim()) : [];
}
