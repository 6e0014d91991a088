/**
 * The sample event catalog of Tidemark's own tests (event log, publisher, consumer): a `Task`
 * aggregate's events plus two events without an aggregate type, one of which transforms its data.
 * Exported from `@tidemark/testing/internal`; not part of the public API.
 *
 * @internal
 */
import { defineCatalog, defineEvent } from '@tidemark/core';
import { z } from 'zod';

/** A task was created (`tags` defaults to `[]`). */
export const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }),
});

/** A task was renamed. */
export const TaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1) }),
});

/** A task was completed. */
export const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ completedBy: z.string() }),
});

/** A comment on a task (a type the consumers of the tests have no handler for). */
export const TaskCommented = defineEvent({
  type: 'TaskCommented',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ text: z.string() }),
});

/** A note, on any aggregate type, with an optional payload of any shape. */
export const NoteAdded = defineEvent({
  type: 'NoteAdded',
  schemaVersion: 1,
  schema: z.object({ text: z.string(), extra: z.unknown().optional() }),
});

/** A timestamp whose schema turns the string into a `Date` (data that does not round-trip). */
export const DateStamped = defineEvent({
  type: 'DateStamped',
  schemaVersion: 1,
  schema: z.object({ at: z.string().transform((value) => new Date(value)) }),
});

/** Every event of the sample catalog. */
export const sampleCatalog = defineCatalog([
  TaskCreated,
  TaskRenamed,
  TaskCompleted,
  TaskCommented,
  NoteAdded,
  DateStamped,
]);
