import {
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { TaskReader } from './http/routes';
import type { Task } from './task';

/**
 * The CreateTable request of the task read model: one item per task, keyed by `id`.
 *
 * @example
 * ```ts
 * await dynamodb.send(new CreateTableCommand(readModelTableDescription('tasks')));
 * ```
 */
export function readModelTableDescription(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The task read model: the table `GET /tasks/:id` reads, kept by the read-model listener. */
export interface TaskReadModel extends TaskReader {
  /**
   * Stores a task unless the table already holds that version or a newer one (so a late or
   * repeated write never moves a task back). Returns whether it wrote.
   */
  put(task: Task): Promise<boolean>;
  /** Every task in the table (for the demo's final print; a scan). */
  list(): Promise<Task[]>;
}

/**
 * Opens the task read model on a DynamoDB table.
 *
 * @example
 * ```ts
 * const readModel = createTaskReadModel({ dynamodb, tableName: 'tasks' });
 * const task = await readModel.get(taskId);
 * ```
 */
export function createTaskReadModel(options: {
  /** The DynamoDB client. */
  readonly dynamodb: DynamoDBClient;
  /** The read-model table. */
  readonly tableName: string;
}): TaskReadModel {
  const { dynamodb, tableName } = options;
  return {
    async get(taskId) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: marshall({ id: taskId }), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : (unmarshall(Item) as Task);
    },
    async put(task) {
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(task, { removeUndefinedValues: true }),
            ConditionExpression: 'attribute_not_exists(id) OR version < :version',
            ExpressionAttributeValues: marshall({ ':version': task.version }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    async list() {
      const tasks: Task[] = [];
      for await (const page of paginateScan({ client: dynamodb }, { TableName: tableName })) {
        for (const item of page.Items ?? []) tasks.push(unmarshall(item) as Task);
      }
      return tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
  };
}
