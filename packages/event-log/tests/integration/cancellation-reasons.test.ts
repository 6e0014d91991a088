/**
 * What DynamoDB Local answers when a transaction is cancelled, read through the one classification
 * every package uses, and the event log's reaction to it.
 */
import { PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { newCommandId } from '@tidemark/core';
import { cancellationReasons, classifyAwsError } from '@tidemark/core/internal';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { ConcurrencyError, createEventLog } from '../../src/index';
import { catalog } from '../helpers/fakes';

async function cancelledTransaction(
  aws: { dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient },
  tableName: string,
  returnItem: boolean,
): Promise<unknown> {
  const pk = `probe-${newCommandId()}`;
  await aws.dynamodb.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: pk }, sk: { N: '1' }, revision: { N: '7' } },
    }),
  );
  return aws.dynamodb
    .send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName,
              Item: { pk: { S: pk }, sk: { N: '2' } },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: tableName,
              Item: { pk: { S: pk }, sk: { N: '1' }, revision: { N: '8' } },
              ConditionExpression: 'revision = :expected',
              ExpressionAttributeValues: { ':expected': { N: '6' } },
              ...(returnItem ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
            },
          },
        ],
      }),
    )
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

describe('transaction cancellation reasons on DynamoDB Local', () => {
  test('one reason per item, in order, with the item when asked for', async ({ aws, eventLogTable }) => {
    const error = await cancelledTransaction(aws, eventLogTable.tableName, true);
    const classification = classifyAwsError(error);
    expect(classification).toMatchObject({ kind: 'cancelled', retryable: false, outcomeUnknown: false });
    expect(classification.reasons!.map((reason) => reason.code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(classification.reasons![1]!.item?.revision?.N).toBe('7');
  });

  test('the same reasons from the message alone, as engines that send no CancellationReasons answer', async ({
    aws,
    eventLogTable,
  }) => {
    const error = (await cancelledTransaction(aws, eventLogTable.tableName, false)) as Error & {
      CancellationReasons?: unknown;
    };
    const fromBody = cancellationReasons(error)!.map((reason) => reason.code);
    const messageOnly = Object.assign(Object.create(Object.getPrototypeOf(error)) as Error, {
      name: error.name,
      message: error.message,
    });
    expect(fromBody).toEqual(['None', 'ConditionalCheckFailed']);
    expect(cancellationReasons(messageOnly)!.map((reason) => reason.code)).toEqual(fromBody);
    expect(classifyAwsError(messageOnly)).toMatchObject({ kind: 'cancelled', retryable: false });
  });

  test('append reads a race lost inside the transaction as a ConcurrencyError', async ({
    aws,
    eventLogTable,
  }) => {
    const options = { tableName: eventLogTable.tableName, catalog, source: '/it' };
    const rival = createEventLog({ ...options, dynamodb: aws.dynamodb });
    const aggregate = { type: 'Task', id: `race-${newCommandId()}` };
    await rival.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    // The rival commits version 2 between this writer's read of the head and its transaction.
    let raced = false;
    const dynamodb = {
      config: aws.dynamodb.config,
      send: async (command: unknown, ...rest: unknown[]) => {
        if (command instanceof TransactWriteItemsCommand && !raced) {
          raced = true;
          await rival.append({
            aggregate,
            commandId: newCommandId(),
            expectedVersion: 1,
            events: [{ type: 'TaskCreated', data: { name: 'b' } }],
          });
        }
        return (aws.dynamodb.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
      },
    };
    const log = createEventLog({ ...options, dynamodb: dynamodb as never });
    const lost = await log
      .append({
        aggregate,
        commandId: newCommandId(),
        expectedVersion: 1,
        events: [{ type: 'TaskCreated', data: { name: 'c' } }],
      })
      .catch((error: unknown) => error);
    expect(raced).toBe(true);
    expect(lost).toBeInstanceOf(ConcurrencyError);
    expect((lost as ConcurrencyError).context).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(classifyAwsError((lost as ConcurrencyError).cause).kind).toBe('cancelled');
  });
});
