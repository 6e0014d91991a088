/**
 * The errors the Kinesis model throws: the SDK's own exception classes with `$metadata`, as the
 * SDK surfaces them after one attempt.
 */
import {
  ExpiredIteratorException,
  InternalFailureException,
  InvalidArgumentException,
  type KinesisServiceException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-kinesis';

const metadata = (requestId: string, httpStatusCode: number) => ({
  httpStatusCode,
  requestId,
  attempts: 1,
  totalRetryDelay: 0,
});

/** The internal signal of a refused Kinesis request; the model turns it into the SDK exception. */
export class KinesisModelError extends Error {
  constructor(
    readonly errorName:
      | 'ValidationException'
      | 'InvalidArgumentException'
      | 'ResourceNotFoundException'
      | 'ResourceInUseException'
      | 'ExpiredIteratorException'
      | 'LimitExceededException'
      | 'ProvisionedThroughputExceededException',
    message: string,
  ) {
    super(message);
    this.name = 'KinesisModelError';
  }
}

/** The SDK exception for a model error. */
export function kinesisException(error: KinesisModelError, requestId: string): KinesisServiceException {
  const options = { $metadata: metadata(requestId, 400), message: error.message };
  switch (error.errorName) {
    case 'ValidationException':
      return new ValidationException(options);
    case 'InvalidArgumentException':
      return new InvalidArgumentException(options);
    case 'ResourceNotFoundException':
      return new ResourceNotFoundException(options);
    case 'ResourceInUseException':
      return new ResourceInUseException(options);
    case 'ExpiredIteratorException':
      return new ExpiredIteratorException(options);
    case 'LimitExceededException':
      return new LimitExceededException(options);
    case 'ProvisionedThroughputExceededException':
      return new ProvisionedThroughputExceededException(options);
  }
}

/** A throttled call. */
export function kinesisThrottled(
  name: 'ProvisionedThroughputExceededException' | 'LimitExceededException',
  requestId: string,
): KinesisServiceException {
  return kinesisException(
    new KinesisModelError(name, 'Rate exceeded for stream under account 000000000000.'),
    requestId,
  );
}

/** `InternalFailureException` (HTTP 500). */
export function internalFailure(requestId: string): InternalFailureException {
  return new InternalFailureException({
    $metadata: metadata(requestId, 500),
    message: 'Internal service failure.',
  });
}

/** Response metadata of a successful call. */
export function okMetadata(requestId: string) {
  return metadata(requestId, 200);
}
