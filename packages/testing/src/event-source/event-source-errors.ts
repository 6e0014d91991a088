/**
 * Errors of the Lambda event-source emulation and the factories.
 */
import { TidemarkError, type TidemarkErrorOptions } from '@tidemark/core';

/** The base class of the errors thrown by the Lambda event-source emulation and the factories. */
export class EventSourceError extends TidemarkError {
  constructor(code: string, message: string, options: TidemarkErrorOptions = {}) {
    super(code, message, options);
    this.name = 'EventSourceError';
  }
}

/** An option of an event source, a factory or a fake context is invalid (unknown key, out of range). */
export class EventSourceConfigurationError extends EventSourceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('EVENT_SOURCE_CONFIG_INVALID', message, { context });
    this.name = 'EventSourceConfigurationError';
  }
}

/** An event source was used in the wrong state: drained before `start()`, started twice or after `stop()`. */
export class EventSourceStateError extends EventSourceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('EVENT_SOURCE_STATE_INVALID', message, { context });
    this.name = 'EventSourceStateError';
  }
}

/** What one shard still had to do when a drain timed out. */
export interface PendingShardWork {
  /** The shard id. */
  readonly shardId: string;
  /** Records read from the shard and not yet handled or given up on. */
  readonly bufferedRecords: number;
  /** The sequence number of the first of them, if any. */
  readonly firstPendingSequenceNumber?: string;
  /** Whether an invocation is running now. */
  readonly invocationInFlight: boolean;
  /** Invocations of the batch being retried so far (0 when none is being retried). */
  readonly retryingBatchInvocations: number;
  /** Whether the shard has been read up to its end since the drain started. */
  readonly caughtUp: boolean;
  /** Whether the shard waits for its parent shard to finish. */
  readonly waitingForParent: boolean;
  /** The last error reading the shard, while reads keep failing (throttling, network). */
  readonly lastReadError?: string;
}

/** `drain()` did not finish within its timeout. `pending` says which shards still had work. */
export class EventSourceDrainTimeoutError extends EventSourceError {
  /** Per shard, what was still pending. */
  readonly pending: readonly PendingShardWork[];

  constructor(source: string, timeoutMs: number, pending: readonly PendingShardWork[]) {
    const described = pending
      .map((shard) => {
        const parts = [`${shard.bufferedRecords} record(s) pending`];
        if (shard.firstPendingSequenceNumber) parts.push(`from ${shard.firstPendingSequenceNumber}`);
        if (shard.invocationInFlight) parts.push('an invocation in flight');
        if (shard.retryingBatchInvocations > 0)
          parts.push(`a batch retried after ${shard.retryingBatchInvocations} invocation(s)`);
        if (!shard.caughtUp) parts.push('not read to its end yet');
        if (shard.waitingForParent) parts.push('waiting for its parent shard');
        if (shard.lastReadError) parts.push(`reads failing with ${shard.lastReadError}`);
        return `${shard.shardId}: ${parts.join(', ')}`;
      })
      .join('; ');
    super('EVENT_SOURCE_DRAIN_TIMEOUT', `${source} did not drain within ${timeoutMs} ms: ${described}`, {
      context: { source, timeoutMs, pending },
    });
    this.name = 'EventSourceDrainTimeoutError';
    this.pending = pending;
  }
}

/**
 * The event source stopped: reading the stream failed with an error that retrying cannot fix
 * (stream gone, access denied), or the `onFailure` callback threw.
 */
export class EventSourceFailedError extends EventSourceError {
  constructor(source: string, operation: string, cause: unknown, context: Record<string, unknown> = {}) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super('EVENT_SOURCE_FAILED', `${source} stopped: ${operation} failed with ${reason}`, {
      cause,
      context: { ...context, source, operation },
    });
    this.name = 'EventSourceFailedError';
  }
}

/** The handler ran past the function timeout, so the invocation counts as failed (as on Lambda). */
export class FunctionTimeoutError extends EventSourceError {
  /** The function timeout, in seconds. */
  readonly timeoutSeconds: number;

  constructor(timeoutSeconds: number, awsRequestId: string) {
    super('LAMBDA_FUNCTION_TIMEOUT', `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, {
      context: { timeoutSeconds, awsRequestId },
    });
    this.name = 'FunctionTimeoutError';
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** A handler called the deprecated `context.done`, `context.fail` or `context.succeed`. */
export class LambdaContextMethodError extends EventSourceError {
  constructor(method: string) {
    super(
      'LAMBDA_CONTEXT_METHOD_UNSUPPORTED',
      `context.${method}() is deprecated and not supported by the fake Lambda context: return (or throw from) an async handler instead`,
      { context: { method } },
    );
    this.name = 'LambdaContextMethodError';
  }
}
