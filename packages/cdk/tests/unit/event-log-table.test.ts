import { ConfigurationError, EVENT_LOG_KEY, eventLogTableDescription } from '@tidemark/core';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { EventLogTable, InvalidConstructPropsError } from '../../src/index';
import { actionsIn, actionsOn, newFunction, newStack, statementsOf } from '../helpers/stack';

describe('EventLogTable', () => {
  it('creates the log with the key schema createEventLog writes, a NEW_IMAGE stream, on-demand billing, PITR and encryption', () => {
    const stack = newStack();
    new EventLogTable(stack, 'Log');
    const template = Template.fromStack(stack);
    const description = eventLogTableDescription('any');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: description.KeySchema,
      AttributeDefinitions: description.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(description.KeySchema[0]?.AttributeName).toBe(EVENT_LOG_KEY.partitionKey);
  });

  it('retains the table when it leaves the stack, unless told otherwise', () => {
    const stack = newStack();
    new EventLogTable(stack, 'Log');
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('grants appenders exactly Query, GetItem, PutItem and ConditionCheckItem on the log, never UpdateItem or DeleteItem', () => {
    const stack = newStack();
    const log = new EventLogTable(stack, 'Log');
    const other = new EventLogTable(stack, 'Other');
    const fn = newFunction(stack, 'Writer');
    log.grantAppend(fn);
    const statements = statementsOf(Template.fromStack(stack), stack, fn);
    expect(actionsIn(statements)).toEqual(
      ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'].sort(),
    );
    expect(actionsOn(statements, stack.getLogicalId(log.table.node.defaultChild as never))).toHaveLength(4);
    expect(actionsOn(statements, stack.getLogicalId(other.table.node.defaultChild as never))).toEqual([]);
    expect(JSON.stringify(statements)).not.toMatch(/UpdateItem|DeleteItem|BatchWriteItem|Scan|dynamodb:\*/);
  });

  it('grants readers only Query and GetItem', () => {
    const stack = newStack();
    const log = new EventLogTable(stack, 'Log');
    const fn = newFunction(stack, 'Reader');
    log.grantRead(fn);
    expect(actionsIn(statementsOf(Template.fromStack(stack), stack, fn))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });

  it('adds the use of a customer managed key to the append grant', () => {
    const stack = newStack();
    const log = new EventLogTable(stack, 'Log', { encryptionKey: new Key(stack, 'Key') });
    const fn = newFunction(stack, 'Writer');
    log.grantAppend(fn);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
    const actions = actionsIn(statementsOf(template, stack, fn));
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt']));
    expect(actions.filter((action) => action.startsWith('dynamodb:'))).not.toContain('dynamodb:UpdateItem');
  });

  it('refuses unknown and invalid properties with every problem listed', () => {
    const stack = newStack();
    expect(() => new EventLogTable(stack, 'Typo', { tablename: 'x' } as never)).toThrow(
      InvalidConstructPropsError,
    );
    try {
      new EventLogTable(stack, 'Bad', { tableName: 'x', removalPolicy: 'gone' } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConstructPropsError);
      const issues = (error as InvalidConstructPropsError).issues.map((issue) => issue.path).sort();
      expect(issues).toEqual(['removalPolicy', 'tableName']);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', factory: 'EventLogTable' });
      expect(['removalPolicy', 'tableName']).toContain((error as InvalidConstructPropsError).option);
    }
  });
});
