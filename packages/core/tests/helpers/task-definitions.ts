/** The task events the catalog-snapshot and catalog-compatibility tests start from. */
import { z } from 'zod';
import { defineEvent } from '../../src/index';

/** A task's name, as both events declare it. */
export const name = z.string().trim().min(1).max(200);

/** `TaskCreated` at schema version 1. */
export const v1 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name, summary: z.string().optional() }),
});

/** `TaskCompleted` at schema version 1. */
export const completed = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name }),
});
