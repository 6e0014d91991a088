/** The activity feed's Lambda handler (Kinesis event source on the task and project events stream). */

import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { createActivityFeedListener } from './activity-feed';
import { MissingSettingError } from './errors';

const required = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new MissingSettingError(name);
  return value;
};

// Namespace and service from the environment @tidemark/cdk sets, where its alarms look.
const metrics = new Metrics();

export const handler = middy(
  createActivityFeedListener({
    dynamodb: new DynamoDBClient({}),
    feedTable: required('FEED_TABLE'),
    consumerTable: required('CONSUMER_TABLE'),
    metrics,
  }),
).use(logMetrics(metrics));
