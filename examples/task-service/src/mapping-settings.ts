/**
 * The example's event source mappings: the publisher's and the consumer's required settings (the
 * constants their packages export, never typed again here) plus the example's own choices of batch
 * size and batching window. The CDK stack deploys them through `@tidemark/cdk` and the local run
 * (`npm start`, the integration tests) emulates them with `@tidemark/testing`.
 */
import { CONSUMER_EVENT_SOURCE_SETTINGS } from '@tidemark/consumer';
import { PUBLISHER_EVENT_SOURCE_SETTINGS } from '@tidemark/publisher';

/** Publishers: the event logs' DynamoDB streams → Kinesis. */
export const PUBLISHER_MAPPING = Object.freeze({
  ...PUBLISHER_EVENT_SOURCE_SETTINGS,
  /** Up to 100 stream records per invocation: PutRecords calls are shared across aggregates. */
  batchSize: 100,
  /** No waiting for a fuller batch: an event reaches the stream as soon as it is in the log. */
  maximumBatchingWindowInSeconds: 0,
});

/** Listeners: Kinesis → `createConsumer`. */
export const LISTENER_MAPPING = Object.freeze({
  ...CONSUMER_EVENT_SOURCE_SETTINGS,
  /** Up to 100 records per invocation: one batched checkpoint read covers them all. */
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  /** One batch per shard at a time (any factor keeps each aggregate in order; one is enough here). */
  parallelizationFactor: 1,
});

/** The function timeout of every function, in seconds. */
export const FUNCTION_TIMEOUT_SECONDS = 30;
