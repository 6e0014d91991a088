import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createConsumer } from '@tidemark/consumer';
import { type DomainEvent, defineCatalog, type TidemarkMetrics } from '@tidemark/core';
import { ConcurrencyError } from '@tidemark/event-log';
import { ProjectCreated, ProjectDeleted, TaskCreated } from '@tidemark-examples/task-events';
import type { ProjectsTable } from '../project-directory';
import type { TaskCommands } from '../task-commands';

/** The consumer name of the projects listener. */
export const PROJECTS_LISTENER = 'task-service-projects';

/** The events the projects listener reads: the project service's, and the task service's own TaskCreated. */
export const projectsListenerEvents = defineCatalog([ProjectCreated, ProjectDeleted, TaskCreated]);

/** How many times a task deletion is retried when the task changes under it. */
const DELETE_ATTEMPTS = 5;

/** What {@link createProjectsListener} needs. */
export interface ProjectsListenerOptions {
  /** The DynamoDB client of the consumer table. */
  readonly dynamodb: DynamoDBClient;
  /** The projects the task service knows. */
  readonly projects: ProjectsTable;
  /** The task commands, to delete a deleted project's tasks. */
  readonly tasks: TaskCommands;
  /** The consumer table (checkpoints, held records, dead letters). */
  readonly consumerTable: string;
  /** Called with every event the listener handled. Default: none. */
  readonly onEvent?: (event: DomainEvent) => void;
  /** Called with every task it deleted because its project was deleted. Default: none. */
  readonly onTaskDeleted?: (taskId: string, projectId: string) => void;
  /**
   * Where the consumer's counters go (Powertools `Metrics`, or a function); the deployed function
   * publishes them where `@tidemark/cdk`'s alarms look. Default: none.
   */
  readonly metrics?: TidemarkMetrics;
}

/**
 * The projects listener: keeps the projects the task service knows (so `POST /tasks` can refuse an
 * unknown project) and deletes a deleted project's tasks through the task commands.
 *
 * Safe under redelivery: deleting a deleted task changes nothing. Safe against the race between a
 * task created for a project and the project's deletion, in either order and even when both run
 * at once: TaskCreated records the membership *then* reads the project's status; ProjectDeleted
 * records the deletion *then* lists the members. Whichever runs second sees the other's write
 * (strongly consistent reads), so the task is deleted by one of them.
 *
 * @example
 * ```ts
 * export const handler = createProjectsListener({ dynamodb, projects, tasks, consumerTable });
 * ```
 */
export function createProjectsListener(options: ProjectsListenerOptions) {
  const { projects, tasks } = options;

  const deleteTask = async (taskId: string, projectId: string, cause: DomainEvent): Promise<void> => {
    // The deletion is caused by the event being handled, and shares its correlation id.
    const metadata = {
      causationId: cause.eventId,
      correlationId: cause.metadata.correlationId ?? cause.eventId,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await tasks.delete(taskId, { reason: 'project-deleted', projectId }, { metadata });
        if (outcome.result === 'applied') options.onTaskDeleted?.(taskId, projectId);
        return;
      } catch (error) {
        // Someone changed the task between our read and our append: read again and retry.
        if (!(error instanceof ConcurrencyError) || attempt >= DELETE_ATTEMPTS) throw error;
      }
    }
  };

  return createConsumer({
    name: PROJECTS_LISTENER,
    events: projectsListenerEvents,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    checkpoints: { tableName: options.consumerTable, dynamodb: options.dynamodb },
    handlers: {
      ProjectCreated: async (event) => {
        await projects.created(event.aggregate.id, event.data.name);
        options.onEvent?.(event);
      },
      ProjectDeleted: async (event) => {
        const projectId = event.aggregate.id;
        await projects.deleted(projectId);
        for (const taskId of await projects.tasksOf(projectId)) await deleteTask(taskId, projectId, event);
        options.onEvent?.(event);
      },
      TaskCreated: async (event) => {
        const { projectId } = event.data;
        if (projectId !== undefined) {
          await projects.addTask(projectId, event.aggregate.id);
          if ((await projects.status(projectId)) === 'deleted')
            await deleteTask(event.aggregate.id, projectId, event);
        }
        options.onEvent?.(event);
      },
    },
  });
}
