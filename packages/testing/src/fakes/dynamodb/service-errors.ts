/**
 * The errors the model throws: the SDK's own exception classes, with `$metadata` and `$fault` as
 * the SDK sets them after one attempt, so callers' classification and retry code runs as it would
 * against DynamoDB.
 */
import {
  type AttributeValue,
  type CancellationReason,
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  IdempotentParameterMismatchException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';

/** The response metadata the SDK attaches to results and errors. */
export type ResponseMetadata = ConditionalCheckFailedException['$metadata'];

/** The errors a throttled call can get. */
export type DynamoDbThrottleErrorName =
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'RequestLimitExceeded';

/** Response metadata of a call answered after one attempt. */
export function responseMetadata(requestId: string, httpStatusCode: number): ResponseMetadata {
  return { httpStatusCode, requestId, attempts: 1, totalRetryDelay: 0 };
}

/** `ValidationException`: the SDK has no class for it; it surfaces as a service exception with this name. */
export function validationException(message: string, requestId: string): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: responseMetadata(requestId, 400),
    message,
  });
}

/** `ResourceNotFoundException` for an unknown table. */
export function resourceNotFound(
  requestId: string,
  message = 'Requested resource not found',
): ResourceNotFoundException {
  return new ResourceNotFoundException({ $metadata: responseMetadata(requestId, 400), message });
}

/** `ResourceInUseException` (CreateTable of an existing table). */
export function resourceInUse(tableName: string, requestId: string): ResourceInUseException {
  return new ResourceInUseException({
    $metadata: responseMetadata(requestId, 400),
    message: `Table already exists: ${tableName}`,
  });
}

/** `ConditionalCheckFailedException`, with the item when the request asked for `ALL_OLD`. */
export function conditionalCheckFailed(
  requestId: string,
  item: Record<string, AttributeValue> | undefined,
): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    $metadata: responseMetadata(requestId, 400),
    message: 'The conditional request failed',
    ...(item === undefined ? {} : { Item: item }),
  });
}

/** `TransactionCanceledException` with one reason per action, in request order. */
export function transactionCanceled(
  reasons: CancellationReason[],
  requestId: string,
): TransactionCanceledException {
  const codes = reasons.map((reason) => reason.Code ?? 'None').join(', ');
  return new TransactionCanceledException({
    $metadata: responseMetadata(requestId, 400),
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
    CancellationReasons: reasons,
  });
}

/** `IdempotentParameterMismatchException`: a ClientRequestToken reused with a different request. */
export function idempotentParameterMismatch(requestId: string): IdempotentParameterMismatchException {
  return new IdempotentParameterMismatchException({
    $metadata: responseMetadata(requestId, 400),
    message: 'Request token was used with a different request within the last 10 minutes',
  });
}

/** A throttling error (HTTP 400, retryable as throttling by the SDK). */
export function throttled(name: DynamoDbThrottleErrorName, requestId: string): DynamoDBServiceException {
  const $metadata = responseMetadata(requestId, 400);
  if (name === 'ThrottlingException')
    return new ThrottlingException({
      $metadata,
      message: 'Rate of requests exceeds the allowed throughput.',
    });
  if (name === 'RequestLimitExceeded') {
    return new RequestLimitExceeded({
      $metadata,
      message: 'Throughput exceeds the current throughput limit for your account.',
    });
  }
  return new ProvisionedThroughputExceededException({
    $metadata,
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  });
}

/** `InternalServerError` (HTTP 500, retryable by the SDK). */
export function internalServerError(requestId: string): InternalServerError {
  return new InternalServerError({
    $metadata: responseMetadata(requestId, 500),
    message: 'Internal server error',
  });
}

/** A client-side time-out: the request may have been carried out, but no answer arrived. */
export function responseTimeout(requestId: string): Error {
  const error = new Error(`Connection timed out after the request was sent (request ${requestId})`);
  error.name = 'TimeoutError';
  return error;
}
