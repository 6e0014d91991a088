import {
  CONSUMER_EVENT_SOURCE_SETTINGS,
  CONSUMER_TABLE_TTL_ATTRIBUTE,
  consumerTableDescription,
} from '@tidemark/consumer';
import { TIDEMARK_METRICS } from '@tidemark/core';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  CONSUMER_TABLE_ACTIONS,
  EventConsumer,
  EventLogTable,
  EventPublisher,
  EventStream,
  InvalidConstructPropsError,
  STREAM_READ_ACTIONS,
  TRANSACTIONAL_WRITE_ACTIONS,
  UnsupportedTopologyError,
} from '../../src/index';
import {
  actionsIn,
  actionsOn,
  LISTENER_ACCOUNT,
  newFunction,
  newStack,
  PRODUCER_ACCOUNT,
  statementsOf,
} from '../helpers/stack';

const FOREIGN_STREAM = `arn:aws:kinesis:eu-west-1:${PRODUCER_ACCOUNT}:stream/task-events`;
const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

/** The producer's whole side and one listener, in one account. */
function landscape() {
  const stack = newStack();
  const log = new EventLogTable(stack, 'TaskLog');
  const events = new EventStream(stack, 'Events');
  new EventPublisher(stack, 'Publisher', {
    handler: newFunction(stack, 'PublisherFn'),
    eventLog: log,
    eventStream: events,
  });
  const feed = new Table(stack, 'Feed', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const fn = newFunction(stack, 'ListenerFn');
  const listener = new EventConsumer(stack, 'Listener', {
    handler: fn,
    eventStream: events,
    transactionalTables: [feed],
  });
  return { stack, log, events, feed, fn, listener, template: Template.fromStack(stack) };
}

describe('EventConsumer', () => {
  it('maps the stream to the function with the consumer’s required settings, written out', () => {
    const { stack, events, fn, template } = landscape();
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find(
      (resource) =>
        JSON.stringify(resource.Properties.FunctionName) === JSON.stringify({ Ref: id(stack, fn) }),
    );
    const settings = CONSUMER_EVENT_SOURCE_SETTINGS;
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [id(stack, events.stream), 'Arn'] },
      StartingPosition: settings.startingPosition,
      FunctionResponseTypes: settings.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      BisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
      MaximumRetryAttempts: settings.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
      ParallelizationFactor: 1,
      BatchSize: 100,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ListenerOnFailure/), 'Arn'] } },
      },
    });
  });

  it('creates a checkpoint table with the key schema of consumerTableDescription and TTL on the in-flight markers, retained', () => {
    const { stack, listener, template } = landscape();
    const table = template.toJSON().Resources[id(stack, listener.checkpointTable as Table)];
    const description = consumerTableDescription('any');
    expect(table.Properties.KeySchema).toEqual(description.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(description.AttributeDefinitions);
    expect(table.Properties.BillingMode).toBe(description.BillingMode);
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: CONSUMER_TABLE_TTL_ATTRIBUTE,
      Enabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('grants exactly the consumer’s operations on its table, the stream’s reads and the staging on transactional tables', () => {
    const { stack, events, feed, fn, listener, template } = landscape();
    const statements = statementsOf(template, stack, fn);
    expect(actionsOn(statements, id(stack, listener.checkpointTable as Table))).toEqual(
      [...CONSUMER_TABLE_ACTIONS].sort(),
    );
    expect(actionsOn(statements, id(stack, events.stream))).toEqual([...STREAM_READ_ACTIONS].sort());
    expect(actionsOn(statements, id(stack, feed))).toEqual([...TRANSACTIONAL_WRITE_ACTIONS].sort());
    // CONSUMER_TABLE_ACTIONS is what createConsumer sends (consumer-grants-coverage.test.ts runs it).
    // UpdateItem on the checkpoint table (the in-flight marker) and where handlers stage updates only.
    expect(
      statements.filter((statement) => actionsIn([statement]).includes('dynamodb:UpdateItem')),
    ).toHaveLength(2);
    expect(actionsIn(statements).filter((action) => /^dynamodb:.*(Scan|Table|Stream)/.test(action))).toEqual(
      [],
    );
  });

  it('lets a listener neither write to the producer’s log nor put records on its stream, nor use fan-out it does not use', () => {
    const { stack, log, fn, template } = landscape();
    const statements = statementsOf(template, stack, fn);
    expect(actionsOn(statements, id(stack, log.table))).toEqual([]);
    const actions = actionsIn(statements);
    expect(actions).not.toContain('kinesis:PutRecords');
    expect(actions).not.toContain('kinesis:PutRecord');
    expect(actions).not.toContain('kinesis:SubscribeToShard');
    expect(actions).not.toContain('kinesis:DescribeStreamConsumer');
    expect(actions.filter((action) => action.endsWith(':*'))).toEqual([]);
    expect(statements.filter((statement) => statement.Resource === '*')).toEqual([]);
  });

  it('shares a given checkpoint table instead of creating one', () => {
    const stack = newStack();
    const events = new EventStream(stack, 'Events');
    const shared = new Table(stack, 'Shared', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
    });
    const a = newFunction(stack, 'A');
    const b = newFunction(stack, 'B');
    new EventConsumer(stack, 'ListenerA', { handler: a, eventStream: events, checkpointTable: shared });
    new EventConsumer(stack, 'ListenerB', { handler: b, eventStream: events, checkpointTable: shared });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    for (const fn of [a, b]) {
      expect(actionsOn(statementsOf(template, stack, fn), id(stack, shared))).toEqual(
        [...CONSUMER_TABLE_ACTIONS].sort(),
      );
    }
  });

  it('reads a stream of another account by its ARN with the same actions, scoped to that ARN', () => {
    const stack = newStack(LISTENER_ACCOUNT);
    const fn = newFunction(stack, 'ListenerFn');
    new EventConsumer(stack, 'Listener', { handler: fn, eventStream: FOREIGN_STREAM });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: FOREIGN_STREAM,
      MaximumRetryAttempts: CONSUMER_EVENT_SOURCE_SETTINGS.maximumRetryAttempts,
    });
    const statements = statementsOf(template, stack, fn);
    const onStream = statements.filter((statement) => statement.Resource === FOREIGN_STREAM);
    expect(actionsIn(onStream)).toEqual([...STREAM_READ_ACTIONS].sort());
    expect(actionsIn(statements).filter((action) => action.startsWith('kinesis:'))).toEqual(
      [...STREAM_READ_ACTIONS].sort(),
    );
  });

  it('grants the consumer’s operations on a separate dead-letter table, and decryption with the stream’s key', () => {
    const stack = newStack(LISTENER_ACCOUNT);
    const deadLetters = new Table(stack, 'DeadLetters', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
    });
    const key = Key.fromKeyArn(
      stack,
      'StreamKey',
      `arn:aws:kms:eu-west-1:${PRODUCER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    );
    const fn = newFunction(stack, 'ListenerFn');
    new EventConsumer(stack, 'Listener', {
      handler: fn,
      eventStream: FOREIGN_STREAM,
      deadLetterTable: deadLetters,
      streamEncryptionKey: key,
    });
    const statements = statementsOf(Template.fromStack(stack), stack, fn);
    expect(actionsOn(statements, id(stack, deadLetters))).toEqual([...CONSUMER_TABLE_ACTIONS].sort());
    expect(actionsOn(statements, ':key/1234abcd')).toEqual(['kms:Decrypt']);
  });

  it('reads through a registered stream consumer with enhanced fan-out, granting fan-out on that consumer only', () => {
    const stack = newStack();
    const events = new EventStream(stack, 'Events');
    const fn = newFunction(stack, 'ListenerFn');
    const listener = new EventConsumer(stack, 'Listener', {
      handler: fn,
      eventStream: events,
      enhancedFanOut: true,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 1);
    const consumerId = id(stack, listener.fanOutConsumer!);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [consumerId, 'ConsumerARN'] },
    });
    const statements = statementsOf(template, stack, fn);
    expect(actionsOn(statements, consumerId)).toEqual([
      'kinesis:DescribeStreamConsumer',
      'kinesis:SubscribeToShard',
    ]);
    expect(actionsOn(statements, id(stack, events.stream))).toEqual([...STREAM_READ_ACTIONS].sort());
  });

  it('refuses enhanced fan-out on another account’s stream with a typed error', () => {
    const stack = newStack(LISTENER_ACCOUNT);
    expect(
      () =>
        new EventConsumer(stack, 'Listener', {
          handler: newFunction(stack, 'Fn'),
          eventStream: FOREIGN_STREAM,
          enhancedFanOut: true,
        }),
    ).toThrow(UnsupportedTopologyError);
  });

  it('alarms on iterator age, parked records, expired gaps, unreadable events and the on-failure queue, where the function’s counters go', () => {
    const { stack, fn, listener } = landscape();
    const template = Template.fromStack(stack);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm.Properties.AlarmDescription).includes('Tidemark listener'),
    );
    const byMetric = new Map(
      alarms.map((alarm) => [alarm.Properties.MetricName as string, alarm.Properties]),
    );
    expect([...byMetric.keys()].sort()).toEqual(
      [
        'ApproximateNumberOfMessagesVisible',
        'IteratorAge',
        TIDEMARK_METRICS.consumer.gapsExpired,
        TIDEMARK_METRICS.consumer.recordsParked,
        TIDEMARK_METRICS.consumer.eventsUnreadable,
      ].sort(),
    );
    expect(byMetric.get('IteratorAge')?.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: id(stack, fn) } },
    ]);
    for (const name of [
      TIDEMARK_METRICS.consumer.recordsParked,
      TIDEMARK_METRICS.consumer.gapsExpired,
      TIDEMARK_METRICS.consumer.eventsUnreadable,
    ]) {
      expect(byMetric.get(name)).toMatchObject({
        Namespace: TIDEMARK_METRICS.namespace,
        Threshold: 1,
        Dimensions: [{ Name: TIDEMARK_METRICS.serviceDimension, Value: listener.metrics.service }],
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [TIDEMARK_METRICS.environment.service]: listener.metrics.service } },
    });
  });

  it.each([
    ['a parallelization factor of 11', { parallelizationFactor: 11 }],
    ['an ARN that is not a Kinesis stream', { eventStream: 'arn:aws:sqs:eu-west-1:1:queue' }],
    ['a misspelt property', { enhancedFanout: true }],
    ['a transactional table that is not a table', { transactionalTables: ['feed'] }],
  ])('refuses %s', (_what, override) => {
    const stack = newStack();
    const fn: LambdaFunction = newFunction(stack, 'Fn');
    expect(
      () =>
        new EventConsumer(stack, 'Listener', {
          handler: fn,
          eventStream: FOREIGN_STREAM,
          ...override,
        } as never),
    ).toThrow(InvalidConstructPropsError);
  });
});
