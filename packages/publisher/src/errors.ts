/**
 * Errors thrown by the stream publisher and replay of `@tidemark/publisher` (the event log's own
 * errors live in `@tidemark/event-log`, re-exported here). Every error is a {@link PublisherError}, itself a core
 * `TidemarkError`: a stable `code`, a `context` with the values that explain it (never payloads),
 * and the underlying `cause` when there is one. `retryable` tells a caller whether trying the same
 * thing again can succeed.
 */
import { TidemarkError, type TidemarkErrorOptions } from '@tidemark/core';

/** The base class of every error thrown by `@tidemark/publisher`. */
export class PublisherError extends TidemarkError {
  /** Whether trying again (after re-reading state where it applies) can succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: TidemarkErrorOptions & { retryable?: boolean } = {}) {
    super(code, message, options);
    this.name = 'PublisherError';
    this.retryable = options.retryable ?? false;
  }
}

/** A replay stopped before the end because some events could not be published. */
export class ReplayInterruptedError extends PublisherError {
  /** Pass it as `resumeToken` to continue where the replay stopped. */
  readonly resumeToken: string;

  constructor(
    message: string,
    context: { resumeToken: string; published: number; failed: number },
    options: ErrorOptions = {},
  ) {
    super('REPLAY_INTERRUPTED', message, { ...options, context, retryable: true });
    this.name = 'ReplayInterruptedError';
    this.resumeToken = context.resumeToken;
  }
}

/** A resume token could not be read, or belongs to another replay (other table, aggregate or segment). */
export class InvalidResumeTokenError extends PublisherError {
  constructor(reason: string, options: ErrorOptions = {}) {
    super('RESUME_TOKEN_INVALID', `Invalid replay resume token: ${reason}`, {
      ...options,
      context: { reason },
    });
    this.name = 'InvalidResumeTokenError';
  }
}
