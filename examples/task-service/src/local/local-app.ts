import { consumerTableDescription } from '@tidemark/consumer';
import type { DomainEvent, TidemarkLogger } from '@tidemark/core';
import { createPublisher } from '@tidemark/publisher';
import { createDynamoDbStreamEventSource, createKinesisEventSource, type LocalAws } from '@tidemark/testing';
// The demo composes the downstream team's listener too, as the whole landscape would run. The feed
// depends only on the published event definitions (@tidemark-examples/task-events), not on this package.
import {
  createActivityFeedListener,
  type FeedEntry,
  feedTableDescription,
  readFeed,
} from '@tidemark-examples/activity-feed';
import { openProjectEventLog, openTaskEventLog, projectLog, taskLog } from '../event-logs';
import { startNodeServer } from '../http/node-server';
import { createRoutes } from '../http/routes';
import { createProjectsListener } from '../listeners/projects-listener';
import { createReadModelListener } from '../listeners/read-model-listener';
import { FUNCTION_TIMEOUT_SECONDS, LISTENER_MAPPING, PUBLISHER_MAPPING } from '../mapping-settings';
import { createProjectCommands } from '../project-commands';
import { createProjectsTable, projectsTableDescription } from '../project-directory';
import { createTaskReadModel, readModelTableDescription, type TaskReadModel } from '../read-model';
import type { Task } from '../task';
import { createTaskCommands } from '../task-commands';

/** The names of the listeners the local app runs. */
export type ListenerName = 'read-model' | 'projects' | 'activity-feed';

