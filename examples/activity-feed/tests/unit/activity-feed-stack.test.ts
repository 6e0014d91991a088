import { fileURLToPath } from 'node:url';
import { CONSUMER_TABLE_ACTIONS, STREAM_READ_ACTIONS, UnsupportedTopologyError } from '@tidemark/cdk';
import { CONSUMER_EVENT_SOURCE_SETTINGS } from '@tidemark/consumer';
import { TIDEMARK_METRICS } from '@tidemark/core';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActivityFeedStack, type ActivityFeedStackProps } from '../../src/infra/activity-feed-stack';

/** The task service's stream, in the producer's account. */
const streamArn = 'arn:aws:kinesis:eu-west-1:111122223333:stream/domain-events';

type Statement = { Action: string | string[]; Resource: unknown };

const synth = (props: Partial<ActivityFeedStackProps> = {}) =>
  Template.fromStack(
    new ActivityFeedStack(new App(), 'Test', {
      eventStreamArn: streamArn,
      // The feed team's own account.
      env: { account: '444455556666', region: 'eu-west-1' },
      lambdaCode: {
        kind: 'asset',
        path: fileURLToPath(new URL('../fixtures/prebuilt-lambda', import.meta.url)),
      },
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      ...props,
    }),
  );

describe('ActivityFeedStack', () => {
  let template: Template;
  let statements: Statement[];

  beforeAll(() => {
    template = synth();
    statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
  }, 120_000);

  const actionsOn = (resource: RegExp | string) =>
    statements
      .filter((statement) =>
        typeof resource === 'string'
          ? statement.Resource === resource
          : resource.test(JSON.stringify(statement.Resource)),
      )
      .flatMap((statement) => [statement.Action].flat())
      .sort();

  it('maps the task service’s stream in the other account to the listener with the consumer’s required settings', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    const settings = CONSUMER_EVENT_SOURCE_SETTINGS;
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: streamArn,
      StartingPosition: settings.startingPosition,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
      MaximumRetryAttempts: settings.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^WiringOnFailure/), 'Arn'] } },
      },
    });
  });

  it('lets the listener read only that stream, never write to it, and write only its own two tables', () => {
    expect(actionsOn(streamArn)).toEqual([...STREAM_READ_ACTIONS].sort());
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => action.startsWith('kinesis:'))).toEqual([...STREAM_READ_ACTIONS]);
    expect(actionsOn(/WiringCheckpoints/)).toEqual([...CONSUMER_TABLE_ACTIONS].sort());
    expect(actionsOn(/Feed/)).toEqual(
      [
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(actions.filter((action) => action === 'dynamodb:Scan' || action.endsWith(':*'))).toEqual([]);
  });

  it('alarms on the listener’s iterator age, parked records and expired gaps', () => {
    const metrics = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.MetricName,
    );
    expect(metrics).toEqual(
      expect.arrayContaining([
        'IteratorAge',
        TIDEMARK_METRICS.consumer.recordsParked,
        TIDEMARK_METRICS.consumer.gapsExpired,
      ]),
    );
  });

  it('refuses enhanced fan-out on the other account’s stream', () => {
    expect(() => synth({ enhancedFanOut: true })).toThrow(UnsupportedTopologyError);
  });
});
