/**
 * The published event definitions of the task service and the project service. Downstream teams
 * import them from `@tidemark-examples/task-events`.
 */
export type { ProjectEvents } from './project-events';
export {
  PROJECT_AGGREGATE_TYPE,
  PROJECT_SERVICE_SOURCE,
  ProjectCreated,
  ProjectDeleted,
  projectEvents,
} from './project-events';
export type { TaskEvents } from './task-events';
export {
  TASK_AGGREGATE_TYPE,
  TASK_SERVICE_SOURCE,
  TaskCompleted,
  TaskCreated,
  TaskDeleted,
  TaskReopened,
  TaskUpdated,
  taskEvents,
} from './task-events';
