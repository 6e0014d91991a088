import { PayloadValidationError } from '@tidemark/core';
import {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  EventLogBusyError,
} from '@tidemark/event-log';
import {
  RequestValidationError,
  RouteNotFoundError,
  TaskServiceError,
  UnsupportedMediaTypeError,
} from '../errors';
import type { HttpRequest, HttpResponse } from './types';

/** Something that records errors the API could not attribute to the user (500s). */
export interface ErrorLogger {
  error(message: string, details: Record<string, unknown>): void;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'DELETE']);

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * return json(200, task, { etag: `"${task.version}"` });
 * ```
 */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * The answer to an error: the user's mistakes get their 4xx with every detail; a busy event log
 * gets 503 saying whether anything may have been written; anything else is logged and gets a 500
 * without details.
 *
 * @example
 * ```ts
 * catch (error) { return errorResponse(error, request, console); }
 * ```
 */
export function errorResponse(error: unknown, request: HttpRequest, logger: ErrorLogger): HttpResponse {
  if (error instanceof TaskServiceError && error.status < 500) {
    const details =
      error instanceof RequestValidationError ? { issues: error.issues } : { context: error.context };
    const headers: Record<string, string> = {};
    if (error instanceof RouteNotFoundError && error.status === 405) {
      headers.allow = (error.context.allowed as string[]).join(', ');
    }
    if (error instanceof UnsupportedMediaTypeError) {
      // RFC 9110 §15.5.16 / RFC 5789: tell the client which media types the method takes.
      headers[request.method === 'PATCH' ? 'accept-patch' : 'accept-post'] = 'application/json';
    }
    return json(error.status, { error: { code: error.code, message: error.message, ...details } }, headers);
  }
  // The commands make every command id above the last one they read, so the log refusing one
  // means another writer appended in between: the same answer as a lost version race.
  if (error instanceof ConcurrencyError || error instanceof CommandIdNotIncreasingError) {
    return json(409, {
      error: {
        code: 'CONCURRENT_MODIFICATION',
        message: `${error.message}; read the resource again and retry`,
        context: error.context,
      },
    });
  }
  if (error instanceof AppendValidationError || error instanceof PayloadValidationError) {
    // Input the body schema let through but the event log cannot store.
    return json(400, {
      error: {
        code: 'REQUEST_INVALID',
        message: 'The request cannot be stored as given',
        issues: error.issues,
      },
    });
  }
  const keyed = request.headers['idempotency-key'] !== undefined;
  if (error instanceof EventLogBusyError) {
    if (error.context.outcomeUnknown === true) {
      return json(
        503,
        {
          error: {
            code: 'OUTCOME_UNKNOWN',
            message: keyed
              ? 'The event log did not confirm the change: it may or may not have been written. Retry with the same Idempotency-Key; it is applied at most once'
              : 'The event log did not confirm the change: it may or may not have been written. Read the resource before retrying, and send an Idempotency-Key to make retries safe',
          },
        },
        { 'retry-after': '1' },
      );
    }
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
  // A write that failed this way (a timeout, a lost connection) may still have been written.
  const message = WRITE_METHODS.has(request.method)
    ? keyed
      ? 'The request failed and was logged; the change may or may not have been written. Retry with the same Idempotency-Key; it is applied at most once'
      : 'The request failed and was logged; the change may or may not have been written. Read the resource before retrying'
    : 'The request failed; it was logged';
  return json(500, { error: { code: 'INTERNAL', message } });
}
