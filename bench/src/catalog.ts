/** The events every benchmark and bench test appends, publishes and consumes. */
import { defineCatalog, defineEvent } from '@tidemark/core';
import { z } from 'zod';

/** A task was created: the first event of a `Task` aggregate. */
export const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1) }),
});

/** A task was renamed: every later event of a `Task` aggregate. */
export const TaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1) }),
});

/** The catalog of the benchmarks. */
export const benchEvents = defineCatalog([TaskCreated, TaskRenamed]);

/** The `i`-th event of a task: `TaskCreated` first, then renames. */
export function taskEvent(version: number, label: string) {
  return version === 1
    ? { type: 'TaskCreated' as const, data: { name: `task ${label}` } }
    : { type: 'TaskRenamed' as const, data: { name: `task ${label} v${version}` } };
}

/** A logger that drops everything but counts errors (the consumer logs each park at `error`). */
export function quietLogger() {
  const counts = { debug: 0, info: 0, warn: 0, error: 0 };
  const count = (level: keyof typeof counts) => () => {
    counts[level] += 1;
  };
  return {
    counts,
    debug: count('debug'),
    info: count('info'),
    warn: count('warn'),
    error: count('error'),
  };
}
