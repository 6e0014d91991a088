/**
 * One classification of the errors the AWS SDK (and the local engines) throw, for every package:
 * what passes by waiting, what a retry cannot fix, and why a transaction was cancelled.
 */

/**
 * What an error means for the caller.
 * - `throttling`: the request was refused for capacity; it did not take effect. Wait and retry.
 * - `transient`: a conflict, a server error, a time-out or a network failure. Wait and retry; for a
 *   server error, time-out or network failure the request may have taken effect.
 * - `conditional`: a `ConditionalCheckFailedException`; the request did not take effect.
 * - `cancelled`: a `TransactionCanceledException`; see its `reasons`.
 * - `not-found`: the table, stream or key does not exist.
 * - `access-denied`: credentials, permissions or the KMS key do not allow the request.
 * - `validation`: the request itself is invalid (too large, malformed).
 * - `other`: anything else (not retried by default).
 */
export type AwsErrorKind =
  | 'throttling'
  | 'transient'
  | 'conditional'
  | 'cancelled'
  | 'not-found'
  | 'access-denied'
  | 'validation'
  | 'other';

/** The item DynamoDB returns with a refused condition (`ReturnValuesOnConditionCheckFailure`). */
export type ReturnedItem = Readonly<
  Record<string, { readonly S?: string; readonly N?: string; readonly [type: string]: unknown }>
>;

/** One entry of a cancelled transaction: the reason for the item at the same index. */
export interface CancellationReason {
  /**
   * DynamoDB's code: `None` (this item was fine), `ConditionalCheckFailed`, `TransactionConflict`,
   * `ThrottlingError`, `ProvisionedThroughputExceeded`, `ItemCollectionSizeLimitExceeded`,
   * `ValidationError`.
   */
  readonly code: string;
  /** DynamoDB's message for this item, when it sent one. */
  readonly message?: string;
  /** The item as it is, when the write asked for it and DynamoDB returned it. */
  readonly item?: ReturnedItem;
}

/** What {@link classifyAwsError} says about an error. */
export interface AwsErrorClassification {
  readonly kind: AwsErrorKind;
  /** The error's name (`error.name`, else its `code`), e.g. `ThrottlingException`. */
  readonly name: string;
  /** Whether waiting and retrying can succeed (throttling, transient, a cancellation only for those). */
  readonly retryable: boolean;
  /** Whether the request may have taken effect although it failed (a server error answered late). */
  readonly outcomeUnknown: boolean;
  /** For `cancelled`: one reason per item of the transaction (empty when none could be read). */
  readonly reasons?: readonly CancellationReason[];
}

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'KMSThrottlingException',
]);

/** Transient refusals: the request did not take effect. */
const REFUSED_TRANSIENT_ERRORS = new Set(['TransactionConflictException']);

/** Transient failures after which the request may have taken effect. */
const UNKNOWN_OUTCOME_ERRORS = new Set([
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const NOT_FOUND_ERRORS = new Set(['ResourceNotFoundException', 'KMSNotFoundException']);

const ACCESS_ERRORS = new Set([
  'AccessDeniedException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSOptInRequired',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
]);

const VALIDATION_ERRORS = new Set([
  'ValidationException',
  'InvalidArgumentException',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
]);

/** Cancellation codes that pass by waiting (the transaction did not take effect). */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** The name of an AWS SDK error (or of any error): `name`, else `code`, else the thrown type. */
export function awsErrorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { name, code } = error as { name?: unknown; code?: unknown };
    if (typeof name === 'string' && name !== 'Error') return name;
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return error === null ? 'null' : typeof error;
}

/**
 * The reasons of a `TransactionCanceledException`, one per item of the transaction, or `undefined`
 * for any other error. DynamoDB sends them as `CancellationReasons`; where an engine only lists them
 * in the message (`... [ConditionalCheckFailed, None]`, as DynamoDB Local does without
 * `ReturnValuesOnConditionCheckFailure`), they are read from there.
 */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (awsErrorName(error) !== 'TransactionCanceledException') return undefined;
  const sent = (error as { CancellationReasons?: unknown }).CancellationReasons;
  if (Array.isArray(sent) && sent.length > 0) {
    return sent.map((entry: { Code?: unknown; Message?: unknown; Item?: unknown } | null | undefined) => ({
      code: typeof entry?.Code === 'string' ? entry.Code : 'None',
      ...(typeof entry?.Message === 'string' ? { message: entry.Message } : {}),
      ...(typeof entry?.Item === 'object' && entry.Item !== null ? { item: entry.Item as ReturnedItem } : {}),
    }));
  }
  const message = (error as { message?: unknown }).message;
  const listed = typeof message === 'string' ? /\[([^\]]*)\]\s*$/.exec(message.trim())?.[1] : undefined;
  if (listed === undefined || listed.trim() === '') return [];
  return listed.split(',').map((code) => ({ code: code.trim() || 'None' }));
}

/**
 * Classifies an error thrown by an AWS SDK v3 client (DynamoDB, DynamoDB Streams, Kinesis, KMS), by
 * its name, its Node.js network code and its HTTP status.
 *
 * @example
 * ```ts
 * const { kind, retryable, reasons } = classifyAwsError(error);
 * if (kind === 'cancelled' && reasons?.[0]?.code === 'ConditionalCheckFailed') return 'lost the race';
 * if (retryable) return 'retry later';
 * throw error;
 * ```
 */
export function classifyAwsError(error: unknown): AwsErrorClassification {
  const name = awsErrorName(error);
  const reasons = cancellationReasons(error);
  if (reasons !== undefined) {
    const refused = reasons.filter((reason) => reason.code !== 'None');
    const retryable =
      refused.length > 0 && refused.every((reason) => TRANSIENT_CANCELLATION_CODES.has(reason.code));
    return { kind: 'cancelled', name, retryable, outcomeUnknown: false, reasons };
  }
  const kind = kindOf(error, name);
  return {
    kind,
    name,
    retryable: kind === 'throttling' || kind === 'transient',
    outcomeUnknown: kind === 'transient' && !REFUSED_TRANSIENT_ERRORS.has(name),
  };
}

function kindOf(error: unknown, name: string): AwsErrorKind {
  if (name === 'ConditionalCheckFailedException') return 'conditional';
  if (THROTTLING_ERRORS.has(name)) return 'throttling';
  if (REFUSED_TRANSIENT_ERRORS.has(name) || UNKNOWN_OUTCOME_ERRORS.has(name)) return 'transient';
  if (NOT_FOUND_ERRORS.has(name)) return 'not-found';
  if (ACCESS_ERRORS.has(name)) return 'access-denied';
  if (VALIDATION_ERRORS.has(name)) return 'validation';
  if (typeof error !== 'object' || error === null) return 'other';
  const { code, $metadata, $retryable } = error as {
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
  };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'transient';
  const status = $metadata?.httpStatusCode;
  if (status === 429) return 'throttling';
  if (typeof status === 'number' && status >= 500) return 'transient';
  if (typeof $retryable === 'object' && $retryable !== null) {
    return $retryable.throttling === true ? 'throttling' : 'transient';
  }
  return 'other';
}
