import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClientOptions } from '@tidemark/core';
import { createEventLog, type EventLog } from '@tidemark/event-log';
import {
  PROJECT_AGGREGATE_TYPE,
  PROJECT_SERVICE_SOURCE,
  projectEvents,
  TASK_AGGREGATE_TYPE,
  TASK_SERVICE_SOURCE,
  taskEvents,
} from '@tidemark-examples/task-events';
import type { ProjectLog } from './project-commands';
import type { TaskLog } from './task-commands';

/** The task service's event log (`@tidemark/event-log`). */
export type TaskEventLog = EventLog<typeof taskEvents>;
/** The project service's event log (`@tidemark/event-log`). */
export type ProjectEventLog = EventLog<typeof projectEvents>;

/**
 * Opens the task event log.
 *
 * @example
 * ```ts
 * const log = openTaskEventLog({ tableName: 'task-events', dynamodb });
 * ```
 */
export function openTaskEventLog(options: {
  /** The event-log table. */
  readonly tableName: string;
  /** A DynamoDB client or client config. Default: the SDK's default configuration. */
  readonly dynamodb?: DynamoDBClient | AwsClientOptions;
}): TaskEventLog {
  return createEventLog({
    tableName: options.tableName,
    ...(options.dynamodb === undefined ? {} : { dynamodb: options.dynamodb }),
    catalog: taskEvents,
    source: TASK_SERVICE_SOURCE,
  });
}

/**
 * Opens the project event log.
 *
 * @example
 * ```ts
 * const log = openProjectEventLog({ tableName: 'project-events', dynamodb });
 * ```
 */
export function openProjectEventLog(options: {
  /** The event-log table. */
  readonly tableName: string;
  /** A DynamoDB client or client config. Default: the SDK's default configuration. */
  readonly dynamodb?: DynamoDBClient | AwsClientOptions;
}): ProjectEventLog {
  return createEventLog({
    tableName: options.tableName,
    ...(options.dynamodb === undefined ? {} : { dynamodb: options.dynamodb }),
    catalog: projectEvents,
    source: PROJECT_SERVICE_SOURCE,
  });
}

/**
 * The task log as the task commands use it: aggregates of type `Task`, keyed by task id.
 *
 * @example
 * ```ts
 * const commands = createTaskCommands({ log: taskLog(openTaskEventLog({ tableName })), projects });
 * ```
 */
export function taskLog(log: TaskEventLog): TaskLog {
  return {
    read: (id) => log.readAll({ type: TASK_AGGREGATE_TYPE, id }),
    append: async ({ aggregateId, expectedVersion, commandId, events, metadata }) => {
      await log.append({
        aggregate: { type: TASK_AGGREGATE_TYPE, id: aggregateId },
        expectedVersion,
        commandId,
        events,
        ...(metadata === undefined ? {} : { metadata }),
      });
    },
  };
}

/**
 * The project log as the project commands use it.
 *
 * @example
 * ```ts
 * const commands = createProjectCommands({ log: projectLog(openProjectEventLog({ tableName })) });
 * ```
 */
export function projectLog(log: ProjectEventLog): ProjectLog {
  return {
    read: (id) => log.readAll({ type: PROJECT_AGGREGATE_TYPE, id }),
    append: async ({ aggregateId, expectedVersion, commandId, events, metadata }) => {
      await log.append({
        aggregate: { type: PROJECT_AGGREGATE_TYPE, id: aggregateId },
        expectedVersion,
        commandId,
        events,
        ...(metadata === undefined ? {} : { metadata }),
      });
    },
  };
}
