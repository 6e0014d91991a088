/**
 * Rule: only a failure that can pass by waiting is not an attempt.
 *
 * Throttling, transaction conflicts, server errors and network failures pass on their own: the
 * record is delivered again and nothing is counted. Everything else (a missing table, a denied
 * action, an invalid or oversized request, a refused condition) repeats on every delivery, so it
 * counts as an attempt and ends parked after `maxAttempts`.
 */

/** DynamoDB error names that pass by waiting. */
const WAITABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Transaction cancellation codes that pass by waiting. */
export const WAITABLE_CANCELLATION_CODES: ReadonlySet<string> = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Network-level error codes (Node.js) that pass by waiting. */
const WAITABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** Whether a DynamoDB failure passes by waiting (retried on redelivery, not counted as an attempt). */
export function isWaitableFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // The consumer's own store errors wrap the SDK's error: judge the cause.
  if ((error as { code?: unknown }).code === 'CONSUMER_STORE_FAILED') {
    return isWaitableFailure((error as { cause?: unknown }).cause);
  }
  const { name, code, $metadata, CancellationReasons } = error as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: { Code?: string }[];
  };
  if (name === 'TransactionCanceledException' && Array.isArray(CancellationReasons)) {
    const refused = CancellationReasons.filter((reason) => reason?.Code && reason.Code !== 'None');
    return refused.length > 0 && refused.every((reason) => WAITABLE_CANCELLATION_CODES.has(reason.Code!));
  }
  if (typeof name === 'string' && WAITABLE_ERRORS.has(name)) return true;
  if (typeof code === 'string' && WAITABLE_NETWORK_CODES.has(code)) return true;
  const status = $metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

/** The cancellation reasons of a TransactWriteItems failure (the checkpoint's revision, where returned). */
export function cancellationReasons(
  error: unknown,
): { code: string; message?: string; revision?: number }[] | undefined {
  if ((error as Error)?.name !== 'TransactionCanceledException') return undefined;
  const reasons = (
    error as {
      CancellationReasons?: { Code?: string; Message?: string; Item?: Record<string, { N?: string }> }[];
    }
  ).CancellationReasons;
  if (!Array.isArray(reasons)) return undefined;
  return reasons.map((reason) => ({
    code: reason.Code ?? 'None',
    ...(reason.Message === undefined ? {} : { message: reason.Message }),
    ...(reason.Item?.revision?.N === undefined ? {} : { revision: Number(reason.Item.revision.N) }),
  }));
}
