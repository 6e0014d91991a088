import {
  type EventInput,
  type EventMetadata,
  newCommandId,
  newCommandIdAfter,
  type Ulid,
} from '@tidemark/core';
import type { TaskEvents } from '@tidemark-examples/task-events';
import {
  IdempotencyKeyConflictError,
  TaskNotFoundError,
  UnknownProjectError,
  VersionMismatchError,
} from './errors';
import type { AggregateLog, ProjectDirectory } from './ports';
import { foldTask, type Task, type TaskEvent } from './task';

/** The event log of tasks, as the commands use it. */
export type TaskLog = AggregateLog<TaskEvent, EventInput<TaskEvents>>;

/** What a command returns: the task after it, and whether this call changed anything. */
export interface CommandOutcome {
  /** The task after the command (or after the first run of a retried command). */
  readonly task: Task;
  /**
   * `'applied'`: this call appended events. `'unchanged'`: the command changed nothing (the task
   * already had those values). `'replayed'`: the command id was already applied; nothing new.
   */
  readonly result: 'applied' | 'unchanged' | 'replayed';
}

/** Options of every command. */
export interface CommandOptions {
  /** The command id (an `Idempotency-Key`). Default: a new ULID greater than the task's last one. */
  readonly commandId?: Ulid;
  /** The version the caller expects the task at (`If-Match`). Default: none (the current version). */
  readonly expectedVersion?: number;
  /** Correlation and causation ids stored with the events. Default: none. */
  readonly metadata?: EventMetadata;
}

/** The fields of a new task. */
export interface CreateTaskInput {
  readonly name: string;
  readonly summary?: string;
  readonly projectId?: string;
}

/** The fields to change; an absent field is left as it is, `summary: null` removes the summary. */
export interface UpdateTaskInput {
  readonly name?: string;
  readonly summary?: string | null;
  readonly done?: boolean;
}

/** Why a task is deleted. */
export type DeleteTaskInput =
  | { readonly reason: 'requested' }
  | { readonly reason: 'project-deleted'; readonly projectId: string };

/** The task commands. */
export interface TaskCommands {
  /** Creates a task; its id is the command id, so a retried create finds the task it made. */
  create(
    input: CreateTaskInput,
    options?: Pick<CommandOptions, 'commandId' | 'metadata'>,
  ): Promise<CommandOutcome>;
  /** Changes the given fields of a task. */
  update(taskId: string, input: UpdateTaskInput, options?: CommandOptions): Promise<CommandOutcome>;
  /** Deletes a task (soft delete); deleting a deleted task changes nothing. */
  delete(taskId: string, input: DeleteTaskInput, options?: CommandOptions): Promise<CommandOutcome>;
}

/** What {@link createTaskCommands} needs. */
export interface TaskCommandsOptions {
  /** The task event log. */
  readonly log: TaskLog;
  /** The projects the task service knows, to refuse a task for an unknown or deleted project. */
  readonly projects: ProjectDirectory;
}

/**
 * The task commands: each rebuilds the task from its events, decides which events the command
 * produces, and appends them at the version it read (a concurrent writer makes the append fail
 * with the log's concurrency error, which the API answers with 409).
 *
 * @example
 * ```ts
 * const commands = createTaskCommands({ log: taskLog(eventLog), projects });
 * const { task } = await commands.create({ name: 'Write the docs' });
 * await commands.update(task.id, { done: true }, { expectedVersion: task.version });
 * ```
 */
