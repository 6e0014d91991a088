import { TidemarkError, type ValidationIssue } from '@tidemark/core';

/**
 * Errors of the task service. Each carries the HTTP status the API answers with, so that the
 * route code maps errors in one place and a user error never becomes a 500.
 */
export class TaskServiceError extends TidemarkError {
  /** The HTTP status code the API answers with. */
  readonly status: number;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = 'TaskServiceError';
    this.status = status;
  }
}

/** A request body or header failed validation (HTTP 400). */
export class RequestValidationError extends TaskServiceError {
  /** Every problem found. */
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[]) {
    super('REQUEST_INVALID', 400, message, { context: { issues } });
    this.name = 'RequestValidationError';
    this.issues = issues;
  }
}

/** A request body is not JSON (HTTP 400). */
export class MalformedJsonError extends TaskServiceError {
  constructor(cause: unknown) {
    super('JSON_MALFORMED', 400, 'The request body is not valid JSON', { cause });
    this.name = 'MalformedJsonError';
  }
}

/**
 * A request body that is not JSON: a `Content-Type` other than `application/json` or
 * `application/*+json`, a charset other than UTF-8, or a body without `Content-Type` (HTTP 415).
 */
export class UnsupportedMediaTypeError extends TaskServiceError {
  constructor(contentType: string | undefined, reason: string) {
    super(
      'MEDIA_TYPE_UNSUPPORTED',
      415,
      `The request body must be JSON (Content-Type: application/json): ${reason}`,
      { context: { contentType: contentType ?? null, accepted: ['application/json', 'application/*+json'] } },
    );
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** A request body larger than the API reads (HTTP 413). */
export class BodyTooLargeError extends TaskServiceError {
  constructor(limitBytes: number) {
    super('BODY_TOO_LARGE', 413, `The body exceeds ${limitBytes} bytes`, { context: { limitBytes } });
    this.name = 'BodyTooLargeError';
  }
}

/** A request body whose bytes are not valid UTF-8 (HTTP 400): nothing is guessed or replaced. */
export class BodyEncodingError extends TaskServiceError {
  constructor(cause: unknown) {
    super('BODY_ENCODING_INVALID', 400, 'The request body is not valid UTF-8', { cause });
    this.name = 'BodyEncodingError';
  }
}

/** No route matches the method and path (HTTP 404 or 405). */
export class RouteNotFoundError extends TaskServiceError {
  constructor(method: string, path: string, allowed: readonly string[] = []) {
    super(
      allowed.length > 0 ? 'METHOD_NOT_ALLOWED' : 'ROUTE_NOT_FOUND',
      allowed.length > 0 ? 405 : 404,
      allowed.length > 0 ? `${method} is not allowed on ${path}` : `No route for ${method} ${path}`,
      { context: { method, path, allowed } },
    );
    this.name = 'RouteNotFoundError';
  }
}

/** The task does not exist, or was deleted (HTTP 404). */
export class TaskNotFoundError extends TaskServiceError {
  constructor(taskId: string, deleted = false) {
    super('TASK_NOT_FOUND', 404, deleted ? `Task ${taskId} was deleted` : `Task ${taskId} does not exist`, {
      context: { taskId, deleted },
    });
    this.name = 'TaskNotFoundError';
  }
}

/** The project does not exist, or was deleted (HTTP 404 on project routes). */
export class ProjectNotFoundError extends TaskServiceError {
  constructor(projectId: string, deleted = false) {
    super(
      'PROJECT_NOT_FOUND',
      404,
      deleted ? `Project ${projectId} was deleted` : `Project ${projectId} does not exist`,
      { context: { projectId, deleted } },
    );
    this.name = 'ProjectNotFoundError';
  }
}

/**
 * A task names a project the task service does not know (never created, or deleted): HTTP 422,
 * since the request is well-formed but refers to something that cannot take a task.
 */
export class UnknownProjectError extends TaskServiceError {
  constructor(projectId: string, deleted: boolean) {
    super(
      'PROJECT_UNKNOWN',
      422,
      deleted
        ? `Project ${projectId} was deleted; it cannot take new tasks`
        : `Project ${projectId} is not known to the task service`,
      { context: { projectId, deleted } },
    );
    this.name = 'UnknownProjectError';
  }
}

/**
 * The client's expected version (`If-Match`) is not the current one: someone else changed the
 * task first (HTTP 409). The body carries the current version so the client can re-read and retry.
 */
export class VersionMismatchError extends TaskServiceError {
  constructor(aggregateId: string, expectedVersion: number, currentVersion: number) {
    super(
      'VERSION_MISMATCH',
      409,
      `${aggregateId} is at version ${currentVersion}, not ${expectedVersion}: it was modified concurrently`,
      { context: { aggregateId, expectedVersion, currentVersion } },
    );
    this.name = 'VersionMismatchError';
  }
}

/**
 * An `Idempotency-Key` was already used on this resource for a different request: another body,
 * another method, another `If-Match`, or it created the resource a command now addresses
 * (HTTP 409: the key cannot stand for two requests).
 */
export class IdempotencyKeyConflictError extends TaskServiceError {
  constructor(aggregateId: string, idempotencyKey: string, reason: string) {
    super(
      'IDEMPOTENCY_KEY_CONFLICT',
      409,
      `Idempotency-Key ${idempotencyKey} cannot be used on ${aggregateId}: ${reason}; use a new key for a new request`,
      { context: { aggregateId, idempotencyKey } },
    );
    this.name = 'IdempotencyKeyConflictError';
  }
}

/** An event history breaks the rules of the aggregate (a bug or a tampered log: HTTP 500). */
export class AggregateHistoryError extends TaskServiceError {
  constructor(message: string, context: Record<string, unknown>) {
    super('AGGREGATE_HISTORY_INVALID', 500, message, { context });
    this.name = 'AggregateHistoryError';
  }
}

/** A required environment variable or setting is missing (Lambda configuration). */
export class MissingSettingError extends TaskServiceError {
  constructor(name: string) {
    super('SETTING_MISSING', 500, `The setting ${name} is missing (set the environment variable ${name})`, {
      context: { name },
    });
    this.name = 'MissingSettingError';
  }
}

/** The demo scenario met a response or a state it did not expect (`npm start` exits 1). */
export class ScenarioFailedError extends TaskServiceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('SCENARIO_FAILED', 500, message, { context });
    this.name = 'ScenarioFailedError';
  }
}
