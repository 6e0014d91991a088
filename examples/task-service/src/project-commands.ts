import {
  type CatalogEvent,
  type EventInput,
  newCommandId,
  newCommandIdAfter,
  type Ulid,
} from '@tidemark/core';
import type { ProjectEvents } from '@tidemark-examples/task-events';
import { AggregateHistoryError, IdempotencyKeyConflictError, ProjectNotFoundError } from './errors';
import { findKeyedCommand, type KeyedCommand, keyedMetadata, sameEvents } from './idempotency-keys';
import { isLostRace } from './lost-race';
import type { AggregateLog } from './ports';

/** A project of the project service. */
export interface Project {
  /** The project id (the aggregate id). */
  readonly id: string;
  /** The project name. */
  readonly name: string;
  /** Whether the project was deleted. */
  readonly deleted: boolean;
  /** The aggregate version. */
  readonly version: number;
  /** The id of the last command that changed the project. */
  readonly lastCommandId: Ulid;
}

/** One event of the project service. */
export type ProjectEvent = CatalogEvent<ProjectEvents>;

/** The event log of projects, as the commands use it. */
export type ProjectLog = AggregateLog<ProjectEvent, EventInput<ProjectEvents>>;

/** What a project command returns. */
export interface ProjectOutcome {
  /** The project after the command. */
  readonly project: Project;
  /** `'applied'`, `'unchanged'` (already in that state) or `'replayed'` (same command id again). */
  readonly result: 'applied' | 'unchanged' | 'replayed';
}

/** Options of the project commands. */
export interface ProjectCommandOptions {
  /**
   * The client's `Idempotency-Key`: a command retried with the same key changes nothing and
   * answers as the first run did; the same key for a different request on this project is refused
   * ({@link IdempotencyKeyConflictError}). Stored as the events' causation id, never as the command
   * id. Default: none.
   */
  readonly idempotencyKey?: Ulid;
}

/** The project commands (the small second service of the example). */
export interface ProjectCommands {
  /** Creates a project; with an idempotency key its id is the key, else a new ULID. */
  create(input: { readonly name: string }, options?: ProjectCommandOptions): Promise<ProjectOutcome>;
  /** Deletes a project; deleting a deleted project changes nothing. */
  delete(projectId: string, options?: ProjectCommandOptions): Promise<ProjectOutcome>;
}

/**
 * Rebuilds a project from its events.
 *
 * @example
 * ```ts
 * const project = foldProject(await log.read(projectId));
 * ```
 */
export function foldProject(events: readonly ProjectEvent[]): Project | undefined {
  let state: Project | undefined;
  for (const event of events) {
    if (event.type === 'ProjectCreated') {
      if (state !== undefined) {
        throw new AggregateHistoryError(`Project ${event.aggregate.id} is created twice`, {
          projectId: event.aggregate.id,
        });
      }
      state = {
        id: event.aggregate.id,
        name: event.data.name,
        deleted: false,
        version: event.version,
        lastCommandId: event.commandId,
      };
    } else {
      if (state === undefined) {
        throw new AggregateHistoryError(`Project ${event.aggregate.id} is deleted before it is created`, {
          projectId: event.aggregate.id,
        });
      }
      state = { ...state, deleted: true, version: event.version, lastCommandId: event.commandId };
    }
  }
  return state;
}

/**
 * The project commands, on the project service's own event log.
 *
 * @example
 * ```ts
 * const projects = createProjectCommands({ log: projectLog(eventLog) });
 * const { project } = await projects.create({ name: 'Launch' });
 * await projects.delete(project.id);
 * ```
 */
export function createProjectCommands({ log }: { readonly log: ProjectLog }): ProjectCommands {
  const reload = async (projectId: string): Promise<Project> => {
    const project = foldProject(await log.read(projectId));
    if (project === undefined) throw new ProjectNotFoundError(projectId);
    return project;
  };

  /** A project already has this id: the same create retried, or the key reused. */
  const replayCreate = (
    projectId: string,
    key: Ulid | undefined,
    events: readonly ProjectEvent[],
    name: string,
  ): ProjectOutcome => {
    const creation = events[0];
    if (creation === undefined || key === undefined || creation.metadata.causationId !== key) {
      throw new IdempotencyKeyConflictError(
        projectId,
        projectId,
        'a project with this id was created by another request',
      );
    }
    if (!sameEvents([creation], [{ type: 'ProjectCreated', data: { name } }])) {
      throw new IdempotencyKeyConflictError(projectId, key, 'it already created a different project');
    }
    return { project: foldProject([creation]) ?? unreachable(projectId), result: 'replayed' };
  };

  /** A key already used on this project: the same deletion retried, or the key reused. */
  const replayDelete = (
    projectId: string,
    key: Ulid,
    earlier: KeyedCommand<ProjectEvent>,
  ): ProjectOutcome => {
    if (!earlier.events.every((event) => event.type === 'ProjectDeleted')) {
      throw new IdempotencyKeyConflictError(
        projectId,
        key,
        'it created this project; a deletion needs its own key',
      );
    }
    return {
      project: foldProject([...earlier.before, ...earlier.events]) ?? unreachable(projectId),
      result: 'replayed',
    };
  };

  return {
    async create(input, options = {}) {
      const key = options.idempotencyKey;
      const commandId = newCommandId();
      const projectId = key ?? commandId;
      if (key !== undefined) {
        const existing = await log.read(projectId);
        if (existing.length > 0) return replayCreate(projectId, key, existing, input.name);
      }
      const metadata = keyedMetadata(undefined, key);
      try {
        await log.append({
          aggregateId: projectId,
          expectedVersion: 0,
          commandId,
          events: [{ type: 'ProjectCreated', data: { name: input.name } }],
          ...(metadata === undefined ? {} : { metadata }),
        });
      } catch (error) {
        // Two deliveries of one keyed request can race: the loser finds the winner's project.
        if (key === undefined || !isLostRace(error)) throw error;
        const raced = await log.read(projectId);
        if (raced.length === 0) throw error;
        return replayCreate(projectId, key, raced, input.name);
      }
      return { project: await reload(projectId), result: 'applied' };
    },
    async delete(projectId, options = {}) {
      const key = options.idempotencyKey;
      const events = await log.read(projectId);
      const project = foldProject(events);
      if (project === undefined) throw new ProjectNotFoundError(projectId);
      const earlier = key === undefined ? undefined : findKeyedCommand(events, key);
      if (key !== undefined && earlier !== undefined) return replayDelete(projectId, key, earlier);
      if (project.deleted) return { project, result: 'unchanged' };
      const metadata = keyedMetadata(undefined, key);
      try {
        await log.append({
          aggregateId: projectId,
          expectedVersion: project.version,
          commandId: newCommandIdAfter(project.lastCommandId),
          events: [{ type: 'ProjectDeleted', data: { name: project.name } }],
          ...(metadata === undefined ? {} : { metadata }),
        });
      } catch (error) {
        if (!isLostRace(error)) throw error;
        // A concurrent deletion (or the same keyed request delivered twice) won the race.
        const raced = await log.read(projectId);
        const winner = key === undefined ? undefined : findKeyedCommand(raced, key);
        if (key !== undefined && winner !== undefined) return replayDelete(projectId, key, winner);
        const now = foldProject(raced);
        if (now?.deleted === true) return { project: now, result: 'unchanged' };
        throw error;
      }
      return { project: await reload(projectId), result: 'applied' };
    },
  };
}

function unreachable(projectId: string): never {
  throw new AggregateHistoryError(`Project ${projectId} has no events`, { projectId });
}
