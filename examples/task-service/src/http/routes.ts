import {
  assertAggregate,
  InvalidAggregateError,
  InvalidCommandIdError,
  PayloadValidationError,
  parseCommandId,
  type Ulid,
} from '@tidemark/core';
import {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  EventLogBusyError,
} from '@tidemark/event-log';
import { PROJECT_AGGREGATE_TYPE, TASK_AGGREGATE_TYPE } from '@tidemark-examples/task-events';
import { z } from 'zod';
import {
  MalformedJsonError,
  RequestValidationError,
  RouteNotFoundError,
  TaskNotFoundError,
  TaskServiceError,
} from '../errors';
import type { ProjectCommands } from '../project-commands';
import type { Task } from '../task';
import type { TaskCommands } from '../task-commands';
import type { HttpHandler, HttpRequest, HttpResponse } from './types';

/** Reads tasks from the read model (kept by the read-model listener). */
export interface TaskReader {
  /** The task as the read model has it, or `undefined`. */
  get(taskId: string): Promise<Task | undefined>;
}

/** Something that records errors the API could not attribute to the user (500s). */
export interface ErrorLogger {
  error(message: string, details: Record<string, unknown>): void;
}

/** What {@link createRoutes} needs. */
export interface RoutesOptions {
  /** The task commands; when absent (with `reader`), the `/tasks` routes answer 404. Default: absent. */
  readonly tasks?: TaskCommands;
  /** The task read model, for `GET /tasks/:id`; needed with `tasks`. Default: absent. */
  readonly reader?: TaskReader;
  /** The project commands; when absent, the `/projects` routes answer 404. Default: absent. */
  readonly projects?: ProjectCommands;
  /** Where 500s are logged. Default: `console`. */
  readonly logger?: ErrorLogger;
}

/** The body of `POST /tasks`. */
export const createTaskBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  summary: z.string().max(2000, 'must be at most 2000 characters').optional(),
  projectId: z.string().min(1, 'must not be empty').max(200).optional(),
});

/** The body of `PATCH /tasks/:id`: absent fields stay unchanged; `summary: null` removes it. */
export const updateTaskBody = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
    summary: z.string().max(2000, 'must be at most 2000 characters').nullable().optional(),
    done: z.boolean().optional(),
  })
  .refine((body) => body.name !== undefined || body.summary !== undefined || body.done !== undefined, {
    message: 'give at least one of name, summary, done',
  });

/** The body of `POST /projects`. */
export const createProjectBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

const TASK_PATH = /^\/tasks\/([^/]+)$/;
const PROJECT_PATH = /^\/projects\/([^/]+)$/;

/**
 * The HTTP API of the task service (and of the small project service), free of any framework:
 * the Node server (`node-server.ts`) and the API Gateway Lambda handler (`lambda-adapter.ts`) both
 * call it.
 *
 * Every task response carries the task's version and last command id, in the body
 * (`version`, `lastCommandId`) and in headers (`ETag: "<version>"`, `Last-Command-Id`). Send the
 * ETag back as `If-Match` to make a change conditional (409 when the task moved on). An
 * `Idempotency-Key` header (a ULID) becomes the command id: repeating the request changes nothing
 * and answers as the first time did.
 *
 * @example
 * ```ts
 * const handle = createRoutes({ tasks, reader, projects });
 * const response = await handle({ method: 'GET', path: '/tasks/01J…', headers: {} });
 * ```
 */
export function createRoutes(options: RoutesOptions): HttpHandler {
  const logger = options.logger ?? console;
  return async (request) => {
    try {
      return await route(options, request);
    } catch (error) {
      return errorResponse(error, request, logger);
    }
  };
}

async function route(options: RoutesOptions, request: HttpRequest): Promise<HttpResponse> {
  const { method, path } = request;
  if (options.tasks !== undefined && options.reader !== undefined) {
    const response = await taskRoute(options.tasks, options.reader, request);
    if (response !== undefined) return response;
  }
  if (options.projects !== undefined) {
    const response = await projectRoute(options.projects, request);
    if (response !== undefined) return response;
  }
  throw new RouteNotFoundError(method, path);
}

async function taskRoute(
  tasks: TaskCommands,
  reader: TaskReader,
  request: HttpRequest,
): Promise<HttpResponse | undefined> {
  const { method, path } = request;
  if (path === '/tasks') {
    if (method !== 'POST') throw new RouteNotFoundError(method, path, ['POST']);
    const body = parseBody(request, createTaskBody);
    const commandId = idempotencyKey(request);
    const outcome = await tasks.create(body, commandId === undefined ? {} : { commandId });
    return taskResponse(201, outcome.task, outcome.result === 'replayed', {
      location: `/tasks/${encodeURIComponent(outcome.task.id)}`,
    });
  }
  const taskMatch = TASK_PATH.exec(path);
  if (taskMatch) {
    const taskId = decodePathSegment(taskMatch[1]!, TASK_AGGREGATE_TYPE);
    if (method === 'GET') {
      const task = await reader.get(taskId);
      if (task === undefined || task.deleted) throw new TaskNotFoundError(taskId, task?.deleted ?? false);
      return taskResponse(200, task, false);
    }
    if (method === 'PATCH') {
      const body = parseBody(request, updateTaskBody);
      const outcome = await tasks.update(taskId, body, commandOptions(request));
      return taskResponse(200, outcome.task, outcome.result === 'replayed');
    }
    if (method === 'DELETE') {
      const outcome = await tasks.delete(taskId, { reason: 'requested' }, commandOptions(request));
      return taskResponse(200, outcome.task, outcome.result === 'replayed');
    }
    throw new RouteNotFoundError(method, path, ['GET', 'PATCH', 'DELETE']);
  }
  return undefined;
}

