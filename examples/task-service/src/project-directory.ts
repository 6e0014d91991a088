import {
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ProjectDirectory, ProjectStatus } from './ports';

/**
 * The CreateTable request of the projects table the projects listener keeps: per project, one
 * item with its status (`sk = 'project'`) and one item per task it holds (`sk = 'task#<id>'`).
 *
 * @example
 * ```ts
 * await dynamodb.send(new CreateTableCommand(projectsTableDescription('task-service-projects')));
 * ```
 */
export function projectsTableDescription(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** A project as the task service knows it. */
export interface KnownProject {
  readonly projectId: string;
  readonly name: string;
  readonly status: Exclude<ProjectStatus, 'unknown'>;
}

/** The projects the task service knows, and the tasks each holds. */
export interface ProjectsTable extends ProjectDirectory {
  /** Records a project as active (ProjectCreated). Never revives a deleted project. */
  created(projectId: string, name: string): Promise<void>;
  /** Records a project as deleted (ProjectDeleted). */
  deleted(projectId: string): Promise<void>;
  /** Records that a task belongs to a project (TaskCreated with a project). */
  addTask(projectId: string, taskId: string): Promise<void>;
  /** The ids of the tasks recorded for a project. */
  tasksOf(projectId: string): Promise<string[]>;
  /** The known project, or `undefined`. */
  get(projectId: string): Promise<KnownProject | undefined>;
}

const projectKey = (projectId: string) => `project#${projectId}`;

/**
 * Opens the projects table.
 *
 * @example
 * ```ts
 * const projects = createProjectsTable({ dynamodb, tableName });
 * await projects.status('01J…'); // 'active' | 'deleted' | 'unknown'
 * ```
 */
export function createProjectsTable(options: {
  /** The DynamoDB client. */
  readonly dynamodb: DynamoDBClient;
  /** The projects table. */
  readonly tableName: string;
}): ProjectsTable {
  const { dynamodb, tableName } = options;
  const get = async (projectId: string): Promise<KnownProject | undefined> => {
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall({ pk: projectKey(projectId), sk: 'project' }),
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const item = unmarshall(Item);
    return { projectId, name: String(item.name), status: item.status === 'deleted' ? 'deleted' : 'active' };
  };
  return {
    get,
    async status(projectId) {
      return (await get(projectId))?.status ?? 'unknown';
    },
    async created(projectId, name) {
      // A redelivered ProjectCreated must not revive a project deleted since: only set when absent.
      await dynamodb
        .send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({ pk: projectKey(projectId), sk: 'project', name, status: 'active' }),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch((error: unknown) => {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        });
    },
    async deleted(projectId) {
      const known = await get(projectId);
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({
            pk: projectKey(projectId),
            sk: 'project',
            name: known?.name ?? '',
            status: 'deleted',
          }),
        }),
      );
    },
    async addTask(projectId, taskId) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({ pk: projectKey(projectId), sk: `task#${taskId}`, taskId }),
        }),
      );
    },
    async tasksOf(projectId) {
      const ids: string[] = [];
      const pages = paginateQuery(
        { client: dynamodb },
        {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)',
          ExpressionAttributeValues: marshall({ ':pk': projectKey(projectId), ':task': 'task#' }),
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) ids.push(String(unmarshall(item).taskId));
      }
      return ids;
    },
  };
}
