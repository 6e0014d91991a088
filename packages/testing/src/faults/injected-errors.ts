/**
 * The answers the edge sends for a call it fails: the HTTP status, error type and JSON body each
 * service sends, so the SDK parses them as the real thing.
 *
 * @internal
 */
import type { DynamoDbFaultError, KinesisThrottleError } from './fault-settings';

/** The AWS services the edge routes. */
export type EdgeService = 'kinesis' | 'dynamodb' | 'dynamodbStreams';

/** The edge's answer for a rejected call: HTTP status, and the error type and JSON body the SDK parses. */
export interface InjectedError {
  /** The HTTP status (400, or 500 for `InternalServerError`). */
  readonly status: number;
  /** The error type, as in `x-amzn-ErrorType`. */
  readonly type: string;
  /** The JSON body, with `__type` and `message`. */
  readonly body: string;
  /** `application/x-amz-json-1.1` (Kinesis) or `application/x-amz-json-1.0` (DynamoDB). */
  readonly contentType: string;
}

/** The error body of a Kinesis call (awsJson1_1), as Kinesis sends it. */
export function kinesisError(type: KinesisThrottleError, operation: string): InjectedError {
  const message =
    type === 'LimitExceededException'
      ? `Rate exceeded for ${operation} (injected by the Tidemark edge)`
      : `Rate exceeded for shard (injected by the Tidemark edge into ${operation})`;
  return {
    status: 400,
    type,
    contentType: 'application/x-amz-json-1.1',
    body: JSON.stringify({ __type: type, message }),
  };
}

/** The error body of a DynamoDB call (awsJson1_0), as DynamoDB sends it. */
export function dynamoDbError(type: DynamoDbFaultError, operation: string): InjectedError {
  const namespace =
    type === 'ThrottlingException' ? 'com.amazon.coral.availability' : 'com.amazonaws.dynamodb.v20120810';
  const messages: Record<DynamoDbFaultError, string> = {
    ProvisionedThroughputExceededException:
      'The level of configured provisioned throughput for the table was exceeded.',
    ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
    RequestLimitExceeded: 'Throughput exceeds the current throughput limit for your account.',
    InternalServerError: 'Internal server error',
  };
  return {
    status: type === 'InternalServerError' ? 500 : 400,
    type,
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify({
      __type: `${namespace}#${type}`,
      message: `${messages[type]} (injected by the Tidemark edge into ${operation})`,
    }),
  };
}
