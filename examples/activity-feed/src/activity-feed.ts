import {
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  paginateQuery,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createConsumer, type EventHandlers, type TransactionalHandlerContext } from '@tidemark/consumer';
import type { CatalogEvent, DomainEvent, TidemarkMetrics } from '@tidemark/core';
import { type FeedEvents, feedEvents } from './feed-events';

/** The consumer name of the activity feed. */
export const ACTIVITY_FEED_LISTENER = 'activity-feed';

/** One line of the activity feed. */
export interface FeedEntry {
  /** When it happened (the event time, RFC 3339). */
  readonly time: string;
  /** The event id it came from. */
  readonly eventId: string;
  /** The event type. */
  readonly type: string;
  /** What the entry is about: `Task` or `Project`. */
  readonly subjectType: string;
  /** The task or project id. */
  readonly subjectId: string;
  /** The sentence shown to people. */
  readonly text: string;
}

/**
 * The CreateTable request of the feed table: entries under `pk = 'feed'` sorted by time, and the
 * names of tasks and projects (`pk = 'name#<type>#<id>'`) for the sentences.
 *
 * @example
 * ```ts
 * await dynamodb.send(new CreateTableCommand(feedTableDescription('activity-feed')));
 * ```
 */
export function feedTableDescription(tableName: string): CreateTableCommandInput {
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

/** What {@link createActivityFeedListener} needs. */
export interface ActivityFeedOptions {
  /** The DynamoDB client of the feed table and the consumer table. */
  readonly dynamodb: DynamoDBClient;
  /** The feed table ({@link feedTableDescription}). */
  readonly feedTable: string;
  /** The consumer table (`consumerTableDescription` from `@tidemark/consumer`). */
  readonly consumerTable: string;
  /** Called with every event the feed recorded. Default: none. */
  readonly onEvent?: (event: DomainEvent) => void;
  /**
   * Where the consumer's counters go (Powertools `Metrics`, or a function); the deployed function
   * publishes them where `@tidemark/cdk`'s alarms look. Default: none.
   */
  readonly metrics?: TidemarkMetrics;
}

/**
 * The activity feed: one sentence per task or project event, written exactly once (transactional
 * mode: the entry commits with the checkpoint). It depends only on the published packages and the
 * task service's published event definitions.
 *
 * @example
 * ```ts
 * export const handler = createActivityFeedListener({ dynamodb, feedTable, consumerTable });
 * ```
 */
export function createActivityFeedListener(options: ActivityFeedOptions) {
  const { dynamodb, feedTable } = options;

  const nameOf = async (type: string, id: string): Promise<string | undefined> => {
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: feedTable,
        Key: marshall({ pk: `name#${type}#${id}`, sk: 'name' }),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : String(unmarshall(Item).name);
  };

  const record = async (
    event: CatalogEvent<FeedEvents>,
    context: TransactionalHandlerContext,
    text: string,
    rename?: string,
  ): Promise<void> => {
    const entry: FeedEntry = {
      time: event.time,
      eventId: event.eventId,
      type: event.type,
      subjectType: event.aggregate.type,
      subjectId: event.aggregate.id,
      text,
    };
    context.transaction.put({
      TableName: feedTable,
      Item: marshall({ pk: 'feed', sk: `${event.time}#${event.eventId}`, ...entry }),
    });
    if (rename !== undefined) {
      context.transaction.put({
        TableName: feedTable,
        Item: marshall({
          pk: `name#${event.aggregate.type}#${event.aggregate.id}`,
          sk: 'name',
          name: rename,
        }),
      });
    }
    options.onEvent?.(event);
  };

  const handlers: EventHandlers<FeedEvents, true> = {
    TaskCreated: (event, context) =>
      record(
        event,
        context,
        `Task “${event.data.name}” was created${event.data.projectId === undefined ? '' : ` in project ${event.data.projectId}`}`,
        event.data.name,
      ),
    TaskUpdated: async (event, context) => {
      // The feed remembers task names from earlier events: a summary-only change carries none. The
      // name an earlier event of this batch staged is written with the aggregate's transaction at
      // the end of the batch: commit the earlier events first so the read sees it.
      await context.transaction.commitEarlier();
      const known = (await nameOf('Task', event.aggregate.id)) ?? event.aggregate.id;
      const { name, summary } = event.data;
      const summaryChange = summary === undefined ? undefined : summary === null ? 'removed' : 'changed';
      const text =
        name === undefined
          ? `The summary of task “${known}” was ${summaryChange}`
          : `Task “${known}” was renamed to “${name}”${summaryChange === undefined ? '' : ` and its summary ${summaryChange}`}`;
      await record(event, context, text, name);
    },
    TaskCompleted: (event, context) => record(event, context, `Task “${event.data.name}” was completed`),
    TaskReopened: (event, context) => record(event, context, `Task “${event.data.name}” was reopened`),
    TaskDeleted: (event, context) =>
      record(
        event,
        context,
        `Task “${event.data.name}” was deleted${event.data.reason === 'project-deleted' ? ' with its project' : ''}`,
      ),
    ProjectCreated: (event, context) => record(event, context, `Project “${event.data.name}” was created`),
    ProjectDeleted: (event, context) => record(event, context, `Project “${event.data.name}” was deleted`),
  };

  return createConsumer({
    name: ACTIVITY_FEED_LISTENER,
    events: feedEvents,
    handlers,
    transactional: true,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    checkpoints: { tableName: options.consumerTable, dynamodb },
  });
}

/**
 * Reads the feed, oldest first.
 *
 * @example
 * ```ts
 * for (const entry of await readFeed({ dynamodb, feedTable })) console.log(entry.time, entry.text);
 * ```
 */
export async function readFeed(options: {
  /** The DynamoDB client. */
  readonly dynamodb: DynamoDBClient;
  /** The feed table. */
  readonly feedTable: string;
}): Promise<FeedEntry[]> {
  const entries: FeedEntry[] = [];
  const pages = paginateQuery(
    { client: options.dynamodb },
    {
      TableName: options.feedTable,
      KeyConditionExpression: 'pk = :feed',
      ExpressionAttributeValues: marshall({ ':feed': 'feed' }),
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const { pk: _pk, sk: _sk, ...entry } = unmarshall(item);
      entries.push(entry as FeedEntry);
    }
  }
  return entries;
}
