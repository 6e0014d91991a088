import { App } from 'aws-cdk-lib';
import { TaskServiceStack } from './task-service-stack';

const app = new App();
new TaskServiceStack(app, 'TidemarkTaskService', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
