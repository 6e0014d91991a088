import {
  assertAggregate,
  InvalidAggregateError,
  InvalidCommandIdError,
  parseCommandId,
  type Ulid,
} from '@tidemark/core';
import { PROJECT_AGGREGATE_TYPE, TASK_AGGREGATE_TYPE } from '@tidemark-examples/task-events';
import { z } from 'zod';
import { RequestValidationError, RouteNotFoundError, TaskNotFoundError } from '../errors';
import type { ProjectCommands } from '../project-commands';
import type { Task } from '../task';
import type { TaskCommands } from '../task-commands';
import { readJsonBody } from './json-body';
import { type ErrorLogger, errorResponse, json } from './responses';
import type { HttpHandler, HttpRequest, HttpResponse } from './types';

export type { ErrorLogger } from './responses';

/** Reads tasks from the read model (kept by the read-model listener). */
export interface TaskReader {
  /** The task as the read model has it, or `undefined`. */
  get(taskId: string): Promise<Task | undefined>;
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

/** A lone UTF-16 surrogate: text no store or other service can hold faithfully. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that is valid Unicode (no lone surrogates), with the given length bounds. */
const text = (min: number, max: number) =>
  z
    .string()
    .min(min, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !LONE_SURROGATE.test(value), 'must be valid Unicode (it has a lone surrogate)');

const name = () => z.string().trim().pipe(text(1, 200));

/** A project id: a valid project aggregate id (no control characters, fits a partition key). */
const projectId = text(1, 200).superRefine((value, context) => {
  try {
    assertAggregate({ type: PROJECT_AGGREGATE_TYPE, id: value });
  } catch (error) {
    if (!(error instanceof InvalidAggregateError)) throw error;
    context.addIssue({ code: 'custom', message: error.message });
  }
});

/** The body of `POST /tasks`. */
export const createTaskBody = z.strictObject({
  name: name(),
  summary: text(0, 2000).optional(),
  projectId: projectId.optional(),
});

/** The body of `PATCH /tasks/:id`: absent fields stay unchanged; `summary: null` removes it. */
export const updateTaskBody = z
  .strictObject({
    name: name().optional(),
    summary: text(0, 2000).nullable().optional(),
    done: z.boolean().optional(),
  })
  .refine((body) => body.name !== undefined || body.summary !== undefined || body.done !== undefined, {
    message: 'give at least one of name, summary, done',
  });

/** The body of `POST /projects`. */
export const createProjectBody = z.strictObject({ name: name() });

const TASK_PATH = /^\/tasks\/([^/]+)$/;
const PROJECT_PATH = /^\/projects\/([^/]+)$/;

/**
 * The HTTP API of the task service (and of the small project service), free of any framework:
 * the Node server (`node-server.ts`) and the API Gateway Lambda handler (`lambda-adapter.ts`) both
 * call it. User input never gets a 500: every mistake is a 4xx naming what is wrong.
 *
 * Every task response carries the task's version and last command id, in the body
 * (`version`, `lastCommandId`) and in headers (`ETag: "<version>"`, `Last-Command-Id`). Send the
 * ETag back as `If-Match` to make a change conditional (409 when the task moved on). An
 * `Idempotency-Key` header (a ULID, any one) makes a request safe to retry: the same request with
 * the same key changes nothing and answers as the first time did (`Idempotent-Replayed: true`); a
 * different request with a key already used on that resource answers 409. A key never becomes a
 * command id (the service makes those), so no key can block later commands. Bodies are JSON only
 * (`application/json` or `application/*+json`, UTF-8): anything else answers 415.
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
    const key = idempotencyKey(request);
    const body = parseBody(request, createTaskBody);
    const outcome = await tasks.create(body, key === undefined ? {} : { idempotencyKey: key });
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
      const options = commandOptions(request);
      const body = parseBody(request, updateTaskBody);
      const outcome = await tasks.update(taskId, body, options);
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
    const key = idempotencyKey(request);
    const body = parseBody(request, createProjectBody);
    const outcome = await projects.create(body, key === undefined ? {} : { idempotencyKey: key });
    return json(201, outcome.project, {
      location: `/projects/${encodeURIComponent(outcome.project.id)}`,
      ...projectHeaders(outcome.project, outcome.result === 'replayed'),
    });
  }
  const projectMatch = PROJECT_PATH.exec(path);
  if (projectMatch) {
    const projectId = decodePathSegment(projectMatch[1]!, PROJECT_AGGREGATE_TYPE);
    if (method !== 'DELETE') throw new RouteNotFoundError(method, path, ['DELETE']);
    const key = idempotencyKey(request);
    const outcome = await projects.delete(projectId, key === undefined ? {} : { idempotencyKey: key });
    return json(200, outcome.project, projectHeaders(outcome.project, outcome.result === 'replayed'));
  }
  return undefined;
}

function parseBody<T>(request: HttpRequest, schema: z.ZodType<T>): T {
  const value = readJsonBody(request);
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

/**
 * Reads the `Idempotency-Key` header: a ULID (26 Crockford base32 characters, any case; any time,
 * past or future, since only its identity is used). Anything else answers 400.
 */
function idempotencyKey(request: HttpRequest): Ulid | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  try {
    return parseCommandId(value.trim());
  } catch (error) {
    if (!(error instanceof InvalidCommandIdError)) throw error;
    throw new RequestValidationError('The Idempotency-Key header must be a ULID', [
      { path: 'headers.idempotency-key', message: String(error.context.reason), code: 'invalid_format' },
    ]);
  }
}

/**
 * Reads `If-Match: "3"` (or `W/"3"`, or `3`) as an expected version; `*` (any current version)
 * adds no condition, since the task must exist anyway. Anything else answers 400.
 */
function expectedVersion(request: HttpRequest): number | undefined {
  const value = request.headers['if-match'];
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value.trim());
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RequestValidationError('The If-Match header must be one task version, e.g. "3"', [
      {
        path: 'headers.if-match',
        message: 'expected one ETag such as "3" (a version from 1 to 999999999), or *',
        code: 'invalid_format',
      },
    ]);
  }
  return version;
}

function commandOptions(request: HttpRequest): { idempotencyKey?: Ulid; expectedVersion?: number } {
  const key = idempotencyKey(request);
  const version = expectedVersion(request);
  return {
    ...(key === undefined ? {} : { idempotencyKey: key }),
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
      {
        path: 'path',
        message: 'invalid percent-encoding, or bytes that are not UTF-8',
        code: 'invalid_format',
      },
    ]);
  }
  if (LONE_SURROGATE.test(id)) {
    throw new RequestValidationError(`The ${aggregateType.toLowerCase()} id in the path is not valid`, [
      { path: 'path', message: 'the id has a lone surrogate (not valid Unicode)', code: 'invalid_format' },
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

function projectHeaders(project: { version: number; lastCommandId: string }, replayed: boolean) {
  return {
    etag: `"${project.version}"`,
    'last-command-id': project.lastCommandId,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  };
}
