import { defineCatalog } from '@tidemark/core';
import {
  ProjectCreated,
  ProjectDeleted,
  TaskCompleted,
  TaskCreated,
  TaskDeleted,
  TaskReopened,
  TaskUpdated,
} from '@tidemark-examples/task-events';

/** The events the activity feed reads: the task and project services' published definitions. */
export const feedEvents = defineCatalog([
  TaskCreated,
  TaskUpdated,
  TaskCompleted,
  TaskReopened,
  TaskDeleted,
  ProjectCreated,
  ProjectDeleted,
]);

/** The activity feed's catalog type. */
export type FeedEvents = typeof feedEvents;