/** The task service, its project service and the listeners, running on a local AWS. */
export interface LocalApp {
  /** The API's base URL, e.g. `http://127.0.0.1:51234`. */
  readonly url: string;
  /** The tables and stream it created. */
  readonly resources: Readonly<Record<string, string>>;
  /** The events each listener handled, in the order it handled them (each event once). */
  readonly seen: Readonly<Record<ListenerName, readonly DomainEvent[]>>;
  /** The tasks the projects listener deleted because their project was deleted. */
  readonly cascadeDeletions: readonly { readonly taskId: string; readonly projectId: string }[];
  /** The task read model. */
  readonly readModel: TaskReadModel;
  /** Records that went to an on-failure destination (should stay empty). */
  onFailureCount(): number;
  /** Lambda invocations so far, by function. */
  invocations(): Readonly<Record<string, number>>;
  /** Waits until the publishers and the listeners have nothing left to do. */
  settle(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Every task in the read model. */
  tasks(): Promise<Task[]>;
  /** The activity feed, oldest first. */
  feed(): Promise<FeedEntry[]>;
  /** Stops the server and the event sources (not the local AWS, which the caller owns). */
  stop(): Promise<void>;
}

/** Options of {@link startLocalApp}. */
export interface LocalAppOptions {
  /** The local AWS to create the resources in. */
  readonly aws: LocalAws;
  /** The HTTP port; `0` picks a free one. Default: `0`. */
  readonly port?: number;
  /** Shards of the Kinesis stream. Default: `2`. */
  readonly shardCount?: number;
  /** Called when a listener handles an event for the first time. Default: none. */
  readonly onSeen?: (listener: ListenerName, event: DomainEvent) => void;
}

/** The publishers log warnings and errors only (their per-batch info lines would drown the demo). */
const quietLogger: TidemarkLogger = {
  debug: () => {},
  info: () => {},
  warn: (message, attributes?) => console.warn(message, attributes),
  error: (message, attributes?) => console.error(message, attributes),
};

/**
 * Creates the resources on a local AWS and runs everything the CDK stack deploys: the HTTP API
 * (Node server, same route code as the Lambda), the two publishers through DynamoDB Streams
 * event-source emulation, and the three listeners through Kinesis event-source emulation, with the
 * event source mapping settings of the stack.
 *
 * @example
 * ```ts
 * await using aws = await startLocalAws({ mode: 'auto' });
 * const app = await startLocalApp({ aws });
 * await fetch(`${app.url}/tasks`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ name: 'Try it' }),
 * });
 * await app.settle();
 * await app.stop();
 * ```
 */
export async function startLocalApp(options: LocalAppOptions): Promise<LocalApp> {
  const { aws } = options;
  const dynamodb = aws.dynamodb;

  const [taskLogTable, projectLogTable, stream, readModelTable, projectsTable, consumerTable, feedTable] =
    await Promise.all([
      aws.createEventLogTable({ prefix: 'task-events' }),
      aws.createEventLogTable({ prefix: 'project-events' }),
      aws.createKinesisStream({ prefix: 'domain-events', shardCount: options.shardCount ?? 2 }),
      aws.createTable(withoutName(readModelTableDescription('tasks'))),
      aws.createTable(withoutName(projectsTableDescription('projects'))),
      aws.createTable(withoutName(consumerTableDescription('listener-state'))),
      aws.createTable(withoutName(feedTableDescription('activity-feed'))),
    ]);

  const readModel = createTaskReadModel({ dynamodb, tableName: readModelTable.tableName });
  const projects = createProjectsTable({ dynamodb, tableName: projectsTable.tableName });
  const tasks = createTaskCommands({
    log: taskLog(openTaskEventLog({ tableName: taskLogTable.tableName, dynamodb })),
    projects,
  });
  const projectCommands = createProjectCommands({
    log: projectLog(openProjectEventLog({ tableName: projectLogTable.tableName, dynamodb })),
  });

  const seen: Record<ListenerName, DomainEvent[]> = { 'read-model': [], projects: [], 'activity-feed': [] };
  const seenIds: Record<ListenerName, Set<string>> = {
    'read-model': new Set(),
    projects: new Set(),
    'activity-feed': new Set(),
  };
  const observe = (listener: ListenerName) => (event: DomainEvent) => {
    if (seenIds[listener].has(event.eventId)) return;
    seenIds[listener].add(event.eventId);
    seen[listener].push(event);
    options.onSeen?.(listener, event);
  };
  const cascadeDeletions: { taskId: string; projectId: string }[] = [];

  const publisherSource = (name: string, streamArn: string) =>
    createDynamoDbStreamEventSource({
      dynamodbStreams: aws.dynamodbStreams,
      streamArn,
      functionName: name,
      functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
      ...emulated(PUBLISHER_MAPPING),
      handler: createPublisher({
        kinesis: aws.kinesis,
        dynamodb: aws.dynamodb,
        streamName: stream.streamName,
        logger: quietLogger,
      }),
    });
  const listenerSource = (name: string, handler: Parameters<typeof createKinesisEventSource>[0]['handler']) =>
    createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName: stream.streamName,
      functionName: name,
      functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
      ...emulated(LISTENER_MAPPING),
      handler,
    });

  const publishers = [
    publisherSource('task-publisher', taskLogTable.streamArn),
    publisherSource('project-publisher', projectLogTable.streamArn),
  ];
  const listeners = [
    listenerSource(
      'read-model-listener',
      createReadModelListener({
        dynamodb,
        readModelTable: readModelTable.tableName,
        readModel,
        consumerTable: consumerTable.tableName,
        onEvent: observe('read-model'),
      }),
    ),
    listenerSource(
      'projects-listener',
      createProjectsListener({
        dynamodb,
        projects,
        tasks,
        consumerTable: consumerTable.tableName,
        onEvent: observe('projects'),
        onTaskDeleted: (taskId, projectId) => cascadeDeletions.push({ taskId, projectId }),
      }),
    ),
    listenerSource(
      'activity-feed',
      createActivityFeedListener({
        dynamodb,
        feedTable: feedTable.tableName,
        consumerTable: consumerTable.tableName,
        onEvent: observe('activity-feed'),
      }),
    ),
  ];
  const sources = [...publishers, ...listeners];

  const started: typeof sources = [];
  let server: Awaited<ReturnType<typeof startNodeServer>> | undefined;
  try {
    for (const source of sources) {
      await source.start();
      started.push(source);
    }
    server = await startNodeServer(createRoutes({ tasks, reader: readModel, projects: projectCommands }), {
      port: options.port ?? 0,
    });
  } catch (error) {
    await Promise.allSettled(started.map((source) => source.stop()));
    throw error;
  }
  const runningServer = server;

  const invocationCount = () => sources.reduce((sum, source) => sum + source.invocations.length, 0);

  return {
    url: runningServer.url,
    resources: {
      taskLogTable: taskLogTable.tableName,
      projectLogTable: projectLogTable.tableName,
      stream: stream.streamName,
      readModelTable: readModelTable.tableName,
      projectsTable: projectsTable.tableName,
      consumerTable: consumerTable.tableName,
      feedTable: feedTable.tableName,
    },
    seen,
    cascadeDeletions,
    readModel,
    onFailureCount: () => sources.reduce((sum, source) => sum + source.onFailure.length, 0),
    invocations: () =>
      Object.fromEntries(
        [
          'task-publisher',
          'project-publisher',
          'read-model-listener',
          'projects-listener',
          'activity-feed',
        ].map((name, index) => [name, sources[index]!.invocations.length]),
      ),
    async settle({ timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const remaining = () => Math.max(1_000, deadline - Date.now());
      // A listener can append (the projects listener deletes tasks), which the publisher then
      // publishes: drain in rounds until a round invokes nothing.
      for (;;) {
        const before = invocationCount();
        for (const source of publishers) await source.drain({ timeoutMs: remaining() });
        for (const source of listeners) await source.drain({ timeoutMs: remaining() });
        if (invocationCount() === before) return;
        if (Date.now() > deadline) throw new Error(`The listeners did not settle within ${timeoutMs} ms`);
      }
    },
    tasks: () => readModel.list(),
    feed: () => readFeed({ dynamodb, feedTable: feedTable.tableName }),
    async stop() {
      await runningServer.close();
      const results = await Promise.allSettled(sources.map((source) => source.stop()));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  };
}

/** The mapping settings the emulation takes: all but the parallelization factor (it runs one batch per shard, i.e. 1). */
function emulated<T extends { parallelizationFactor: number }>(
  settings: T,
): Omit<T, 'parallelizationFactor'> {
  const { parallelizationFactor: _alwaysOne, ...rest } = settings;
  return rest;
}

function withoutName<T extends { TableName?: string | undefined }>(description: T): Omit<T, 'TableName'> {
  const { TableName: _name, ...rest } = description;
  return rest;
}
