/**
 * Rule: only a failure that can pass by waiting is not an attempt.
 *
 * Throttling, transaction conflicts, server errors and network failures pass on their own: the
 * record is delivered again and nothing is counted. Everything else (a missing table, a denied
 * action, an invalid or oversized request, a refused condition) repeats on every delivery, so it
 * counts as an attempt and ends parked after `maxAttempts`. Which AWS error is which is decided
 * once for every package, by `classifyAwsError` of `@tidemark/core/internal`.
 */
import { classifyAwsError, cancellationReasons as reasonsOf } from '@tidemark/core/internal';

/** Whether a DynamoDB failure passes by waiting (retried on redelivery, not counted as an attempt). */
export function isWaitableFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // The consumer's own store errors wrap the SDK's error: judge the cause.
  if ((error as { code?: unknown }).code === 'CONSUMER_STORE_FAILED') {
    return isWaitableFailure((error as { cause?: unknown }).cause);
  }
  return classifyAwsError(error).retryable;
}

/**
 * The cancellation reasons of a TransactWriteItems failure, one per item, with the checkpoint's
 * revision where DynamoDB returned the item; `undefined` for any other failure.
 */
export function cancellationReasons(
  error: unknown,
): { code: string; message?: string; revision?: number }[] | undefined {
  return reasonsOf(error)?.map((reason) => ({
    code: reason.code,
    ...(reason.message === undefined ? {} : { message: reason.message }),
    ...(reason.item?.revision?.N === undefined ? {} : { revision: Number(reason.item.revision.N) }),
  }));
}
