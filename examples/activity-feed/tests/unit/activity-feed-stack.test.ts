import { fileURLToPath } from 'node:url';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActivityFeedStack } from '../../src/infra/activity-feed-stack';

const streamArn = 'arn:aws:kinesis:eu-west-1:111122223333:stream/domain-events';

describe('ActivityFeedStack', () => {
  let template: Template;

  beforeAll(() => {
    const stack = new ActivityFeedStack(new App(), 'Test', {
      eventStreamArn: streamArn,
      lambdaCode: {
        kind: 'asset',
        path: fileURLToPath(new URL('../fixtures/prebuilt-lambda', import.meta.url)),
      },
      tableRemovalPolicy: RemovalPolicy.DESTROY,
    });
    template = Template.fromStack(stack);
  }, 60_000);

  it('maps the task service stream to the listener with ReportBatchItemFailures and an on-failure queue', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 20,
      MaximumRecordAgeInSeconds: 24 * 3600,
      ParallelizationFactor: 1,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ListenerFailures/), 'Arn'] } },
      },
    });
  });

  it('lets the listener read only that stream, and write only its own two tables', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap(
      (policy) =>
        policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator']));
    expect(actions).not.toContain('kinesis:PutRecords');
    const kinesis = statements.filter((statement) =>
      [statement.Action].flat().includes('kinesis:GetRecords'),
    );
    expect(kinesis.map((statement) => statement.Resource)).toEqual([streamArn]);
    const writes = statements.filter((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect(JSON.stringify(writes.map((statement) => statement.Resource))).toMatch(/Feed.*ListenerState/);
    expect(actions.filter((action) => action === 'dynamodb:Scan' || action === 'dynamodb:*')).toEqual([]);
  });
});
