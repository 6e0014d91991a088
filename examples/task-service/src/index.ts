/**
 * The task service: commands, the framework-free HTTP routes and their two hosts, the read model,
 * the listeners and the event logs. The event definitions are published separately as `@tidemark-examples/task-events`;
 * the CDK stack lives in `src/infra` and the local demo in `src/local`.
 */
export {
  AggregateHistoryError,
  BodyEncodingError,
  BodyTooLargeError,
  IdempotencyKeyConflictError,
  MalformedJsonError,
  MissingSettingError,
  ProjectNotFoundError,
  RequestValidationError,
  RouteNotFoundError,
  ScenarioFailedError,
  TaskNotFoundError,
  TaskServiceError,
  UnknownProjectError,
  UnsupportedMediaTypeError,
  VersionMismatchError,
} from './errors';
export type { ProjectEventLog, TaskEventLog } from './event-logs';
export { openProjectEventLog, openTaskEventLog, projectLog, taskLog } from './event-logs';
export { apiGatewayHandler, requestFromApiGateway } from './http/lambda-adapter';
export type { RunningServer } from './http/node-server';
export { MAX_BODY_BYTES, startNodeServer } from './http/node-server';
export type { ErrorLogger, RoutesOptions, TaskReader } from './http/routes';
export { createProjectBody, createRoutes, createTaskBody, updateTaskBody } from './http/routes';
export type { HttpHandler, HttpRequest, HttpResponse } from './http/types';
export type { ProjectsListenerOptions } from './listeners/projects-listener';
export {
  createProjectsListener,
  PROJECTS_LISTENER,
  projectsListenerEvents,
} from './listeners/projects-listener';
export type { ReadModelListenerOptions } from './listeners/read-model-listener';
export { createReadModelListener, READ_MODEL_LISTENER } from './listeners/read-model-listener';
export { FUNCTION_TIMEOUT_SECONDS, LISTENER_MAPPING, PUBLISHER_MAPPING } from './mapping-settings';
export type { AggregateLog, ProjectDirectory, ProjectStatus } from './ports';
export type {
  Project,
  ProjectCommandOptions,
  ProjectCommands,
  ProjectEvent,
  ProjectLog,
  ProjectOutcome,
} from './project-commands';
export { createProjectCommands, foldProject } from './project-commands';
export type { KnownProject, ProjectsTable } from './project-directory';
export { createProjectsTable, projectsTableDescription } from './project-directory';
export type { TaskReadModel } from './read-model';
export { createTaskReadModel, readModelTableDescription } from './read-model';
export { setting } from './settings';
export type { Task, TaskEvent } from './task';
export { applyTaskEvent, foldTask } from './task';
export type {
  CommandOptions,
  CommandOutcome,
  CreateTaskInput,
  DeleteTaskInput,
  TaskCommands,
  TaskCommandsOptions,
  TaskLog,
  UpdateTaskInput,
} from './task-commands';
export { createTaskCommands } from './task-commands';
