import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createConsumer, type EventHandlers } from '@tidemark/consumer';
import type { DomainEvent, TidemarkMetrics } from '@tidemark/core';
import { type TaskEvents, taskEvents } from '@tidemark-examples/task-events';
import type { TaskReadModel } from '../read-model';
import { applyTaskEvent, type TaskEvent } from '../task';

/** The consumer name of the read-model listener (the namespace of its checkpoints). */
export const READ_MODEL_LISTENER = 'task-read-model';

/** What {@link createReadModelListener} needs. */
export interface ReadModelListenerOptions {
  /** The DynamoDB client of the read model and the consumer table. */
  readonly dynamodb: DynamoDBClient;
  /** The read-model table. */
  readonly readModelTable: string;
  /** The read model, opened on that table. */
  readonly readModel: TaskReadModel;
  /** The consumer table (checkpoints, held records, dead letters). */
  readonly consumerTable: string;
  /** Called with every event the listener applied. Default: none. */
  readonly onEvent?: (event: DomainEvent) => void;
  /**
   * Where the consumer's counters go (Powertools `Metrics`, or a function); the deployed function
   * publishes them where `@tidemark/cdk`'s alarms look. Default: none.
   */
  readonly metrics?: TidemarkMetrics;
}

/**
 * The task read model listener: applies each task event to the task's row, in version order,
 * exactly once (transactional mode: the row and the checkpoint commit in one transaction). It
 * requires version 1 first, since a row can only be built from TaskCreated on.
 *
 * @example
 * ```ts
 * export const handler = createReadModelListener({ dynamodb, readModelTable, readModel, consumerTable });
 * ```
 */
export function createReadModelListener(options: ReadModelListenerOptions) {
  const { dynamodb, readModelTable, readModel } = options;
  const apply = async (
    event: TaskEvent,
    transaction: { put(put: object): void; commitEarlier(): Promise<void> },
  ) => {
    // It reads the row the task's earlier events in this batch wrote: commit them first.
    await transaction.commitEarlier();
    const current = await readModel.get(event.aggregate.id);
    const next = applyTaskEvent(current, event);
    transaction.put({
      TableName: readModelTable,
      Item: marshall(next, { removeUndefinedValues: true }),
      ...(current === undefined
        ? { ConditionExpression: 'attribute_not_exists(id)' }
        : {
            ConditionExpression: 'version = :previous',
            ExpressionAttributeValues: marshall({ ':previous': current.version }),
          }),
    });
    options.onEvent?.(event);
  };
  const handlers: EventHandlers<TaskEvents, true> = {
    TaskCreated: (event, context) => apply(event, context.transaction),
    TaskUpdated: (event, context) => apply(event, context.transaction),
    TaskCompleted: (event, context) => apply(event, context.transaction),
    TaskReopened: (event, context) => apply(event, context.transaction),
    TaskDeleted: (event, context) => apply(event, context.transaction),
  };
  return createConsumer({
    name: READ_MODEL_LISTENER,
    events: taskEvents,
    handlers,
    transactional: true,
    firstContact: 'require-first',
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    checkpoints: { tableName: options.consumerTable, dynamodb },
  });
}
