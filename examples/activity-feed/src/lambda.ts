/** The activity feed's Lambda handler (Kinesis event source on the task and project events stream). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createActivityFeedListener } from './activity-feed';
import { MissingSettingError } from './errors';

const required = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new MissingSettingError(name);
  return value;
};

export const handler = createActivityFeedListener({
  dynamodb: new DynamoDBClient({}),
  feedTable: required('FEED_TABLE'),
  consumerTable: required('CONSUMER_TABLE'),
});