export function createTaskCommands({ log, projects }: TaskCommandsOptions): TaskCommands {
  const load = async (taskId: string) => {
    const events = await log.read(taskId);
    return { events, task: foldTask(events) };
  };

  const reload = async (taskId: string): Promise<Task> => {
    const { task } = await load(taskId);
    if (task === undefined) throw new TaskNotFoundError(taskId);
    return task;
  };

  /** Shared by update and delete: checks, decides, appends. */
  const change = async (
    taskId: string,
    options: CommandOptions,
    decide: (task: Task) => EventInput<TaskEvents>[],
    allowDeleted: boolean,
  ): Promise<CommandOutcome> => {
    const { events, task } = await load(taskId);
    if (task === undefined) throw new TaskNotFoundError(taskId);
    const commandId = options.commandId;
    if (commandId !== undefined && events.some((event) => event.commandId === commandId)) {
      return { task, result: 'replayed' };
    }
    if (task.deleted && !allowDeleted) throw new TaskNotFoundError(taskId, true);
    if (options.expectedVersion !== undefined && options.expectedVersion !== task.version) {
      throw new VersionMismatchError(taskId, options.expectedVersion, task.version);
    }
    if (commandId !== undefined && commandId <= task.lastCommandId) {
      throw new IdempotencyKeyConflictError(
        taskId,
        commandId,
        `it is not newer than the task's last command ${task.lastCommandId}; use a new ULID`,
      );
    }
    const produced = decide(task);
    if (produced.length === 0) return { task, result: 'unchanged' };
    await log.append({
      aggregateId: taskId,
      expectedVersion: task.version,
      commandId: commandId ?? newCommandIdAfter(task.lastCommandId),
      events: produced,
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    });
    return { task: await reload(taskId), result: 'applied' };
  };

  return {
    async create(input, options = {}) {
      const commandId = options.commandId ?? newCommandId();
      const taskId = commandId;
      const data = {
        name: input.name,
        ...(input.summary === undefined ? {} : { summary: input.summary }),
        ...(input.projectId === undefined ? {} : { projectId: input.projectId }),
      };
      /** A task already made by this command id: the same request retried, or a reused key. */
      const replay = (events: readonly TaskEvent[], task: Task): CommandOutcome => {
        const creation = events[0];
        if (creation?.type !== 'TaskCreated' || !sameFields(creation.data, data)) {
          throw new IdempotencyKeyConflictError(taskId, commandId, 'it already created a different task');
        }
        return { task, result: 'replayed' };
      };
      const existing = await load(taskId);
      if (existing.task !== undefined) return replay(existing.events, existing.task);
      if (input.projectId !== undefined) {
        const status = await projects.status(input.projectId);
        if (status !== 'active') throw new UnknownProjectError(input.projectId, status === 'deleted');
      }
      try {
        await log.append({
          aggregateId: taskId,
          expectedVersion: 0,
          commandId,
          events: [{ type: 'TaskCreated', data }],
          ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
        });
      } catch (error) {
        // Two deliveries of one request can race: the loser finds the winner's task.
        const raced = await load(taskId);
        if (raced.task !== undefined && raced.events[0]?.commandId === commandId) {
          return replay(raced.events, raced.task);
        }
        throw error;
      }
      return { task: await reload(taskId), result: 'applied' };
    },

    update(taskId, input, options = {}) {
      return change(
        taskId,
        options,
        (task) => {
          const produced: EventInput<TaskEvents>[] = [];
          const changed: { name?: string; summary?: string | null } = {};
          if (input.name !== undefined && input.name !== task.name) changed.name = input.name;
          if (input.summary === null && task.summary !== undefined) changed.summary = null;
          if (typeof input.summary === 'string' && input.summary !== task.summary) {
            changed.summary = input.summary;
          }
          if (Object.keys(changed).length > 0) produced.push({ type: 'TaskUpdated', data: changed });
          const name = changed.name ?? task.name;
          if (input.done === true && !task.done) produced.push({ type: 'TaskCompleted', data: { name } });
          if (input.done === false && task.done) produced.push({ type: 'TaskReopened', data: { name } });
          return produced;
        },
        false,
      );
    },

    delete(taskId, input, options = {}) {
      return change(
        taskId,
        options,
        (task) =>
          task.deleted
            ? []
            : [
                {
                  type: 'TaskDeleted',
                  data:
                    input.reason === 'project-deleted'
                      ? { name: task.name, reason: 'project-deleted', projectId: input.projectId }
                      : { name: task.name, reason: 'requested' },
                },
              ],
        true,
      );
    },
  };
}

function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}
