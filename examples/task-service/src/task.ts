import type { CatalogEvent, Ulid } from '@tidemark/core';
import type { TaskEvents } from '@tidemark-examples/task-events';
import { AggregateHistoryError } from './errors';

/** A task as the API shows it: its fields plus the version and last command id of its aggregate. */
export interface Task {
  /** The task id (the aggregate id). */
  readonly id: string;
  /** The task name. */
  readonly name: string;
  /** The summary; absent when there is none. */
  readonly summary?: string;
  /** The project the task belongs to; absent for a task without project. */
  readonly projectId?: string;
  /** Whether the task is done. */
  readonly done: boolean;
  /** Whether the task was deleted (soft delete). */
  readonly deleted: boolean;
  /** The aggregate version: the number of events of this task. */
  readonly version: number;
  /** The id of the last command that changed the task. */
  readonly lastCommandId: Ulid;
  /** When the task was created (RFC 3339). */
  readonly createdAt: string;
  /** When the task last changed (RFC 3339). */
  readonly updatedAt: string;
}

/** One event of the task service, typed by its catalog. */
export type TaskEvent = CatalogEvent<TaskEvents>;

/**
 * Applies one event to a task's state: the single definition of what each event means, used by
 * the commands (which rebuild a task from its log) and by the read model (which applies events as
 * they arrive). `state` is `undefined` before the first event.
 *
 * @example
 * ```ts
 * const task = events.reduce<Task | undefined>(applyTaskEvent, undefined);
 * ```
 */
export function applyTaskEvent(state: Task | undefined, event: TaskEvent): Task {
  if (event.type === 'TaskCreated') {
    if (state !== undefined) {
      throw new AggregateHistoryError(`Task ${event.aggregate.id} is created twice`, {
        taskId: event.aggregate.id,
        version: event.version,
      });
    }
    return {
      id: event.aggregate.id,
      name: event.data.name,
      ...(event.data.summary === undefined ? {} : { summary: event.data.summary }),
      ...(event.data.projectId === undefined ? {} : { projectId: event.data.projectId }),
      done: false,
      deleted: false,
      version: event.version,
      lastCommandId: event.commandId,
      createdAt: event.time,
      updatedAt: event.time,
    };
  }
  if (state === undefined) {
    throw new AggregateHistoryError(`Task ${event.aggregate.id} has ${event.type} before TaskCreated`, {
      taskId: event.aggregate.id,
      version: event.version,
    });
  }
  const base = { ...state, version: event.version, lastCommandId: event.commandId, updatedAt: event.time };
  switch (event.type) {
    case 'TaskUpdated': {
      const next: Task = { ...base, ...(event.data.name === undefined ? {} : { name: event.data.name }) };
      if (event.data.summary === undefined) return next;
      const { summary: _removed, ...withoutSummary } = next;
      return event.data.summary === null
        ? withoutSummary
        : { ...withoutSummary, summary: event.data.summary };
    }
    case 'TaskCompleted':
      return { ...base, done: true };
    case 'TaskReopened':
      return { ...base, done: false };
    case 'TaskDeleted':
      return { ...base, deleted: true };
  }
}

/**
 * Rebuilds a task from its events in version order, or `undefined` when there are none.
 *
 * @example
 * ```ts
 * const task = foldTask(await log.read({ type: 'Task', id }));
 * ```
 */
export function foldTask(events: readonly TaskEvent[]): Task | undefined {
  let state: Task | undefined;
  for (const event of events) state = applyTaskEvent(state, event);
  return state;
}
