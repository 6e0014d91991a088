/**
 * The event source mapping settings, in one place: the CDK stack deploys them and the local run
 * (`npm start`, the integration tests) emulates them with `@tidemark/testing`.
 */

/** Publishers: the event logs' DynamoDB streams → Kinesis. */
export const PUBLISHER_MAPPING = Object.freeze({
  startingPosition: 'TRIM_HORIZON' as const,
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  /** The answer names the first unpublished record; without this Lambda would ignore it. */
  reportBatchItemFailures: true,
  bisectBatchOnFunctionError: true,
  /** Publishing failures are transient (throttling): retry long before giving up on a record. */
  maximumRetryAttempts: 100,
  /** Half the stream's 24 h retention: a record given up on is named in the on-failure queue while `replay` can still be pointed at it. */
  maximumRecordAgeInSeconds: 12 * 3600,
  /** One batch per shard at a time: more would break per-aggregate order. */
  parallelizationFactor: 1,
});

/** Listeners: Kinesis → `createConsumer`. */
export const LISTENER_MAPPING = Object.freeze({
  startingPosition: 'TRIM_HORIZON' as const,
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  reportBatchItemFailures: true,
  bisectBatchOnFunctionError: true,
  /** The consumer parks a failing event itself after its `maxAttempts`; these retries cover infrastructure failures. */
  maximumRetryAttempts: 20,
  /** A day; the stream keeps records seven days, so those named in the on-failure queue can be redriven. */
  maximumRecordAgeInSeconds: 24 * 3600,
  parallelizationFactor: 1,
});

/** The function timeout of every function, in seconds. */
export const FUNCTION_TIMEOUT_SECONDS = 30;
