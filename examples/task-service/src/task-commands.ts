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
import { findKeyedCommand, type KeyedCommand, keyedMetadata, sameEvents } from './idempotency-keys';
import { isLostRace } from './lost-race';
import type { AggregateLog, ProjectDirectory } from './ports';
import { applyTaskEvent, foldTask, type Task, type TaskEvent } from './task';

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
  /**
   * The client's `Idempotency-Key`: a command retried with the same key changes nothing and
   * answers as the first run did; the same key for a different request on this task is refused
   * ({@link IdempotencyKeyConflictError}). The key is stored as the events' causation id and is
   * never the command id, so no key value can make later commands impossible. Default: none.
   */
  readonly idempotencyKey?: Ulid;
  /** The version the caller expects the task at (`If-Match`). Default: none (the current version). */
  readonly expectedVersion?: number;
  /** Correlation and causation ids stored with the events (a key replaces the causation id). Default: none. */
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
  /**
   * Creates a task. With an idempotency key the task's id is the key, so a retried create finds
   * the task it made; without one, the id is a new ULID.
   */
  create(
    input: CreateTaskInput,
    options?: Pick<CommandOptions, 'idempotencyKey' | 'metadata'>,
  ): Promise<CommandOutcome>;
  /** Changes the given fields of a task. */
  update(taskId: string, input: UpdateTaskInput, options?: CommandOptions): Promise<CommandOutcome>;
  /** Deletes a task (soft delete); deleting a deleted task changes nothing. */
  delete(taskId: string, input: DeleteTaskInput, options?: CommandOptions): Promise<CommandOutcome>;
}

/** How many times a command is decided when other writers keep appending between read and append. */
const DECIDE_ATTEMPTS = 3;

/** What {@link createTaskCommands} needs. */
export interface TaskCommandsOptions {
  /** The task event log. */
  readonly log: TaskLog;
  /** The projects the task service knows, to refuse a task for an unknown or deleted project. */
  readonly projects: ProjectDirectory;
}

