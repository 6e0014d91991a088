import { PUBLISHER_EVENT_SOURCE_SETTINGS, TIDEMARK_METRICS } from '@tidemark/core';
import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EventLogTable,
  EventPublisher,
  type EventPublisherProps,
  EventStream,
  InvalidConstructPropsError,
} from '../../src/index';
import { actionsIn, actionsOn, newFunction, newStack, statementsOf } from '../helpers/stack';

describe('EventPublisher', () => {
  let stack: Stack;
  let template: Template;
  let fn: LambdaFunction;
  let publisher: EventPublisher;
  let log: EventLogTable;
  let events: EventStream;

  beforeAll(() => {
    stack = newStack();
    log = new EventLogTable(stack, 'TaskLog');
    new EventLogTable(stack, 'OtherLog');
    events = new EventStream(stack, 'Events');
    fn = newFunction(stack, 'PublisherFn');
    publisher = new EventPublisher(stack, 'Publisher', {
      handler: fn,
      eventLog: log,
      eventStream: events,
      alarmActions: [new SnsAction(new Topic(stack, 'Pager'))],
    });
    template = Template.fromStack(stack);
  }, 60_000);

  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);

  it('maps the log’s stream to the function with the publisher’s required settings, written out', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    const settings = PUBLISHER_EVENT_SOURCE_SETTINGS;
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(log.table), 'StreamArn'] },
      FunctionName: { Ref: logicalId(fn) },
      StartingPosition: settings.startingPosition,
      FunctionResponseTypes: settings.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      BisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
      MaximumRetryAttempts: settings.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
      ParallelizationFactor: settings.parallelizationFactor,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^PublisherOnFailure/), 'Arn'] } },
      },
    });
  });

  it('grants reading the log’s stream, Query on the log (to complete split commands), PutRecords on the stream and sending to the queue — nothing else', () => {
    const statements = statementsOf(template, stack, fn);
    expect(actionsOn(statements, logicalId(events.stream))).toEqual(['kinesis:PutRecords']);
    expect(actionsIn(statements).filter((action) => action.startsWith('kinesis:'))).toEqual([
      'kinesis:PutRecords',
    ]);
    const dynamo = actionsIn(statements).filter((action) => action.startsWith('dynamodb:'));
    expect(dynamo).toEqual(
      [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'dynamodb:Query',
      ].sort(),
    );
    const json = JSON.stringify(statements);
    expect(json).not.toMatch(/OtherLog/);
    expect(json).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|GetItem|Scan|TransactWriteItems)|:\*"/);
    // ListStreams cannot be scoped to a resource; it is the only action on "*".
    expect(
      statements.filter((statement) => statement.Resource === '*').map((statement) => statement.Action),
    ).toEqual(['dynamodb:ListStreams']);
    expect(actionsIn(statements)).toContain('sqs:SendMessage');
  });

  it('creates the mapping after the role’s policy, so Lambda finds the permissions it checks', () => {
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0]!;
    expect(mapping.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^PublisherFnServiceRoleDefaultPolicy/)]),
    );
  });

  it('tells the function where its counters go', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [TIDEMARK_METRICS.environment.namespace]: TIDEMARK_METRICS.namespace,
          [TIDEMARK_METRICS.environment.service]: publisher.metrics.service,
        },
      },
    });
  });

  it('alarms on iterator age, errors, history rewrites, unpublishable records and the on-failure queue', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(5);
    const byMetric = new Map(
      alarms.map((alarm) => [alarm.Properties.MetricName as string, alarm.Properties]),
    );
    expect(byMetric.get('IteratorAge')).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Threshold: Duration.minutes(5).toMilliseconds(),
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
    });
    expect(byMetric.get('Errors')).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1 });
    for (const name of [
      TIDEMARK_METRICS.publisher.historyRewrites,
      TIDEMARK_METRICS.publisher.unpublishableRecords,
    ]) {
      expect(byMetric.get(name)).toMatchObject({
        Namespace: TIDEMARK_METRICS.namespace,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: TIDEMARK_METRICS.serviceDimension, Value: publisher.metrics.service }],
      });
    }
    expect(byMetric.get('ApproximateNumberOfMessagesVisible')).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 1,
    });
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook/);
    }
  });

  it('uses a given on-failure queue, batch size and window', () => {
    const other = newStack();
    const queue = new Queue(other, 'Mine');
    new EventPublisher(other, 'Publisher', {
      handler: newFunction(other, 'Fn'),
      eventLog: new EventLogTable(other, 'Log'),
      eventStream: new EventStream(other, 'Events'),
      onFailure: queue,
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(1),
    });
    const t = Template.fromStack(other);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Mine'), 'Arn'] } },
      },
    });
  });

  it.each([
    ['a batch size of 0', { batchSize: 0 }],
    ['a batching window over 300 s', { maxBatchingWindow: Duration.seconds(301) }],
    ['a misspelt property', { batchsize: 10 }],
    ['no event log', { eventLog: undefined }],
  ])('refuses %s', (_what, override) => {
    const other = newStack();
    const props: EventPublisherProps = {
      handler: newFunction(other, 'Fn'),
      eventLog: new EventLogTable(other, 'Log'),
      eventStream: new EventStream(other, 'Events'),
    };
    expect(() => new EventPublisher(other, 'Publisher', { ...props, ...override } as never)).toThrow(
      InvalidConstructPropsError,
    );
  });
});
