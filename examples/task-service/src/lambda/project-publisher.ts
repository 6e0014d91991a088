/** The project log's publisher Lambda (DynamoDB stream event source → Kinesis). */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { createPublisher } from '@tidemark/publisher';
import { setting } from '../settings';

// Namespace and service from the environment @tidemark/cdk sets, where its alarms (history rewrites,
// unpublishable records) look for the publisher's counters.
const metrics = new Metrics();

export const handler = createPublisher({
  streamName: setting('STREAM_NAME'),
  metrics,
}).use(logMetrics(metrics));
