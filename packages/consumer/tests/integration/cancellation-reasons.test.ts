/**
 * A handler's transaction cancelled by DynamoDB Local, read through the one AWS error
 * classification: the refused staged write is named in the dead letter, whether the engine sends
 * `CancellationReasons` or (as some emulators do) lists the reasons only in its message.
 */
import { PutItemCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  buildEnvelopes,
  fakeLambdaContext,
  kinesisEventFromEnvelopes,
  type LocalAws,
} from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { createConsumer } from '../../src/index';
import { consumerTable, counterEvents } from '../helpers/integration-fixture';

/** The local client, or one whose cancelled transactions carry their reasons in the message only. */
function client(aws: LocalAws, messageOnly: boolean) {
  if (!messageOnly) return aws.dynamodb;
  return {
    config: aws.dynamodb.config,
    send: async (...args: unknown[]) => {
      try {
        return await (aws.dynamodb.send as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          throw new TransactionCanceledException({ message: error.message, $metadata: error.$metadata });
        }
        throw error;
      }
    },
  } as unknown as typeof aws.dynamodb;
}

describe('transaction cancellation reasons in the consumer, on DynamoDB Local', () => {
  test.for([
    ['CancellationReasons', false],
    ['the message only', true],
  ] as const)(
    'a refused staged write counts as an attempt and is parked with its reason (%s)',
    async ([, messageOnly], { aws }) => {
      const checkpoints = await consumerTable(aws);
      const effects = await consumerTable(aws);
      // The effect of version 1 already exists: the handler's conditional Put is refused every time.
      await aws.dynamodb.send(
        new PutItemCommand({ TableName: effects, Item: marshall({ pk: 'c1', sk: '1' }) }),
      );
      const consumer = createConsumer({
        name: 'cancelled',
        events: counterEvents,
        transactional: true,
        handlers: {
          CounterIncremented: (event, context) => {
            context.transaction.put({
              TableName: effects,
              Item: marshall({ pk: event.aggregate.id, sk: String(event.version) }),
              ConditionExpression: 'attribute_not_exists(pk)',
            });
          },
        },
        checkpoints: { tableName: checkpoints, dynamodb: client(aws, messageOnly) },
        maxAttempts: 2,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const event = kinesisEventFromEnvelopes(
        buildEnvelopes(1, {
          type: 'CounterIncremented',
          aggregate: { type: 'Counter', id: 'c1' },
          data: { by: 1 },
        }),
      );

      // Attempt 1 fails and is reported; attempt 2 fails and parks the event (maxAttempts: 2).
      const first = await consumer(event, fakeLambdaContext());
      expect(first.batchItemFailures).toHaveLength(1);
      const second = await consumer(event, fakeLambdaContext());
      expect(second.batchItemFailures).toEqual([]);

      const [letter, ...others] = (await consumer.deadLetters.list()).items;
      expect(others).toEqual([]);
      expect(letter).toMatchObject({
        reason: 'handler-failed',
        attempts: 2,
        error: { name: 'EventHandlerError', code: 'HANDLER_FAILED' },
      });
      // The handler error wraps the cancellation, named by the write DynamoDB refused (the
      // checkpoint, the transaction's last write, was fine).
      expect(letter!.message).toContain(
        "StagedWriteRejectedError (TRANSACTION_REJECTED): DynamoDB cancelled the handler's transaction: write 0: ConditionalCheckFailed",
      );
      expect(letter!.message).not.toContain('write 1');
    },
  );
});
