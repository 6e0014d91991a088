import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountPrincipal, ArnPrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVENT_STREAM_RETENTION,
  EventStream,
  InvalidConstructPropsError,
  STREAM_READ_ACTIONS,
} from '../../src/index';
import { actionsIn, LISTENER_ACCOUNT, newFunction, newStack, statementsOf } from '../helpers/stack';

describe('EventStream', () => {
  it('is on-demand, encrypted and keeps records seven days by default, and is retained', () => {
    const stack = newStack();
    new EventStream(stack, 'Events');
    const template = Template.fromStack(stack);
    expect(DEFAULT_EVENT_STREAM_RETENTION.toDays()).toBe(7);
    template.hasResource('AWS::Kinesis::Stream', {
      DeletionPolicy: 'Retain',
      Properties: {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        RetentionPeriodHours: DEFAULT_EVENT_STREAM_RETENTION.toHours(),
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      },
    });
    template.resourceCountIs('AWS::Kinesis::ResourcePolicy', 0);
  });

  it('is provisioned with a fixed shard count when given one', () => {
    const stack = newStack();
    new EventStream(stack, 'Events', { shardCount: 4, retentionPeriod: Duration.days(30) });
    Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 4,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 720,
    });
  });

  it.each([
    ['a retention under 24 hours', { retentionPeriod: Duration.hours(23) }],
    ['a retention over 365 days', { retentionPeriod: Duration.days(366) }],
    ['zero shards', { shardCount: 0 }],
    ['a misspelt property', { retention: Duration.days(7) }],
  ])('refuses %s', (_what, props) => {
    expect(() => new EventStream(newStack(), 'Events', props as never)).toThrow(InvalidConstructPropsError);
  });

  it('grants a reader the standard-iterator reads only: no writes, no fan-out', () => {
    const stack = newStack();
    const events = new EventStream(stack, 'Events');
    const fn = newFunction(stack, 'Reader');
    events.grantRead(fn);
    const actions = actionsIn(statementsOf(Template.fromStack(stack), stack, fn));
    expect(actions).toEqual([...STREAM_READ_ACTIONS].sort());
    expect(actions).not.toContain('kinesis:SubscribeToShard');
    expect(actions).not.toContain('kinesis:PutRecords');
  });

  it('grants a publisher PutRecords only', () => {
    const stack = newStack();
    const events = new EventStream(stack, 'Events');
    const fn = newFunction(stack, 'Publisher');
    events.grantPublish(fn);
    expect(actionsIn(statementsOf(Template.fromStack(stack), stack, fn))).toEqual(['kinesis:PutRecords']);
  });

  it('lets another account read through the stream’s resource policy, and nothing more', () => {
    const stack = newStack();
    const events = new EventStream(stack, 'Events', {
      crossAccountReaders: [new AccountPrincipal(LISTENER_ACCOUNT)],
    });
    events.grantCrossAccountRead(new ArnPrincipal(`arn:aws:iam::${LISTENER_ACCOUNT}:role/feed-listener`));
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::Kinesis::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    const policy = policies[0]!.Properties;
    expect(policy.ResourceArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EventsStream/), 'Arn'] });
    const statements = policy.ResourcePolicy.Statement as {
      Action: string[];
      Principal: { AWS: unknown };
      Resource: unknown;
    }[];
    expect(statements).toHaveLength(2);
    for (const statement of statements) {
      expect([...statement.Action].sort()).toEqual([...STREAM_READ_ACTIONS].sort());
      expect(statement.Resource).toEqual(policy.ResourceArn);
    }
    expect(JSON.stringify(statements.map((statement) => statement.Principal))).toContain(
      `:iam::${LISTENER_ACCOUNT}:root`,
    );
    expect(JSON.stringify(statements.map((statement) => statement.Principal))).toContain(
      `arn:aws:iam::${LISTENER_ACCOUNT}:role/feed-listener`,
    );
    expect(JSON.stringify(policy)).not.toMatch(/PutRecord|SubscribeToShard|kinesis:\*/);
  });

  it('lets a cross-account reader decrypt with the stream’s customer managed key', () => {
    const stack = newStack();
    new EventStream(stack, 'Events', {
      encryptionKey: new Key(stack, 'Key'),
      crossAccountReaders: [new AccountPrincipal(LISTENER_ACCOUNT)],
    });
    const template = Template.fromStack(stack);
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0]!;
    const grants = (
      key.Properties.KeyPolicy.Statement as { Action: string | string[]; Principal: unknown }[]
    ).filter((statement) => JSON.stringify(statement.Principal).includes(LISTENER_ACCOUNT));
    expect(grants.flatMap((statement) => [statement.Action].flat())).toEqual(['kms:Decrypt']);
  });
});
