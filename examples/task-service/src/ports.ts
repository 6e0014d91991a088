import type { EventMetadata, Ulid } from '@tidemark/core';

/**
 * What the commands need from an event log, for one aggregate type: read an aggregate's events in
 * version order, and append a command's events at an expected version. The production
 * implementation is `@tidemark/event-log`'s `createEventLog` (see `event-logs.ts`); the unit tests
 * use an in-memory log with the same rules.
 */
export interface AggregateLog<TEvent, TInput> {
  /** The events of one aggregate, in version order (strongly consistent). */
  read(aggregateId: string): Promise<readonly TEvent[]>;
  /**
   * Appends a command's events atomically after `expectedVersion`. Throws the log's concurrency
   * error when the aggregate is no longer at `expectedVersion`. A command id already appended to
   * this aggregate appends nothing.
   */
  append(input: {
    readonly aggregateId: string;
    readonly expectedVersion: number;
    readonly commandId: Ulid;
    readonly events: readonly TInput[];
    /** Correlation and causation ids stored with the events. Default: none. */
    readonly metadata?: EventMetadata;
  }): Promise<void>;
}

/** Whether a project can take tasks, as far as the task service knows. */
export type ProjectStatus = 'active' | 'deleted' | 'unknown';

/** The projects the task service knows (kept by the projects listener). */
export interface ProjectDirectory {
  /** The status of a project. */
  status(projectId: string): Promise<ProjectStatus>;
}