async function projectRoute(
  projects: ProjectCommands,
  request: HttpRequest,
): Promise<HttpResponse | undefined> {
  const { method, path } = request;
  if (path === '/projects') {
    if (method !== 'POST') throw new RouteNotFoundError(method, path, ['POST']);
    const body = parseBody(request, createProjectBody);
    const commandId = idempotencyKey(request);
    const outcome = await projects.create(body, commandId === undefined ? {} : { commandId });
    return json(201, outcome.project, {
      location: `/projects/${encodeURIComponent(outcome.project.id)}`,
      etag: `"${outcome.project.version}"`,
      'last-command-id': outcome.project.lastCommandId,
      ...(outcome.result === 'replayed' ? { 'idempotent-replayed': 'true' } : {}),
    });
  }
  const projectMatch = PROJECT_PATH.exec(path);
  if (projectMatch) {
    if (method !== 'DELETE') throw new RouteNotFoundError(method, path, ['DELETE']);
    const commandId = idempotencyKey(request);
    const outcome = await projects.delete(
      decodePathSegment(projectMatch[1]!, PROJECT_AGGREGATE_TYPE),
      commandId === undefined ? {} : { commandId },
    );
    return json(200, outcome.project, {
      etag: `"${outcome.project.version}"`,
      'last-command-id': outcome.project.lastCommandId,
    });
  }
  return undefined;
}

function parseBody<T>(request: HttpRequest, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(request.body === undefined || request.body === '' ? 'null' : request.body);
  } catch (error) {
    throw new MalformedJsonError(error);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestValidationError('The request body must be a JSON object', [
      { path: '', message: 'expected a JSON object', code: 'invalid_type' },
    ]);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
      code: issue.code,
    }));
    throw new RequestValidationError('The request body is invalid', issues);
  }
  return result.data;
}

function idempotencyKey(request: HttpRequest): Ulid | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  try {
    return parseCommandId(value.trim());
  } catch (error) {
    if (error instanceof InvalidCommandIdError) {
      throw new RequestValidationError('The Idempotency-Key header must be a ULID', [
        { path: 'headers.idempotency-key', message: String(error.context.reason), code: 'invalid_format' },
      ]);
    }
    throw error;
  }
}

/** Reads `If-Match: "3"` (or `W/"3"`, or `3`) as an expected version. */
function expectedVersion(request: HttpRequest): number | undefined {
  const value = request.headers['if-match'];
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value.trim());
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RequestValidationError('The If-Match header must be a task version, e.g. "3"', [
      { path: 'headers.if-match', message: 'expected an ETag such as "3"', code: 'invalid_format' },
    ]);
  }
  return version;
}

function commandOptions(request: HttpRequest): { commandId?: Ulid; expectedVersion?: number } {
  const commandId = idempotencyKey(request);
  const version = expectedVersion(request);
  return {
    ...(commandId === undefined ? {} : { commandId }),
    ...(version === undefined ? {} : { expectedVersion: version }),
  };
}

/** Reads an id from the path; it must be usable as an aggregate id (else 400, never a 500 later). */
function decodePathSegment(segment: string, aggregateType: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw new RequestValidationError('The path is not valid URL encoding', [
      { path: 'path', message: 'invalid percent-encoding', code: 'invalid_format' },
    ]);
  }
  try {
    assertAggregate({ type: aggregateType, id });
  } catch (error) {
    if (!(error instanceof InvalidAggregateError)) throw error;
    throw new RequestValidationError(`The ${aggregateType.toLowerCase()} id in the path is not valid`, [
      { path: 'path', message: error.message, code: 'invalid_format' },
    ]);
  }
  return id;
}

function taskResponse(
  status: number,
  task: Task,
  replayed: boolean,
  extra: Record<string, string> = {},
): HttpResponse {
  return json(status, task, {
    etag: `"${task.version}"`,
    'last-command-id': task.lastCommandId,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
    ...extra,
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

function errorResponse(error: unknown, request: HttpRequest, logger: ErrorLogger): HttpResponse {
  if (error instanceof TaskServiceError && error.status < 500) {
    const details =
      error instanceof RequestValidationError ? { issues: error.issues } : { context: error.context };
    const allowed = error instanceof RouteNotFoundError && error.status === 405;
    return json(
      error.status,
      { error: { code: error.code, message: error.message, ...details } },
      allowed ? { allow: (error.context.allowed as string[]).join(', ') } : {},
    );
  }
  if (error instanceof ConcurrencyError) {
    return json(409, {
      error: {
        code: 'CONCURRENT_MODIFICATION',
        message: `${error.message}; read the task again and retry`,
        context: error.context,
      },
    });
  }
  if (error instanceof AppendValidationError || error instanceof PayloadValidationError) {
    // Input the body schema let through but the event log cannot store (e.g. a lone surrogate).
    return json(400, {
      error: {
        code: 'REQUEST_INVALID',
        message: 'The request cannot be stored as given',
        issues: error.issues,
      },
    });
  }
  if (error instanceof CommandIdNotIncreasingError) {
    return json(409, {
      error: {
        code: 'IDEMPOTENCY_KEY_CONFLICT',
        message: 'The Idempotency-Key is older than the last change of this resource; use a new ULID',
        context: error.context,
      },
    });
  }
  if (error instanceof EventLogBusyError) {
    return json(
      503,
      { error: { code: 'BUSY', message: 'The event log is busy; nothing was written, try again' } },
      { 'retry-after': '1' },
    );
  }
  logger.error('Request failed', {
    method: request.method,
    path: request.path,
    error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error,
  });
  return json(500, { error: { code: 'INTERNAL', message: 'The request failed; it was logged' } });
}
