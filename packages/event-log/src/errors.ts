/**
 * Errors thrown by `@tidemark/event-log`. Every error is an {@link EventLogError}, itself a core
 * `TidemarkError`: a stable `code`, a `context` with the values that explain it (never payloads),
 * and the underlying `cause` when there is one. `retryable` tells a caller whether trying the same
 * thing again can succeed.
 */
import { TidemarkError, type TidemarkErrorOptions, type ValidationIssue } from '@tidemark/core';
import { formatIssues } from '@tidemark/core/internal';

/** The base class of every error thrown by `@tidemark/event-log`. */
export class EventLogError extends TidemarkError {
  /** Whether trying again (after re-reading state where it applies) can succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: TidemarkErrorOptions & { retryable?: boolean } = {}) {
    super(code, message, options);
    this.name = 'EventLogError';
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Another writer appended to the aggregate first: the version this append expected is taken. Reload
 * the aggregate, decide again, and append again. An HTTP API answers 409 Conflict.
 *
 * When retrying with the same command id, note that it must still be greater than the aggregate's
 * last command id (`context.lastCommandId`); otherwise `append` refuses it with
 * {@link CommandIdNotIncreasingError}. A command that lost a race is a new decision, so give it
 * `newCommandIdAfter(error.context.lastCommandId)` from `@tidemark/core`.
 */
export class ConcurrencyError extends EventLogError {
  /** Always 409: the HTTP status an API maps this error to. */
  readonly httpStatus = 409;

  constructor(
    message: string,
    context: {
      aggregateKey: string;
      commandId: string;
      expectedVersion: number | undefined;
      actualVersion: number;
      lastCommandId: string | undefined;
    },
    options: ErrorOptions = {},
  ) {
    super('CONCURRENCY_CONFLICT', message, { ...options, context, retryable: true });
    this.name = 'ConcurrencyError';
  }
}

/**
 * The command id is not greater than the aggregate's last command id, and no earlier command of
 * the aggregate has it: it is stale (made on a machine whose clock runs behind, or reused).
 * Make a new one with `newCommandIdAfter(error.context.lastCommandId)` from `@tidemark/core`.
 */
export class CommandIdNotIncreasingError extends EventLogError {
  constructor(context: { aggregateKey: string; commandId: string; lastCommandId: string; version: number }) {
    super(
      'COMMAND_ID_NOT_INCREASING',
      `Command id ${context.commandId} is not greater than the last command id ${context.lastCommandId} of ${context.aggregateKey} (version ${context.version}), and no earlier command has it; make a new one with newCommandIdAfter(lastCommandId) from @tidemark/core`,
      { context, retryable: false },
    );
    this.name = 'CommandIdNotIncreasingError';
  }
}

/** One command tried to append more events than one DynamoDB transaction can hold. */
export class TooManyEventsError extends EventLogError {
  constructor(context: { aggregateKey: string; count: number; limit: number }) {
    super(
      'TOO_MANY_EVENTS',
      `A command may append at most ${context.limit} events (one DynamoDB transaction holds 100 items, one of them the version check); got ${context.count} for ${context.aggregateKey}`,
      { context, retryable: false },
    );
    this.name = 'TooManyEventsError';
  }
}

/**
 * The input of `append` is malformed: no events, a bad expected version, an event whose type
 * belongs to another aggregate type, or a payload that DynamoDB cannot store and give back
 * unchanged (a `Date`, a `Set`, a `Map`, binary data, a class instance, `NaN`, an unsafe integer,
 * `undefined` in an array, a string with a lone surrogate).
 */
export class AppendValidationError extends EventLogError {
  /** Every problem found. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], context: Record<string, unknown> = {}) {
    super('APPEND_INVALID', `Invalid append: ${formatIssues(issues)}`, {
      context: { ...context, issues },
      retryable: false,
    });
    this.name = 'AppendValidationError';
    this.issues = issues;
  }
}

/**
 * The event log kept refusing the write for transient reasons (transaction conflicts, throttling)
 * after the configured attempts. When every attempt was refused (`context.outcomeUnknown` false),
 * nothing was written. When the last attempt failed with a server error (`InternalServerError`,
 * `ServiceUnavailable`), DynamoDB may still have committed it (`outcomeUnknown` true): retry with the
 * same command id, which returns the first outcome if the events were written, never with a new one.
 */
export class EventLogBusyError extends EventLogError {
  constructor(
    context: {
      aggregateKey: string;
      commandId: string;
      attempts: number;
      reasons: string[];
      outcomeUnknown: boolean;
    },
    cause: unknown,
  ) {
    super(
      'EVENT_LOG_BUSY',
      `The event log refused the append of command ${context.commandId} to ${context.aggregateKey} ${context.attempts} times (${context.reasons.join(', ') || 'transient errors'}); ${
        context.outcomeUnknown
          ? 'the last attempt may have been written: try again later with the same command id'
          : 'these attempts wrote nothing; try again later with the same command id'
      }`,
      { context, cause, retryable: true },
    );
    this.name = 'EventLogBusyError';
  }
}

/** An item read from the event log is not a valid event (written by something else, or corrupted). */
export class CorruptEventLogItemError extends EventLogError {
  constructor(context: { tableName: string; pk: unknown; sk: unknown }, cause: unknown) {
    super(
      'EVENT_LOG_ITEM_INVALID',
      `Item ${String(context.pk)} / ${String(context.sk)} of table ${context.tableName} is not a valid event`,
      { context, cause, retryable: false },
    );
    this.name = 'CorruptEventLogItemError';
  }
}