/**
 * The task commands: each rebuilds the task from its events, decides which events the command
 * produces, and appends them at the version it read with a command id it makes (above the task's
 * last one). When another writer appended in between, a conditional command (`expectedVersion`)
 * fails with 409 and an unconditional one is decided again on the new state. An idempotency key
 * is stored as the events' causation id, so a retried request is answered from its first run.
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

  /**
   * The answer to a key already used on this task: the first run's outcome when this request is
   * the same one (it decides the same events from the same state, under the same `If-Match`),
   * else a conflict.
   */
  const replay = (
    taskId: string,
    key: Ulid,
    earlier: KeyedCommand<TaskEvent>,
    options: CommandOptions,
    decide: (task: Task) => EventInput<TaskEvents>[],
  ): CommandOutcome => {
    const before = foldTask(earlier.before);
    if (before === undefined) {
      throw new IdempotencyKeyConflictError(taskId, key, 'it created this task; a change needs its own key');
    }
    if (options.expectedVersion !== undefined && options.expectedVersion !== before.version) {
      throw new IdempotencyKeyConflictError(
        taskId,
        key,
        `it was used with If-Match "${before.version}", not "${options.expectedVersion}"`,
      );
    }
    if (!sameEvents(earlier.events, decide(before))) {
      throw new IdempotencyKeyConflictError(taskId, key, 'it was used for a different change of this task');
    }
    // The answer the first run gave: the task as that command left it.
    return { task: foldTask([...earlier.before, ...earlier.events]) ?? before, result: 'replayed' };
  };

  /**
   * Shared by update and delete: checks, decides, appends. A command that loses a race to another
   * writer is decided again on the new state, unless it is conditional (`expectedVersion`: then the
   * loss is the caller's 409) or the winner is the same keyed request (then it is a replay).
   */
  const change = async (
    taskId: string,
    options: CommandOptions,
    decide: (task: Task) => EventInput<TaskEvents>[],
    allowDeleted: boolean,
  ): Promise<CommandOutcome> => {
    const key = options.idempotencyKey;
    for (let attempt = 1; ; attempt++) {
      const { events, task } = await load(taskId);
      if (task === undefined) throw new TaskNotFoundError(taskId);
      const earlier = key === undefined ? undefined : findKeyedCommand(events, key);
      if (key !== undefined && earlier !== undefined) return replay(taskId, key, earlier, options, decide);
      if (task.deleted && !allowDeleted) throw new TaskNotFoundError(taskId, true);
      if (options.expectedVersion !== undefined && options.expectedVersion !== task.version) {
        throw new VersionMismatchError(taskId, options.expectedVersion, task.version);
      }
      const produced = decide(task);
      if (produced.length === 0) return { task, result: 'unchanged' };
      const metadata = keyedMetadata(options.metadata, key);
      try {
        await log.append({
          aggregateId: taskId,
          expectedVersion: task.version,
          commandId: newCommandIdAfter(task.lastCommandId),
          events: produced,
          ...(metadata === undefined ? {} : { metadata }),
        });
      } catch (error) {
        if (!isLostRace(error) || attempt >= DECIDE_ATTEMPTS) throw error;
        // The next round answers a keyed winner as a replay, and a conditional loser with 409.
        continue;
      }
      return { task: await reload(taskId), result: 'applied' };
    }
  };

  return {
    async create(input, options = {}) {
      const key = options.idempotencyKey;
      const commandId = newCommandId();
      const taskId = key ?? commandId;
      const data = {
        name: input.name,
        ...(input.summary === undefined ? {} : { summary: input.summary }),
        ...(input.projectId === undefined ? {} : { projectId: input.projectId }),
      };
      /** A task already has this id: the same request retried, or the key reused. */
      const replayCreate = (events: readonly TaskEvent[]): CommandOutcome => {
        const creation = events[0];
        if (creation === undefined || key === undefined || creation.metadata.causationId !== key) {
          throw new IdempotencyKeyConflictError(
            taskId,
            taskId,
            'a task with this id was created by another request',
          );
        }
        if (creation.type !== 'TaskCreated' || !sameEvents([creation], [{ type: 'TaskCreated', data }])) {
          throw new IdempotencyKeyConflictError(taskId, taskId, 'it already created a different task');
        }
        // The answer the first run gave: the task as its creation left it.
        return { task: applyTaskEvent(undefined, creation), result: 'replayed' };
      };
      if (key !== undefined) {
        const existing = await log.read(taskId);
        if (existing.length > 0) return replayCreate(existing);
      }
      if (input.projectId !== undefined) {
        const status = await projects.status(input.projectId);
        if (status !== 'active') throw new UnknownProjectError(input.projectId, status === 'deleted');
      }
      const metadata = keyedMetadata(options.metadata, key);
      try {
        await log.append({
          aggregateId: taskId,
          expectedVersion: 0,
          commandId,
          events: [{ type: 'TaskCreated', data }],
          ...(metadata === undefined ? {} : { metadata }),
        });
      } catch (error) {
        // Two deliveries of one keyed request can race: the loser finds the winner's task.
        if (key === undefined || !isLostRace(error)) throw error;
        const raced = await log.read(taskId);
        if (raced.length === 0) throw error;
        return replayCreate(raced);
      }
      return { task: await reload(taskId), result: 'applied' };
    },

    update(taskId, input, options = {}) {
      return change(taskId, options, (task) => decideUpdate(task, input), false);
    },

    delete(taskId, input, options = {}) {
      return change(taskId, options, (task) => decideDelete(task, input), true);
    },
  };
}

/**
 * The events an update produces from a task's state (none when the task already has those values).
 *
 * @example
 * ```ts
 * decideUpdate(task, { done: true }); // [{ type: 'TaskCompleted', data: { name: task.name } }]
 * ```
 */
export function decideUpdate(task: Task, input: UpdateTaskInput): EventInput<TaskEvents>[] {
  const produced: EventInput<TaskEvents>[] = [];
  const changed: { name?: string; summary?: string | null } = {};
  if (input.name !== undefined && input.name !== task.name) changed.name = input.name;
  if (input.summary === null && task.summary !== undefined) changed.summary = null;
  if (typeof input.summary === 'string' && input.summary !== task.summary) changed.summary = input.summary;
  if (Object.keys(changed).length > 0) produced.push({ type: 'TaskUpdated', data: changed });
  const name = changed.name ?? task.name;
  if (input.done === true && !task.done) produced.push({ type: 'TaskCompleted', data: { name } });
  if (input.done === false && task.done) produced.push({ type: 'TaskReopened', data: { name } });
  return produced;
}

/**
 * The events a deletion produces from a task's state (none when it is already deleted).
 *
 * @example
 * ```ts
 * decideDelete(task, { reason: 'requested' }); // [{ type: 'TaskDeleted', data: { ... } }]
 * ```
 */
export function decideDelete(task: Task, input: DeleteTaskInput): EventInput<TaskEvents>[] {
  if (task.deleted) return [];
  return [
    {
      type: 'TaskDeleted',
      data:
        input.reason === 'project-deleted'
          ? { name: task.name, reason: 'project-deleted', projectId: input.projectId }
          : { name: task.name, reason: 'requested' },
    },
  ];
}
