import { App } from 'aws-cdk-lib';
import { ActivityFeedStack } from './activity-feed-stack';

const app = new App();
const eventStreamArn =
  app.node.tryGetContext('eventStreamArn') ??
  'arn:aws:kinesis:us-east-1:123456789012:stream/replace-with-the-task-service-stream';
new ActivityFeedStack(app, 'TidemarkActivityFeed', {
  eventStreamArn,
  enhancedFanOut: app.node.tryGetContext('enhancedFanOut') === 'true',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
