import {
  type CatalogEvent,
  type EventInput,
  newCommandId,
  newCommandIdAfter,
  type Ulid,
} from '@tidemark/core';
import type { ProjectEvents } from '@tidemark-examples/task-events';
import { AggregateHistoryError, ProjectNotFoundError } from './errors';
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

/** The project commands (the small second service of the example). */
export interface ProjectCommands {
  /** Creates a project; its id is the command id. */
  create(input: { readonly name: string }, options?: { readonly commandId?: Ulid }): Promise<ProjectOutcome>;
  /** Deletes a project; deleting a deleted project changes nothing. */
  delete(projectId: string, options?: { readonly commandId?: Ulid }): Promise<ProjectOutcome>;
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
  return {
    async create(input, options = {}) {
      const commandId = options.commandId ?? newCommandId();
      const existing = foldProject(await log.read(commandId));
      if (existing !== undefined) return { project: existing, result: 'replayed' };
      await log.append({
        aggregateId: commandId,
        expectedVersion: 0,
        commandId,
        events: [{ type: 'ProjectCreated', data: { name: input.name } }],
      });
      return { project: await reload(commandId), result: 'applied' };
    },
    async delete(projectId, options = {}) {
      const events = await log.read(projectId);
      const project = foldProject(events);
      if (project === undefined) throw new ProjectNotFoundError(projectId);
      if (options.commandId !== undefined && events.some((event) => event.commandId === options.commandId)) {
        return { project, result: 'replayed' };
      }
      if (project.deleted) return { project, result: 'unchanged' };
      await log.append({
        aggregateId: projectId,
        expectedVersion: project.version,
        commandId: options.commandId ?? newCommandIdAfter(project.lastCommandId),
        events: [{ type: 'ProjectDeleted', data: { name: project.name } }],
      });
      return { project: await reload(projectId), result: 'applied' };
    },
  };
}
