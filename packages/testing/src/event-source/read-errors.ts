/**
 * How the event-source engine treats an AWS error while reading a stream: retried (throttling,
 * server errors, network), re-positioned (an expired iterator, trimmed data), or fatal.
 *
 * @internal
 */

/** How an AWS error is handled while reading. */
export type ReadErrorKind = 'transient' | 'expired-iterator' | 'trimmed' | 'fatal';

const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'KMSThrottlingException',
  'InternalFailure',
  'InternalServerError',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
]);

/** Decides whether a read error is retried, re-positions the iterator, or stops the source. */
export function classifyReadError(error: unknown): ReadErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const { name, message, code, $fault, $retryable } = error as {
    name?: string;
    message?: string;
    code?: unknown;
    $fault?: string;
    $retryable?: unknown;
  };
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  // DynamoDB Local answers an iterator it no longer knows with ResourceNotFound.
  if (name === 'ResourceNotFoundException' && /iterator/i.test(message ?? '')) return 'expired-iterator';
  if (name === 'TrimmedDataAccessException') return 'trimmed';
  if (name !== undefined && TRANSIENT_ERRORS.has(name)) return 'transient';
  if ($fault === 'server' || $retryable) return 'transient';
  if (typeof code === 'string' && /^E[A-Z]{3,}/.test(code)) return 'transient';
  return 'fatal';
}

/** A one-line description of an error, for `pending` reports. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
