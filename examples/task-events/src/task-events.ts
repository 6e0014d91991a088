import { defineCatalog, defineEvent } from '@tidemark/core';
import { z } from 'zod';

/** The aggregate type of tasks in the event log and on the stream. */
export const TASK_AGGREGATE_TYPE = 'Task';
/** The `source` of every event the task service appends. */
export const TASK_SERVICE_SOURCE = '/task-service';

const taskName = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const taskSummary = z.string().max(2000, 'must be at most 2000 characters');

/** A task was created. `projectId` ties it to a project of the project service. */
export const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: TASK_AGGREGATE_TYPE,
  description: 'A task was created.',
  schema: z.object({
    name: taskName,
    summary: taskSummary.optional(),
    projectId: z.string().min(1).optional(),
  }),
});

/**
 * Some fields of a task changed. It carries only the fields that changed (at least one); a field
 * that is absent kept its value. `summary: null` means the summary was removed.
 */
export const TaskUpdated = defineEvent({
  type: 'TaskUpdated',
  schemaVersion: 1,
  aggregateType: TASK_AGGREGATE_TYPE,
  description: 'Fields of a task changed; only the changed fields are present.',
  schema: z
    .object({
      name: taskName.optional(),
      summary: taskSummary.nullable().optional(),
    })
    .refine((data) => data.name !== undefined || data.summary !== undefined, {
      message: 'a TaskUpdated event changes at least one field',
    }),
});

/**
 * A task was marked done. Like TaskReopened and TaskDeleted it carries the task's name at that
 * moment, so that listeners that show tasks (an activity feed) need not keep task state.
 */
export const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  aggregateType: TASK_AGGREGATE_TYPE,
  description: 'A task was marked done.',
  schema: z.object({ name: taskName }),
});

/** A done task was marked not done again. */
export const TaskReopened = defineEvent({
  type: 'TaskReopened',
  schemaVersion: 1,
  aggregateType: TASK_AGGREGATE_TYPE,
  description: 'A done task was marked not done again.',
  schema: z.object({ name: taskName }),
});

/**
 * A task was deleted (soft delete: its events stay in the log). `reason` says whether a user
 * asked for it or its project was deleted.
 */
export const TaskDeleted = defineEvent({
  type: 'TaskDeleted',
  schemaVersion: 1,
  aggregateType: TASK_AGGREGATE_TYPE,
  description: 'A task was deleted (soft delete).',
  schema: z.object({
    name: taskName,
    reason: z.enum(['requested', 'project-deleted']),
    projectId: z.string().min(1).optional(),
  }),
});

/** Every event the task service publishes. */
export const taskEvents = defineCatalog([TaskCreated, TaskUpdated, TaskCompleted, TaskReopened, TaskDeleted]);

/** The task service's event catalog type. */
export type TaskEvents = typeof taskEvents;
