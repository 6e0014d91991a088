/**
 * Errors thrown by `@tidemark/testing`. Every error is a core `TidemarkError` (a stable `code`, a
 * `context` object and the underlying `cause`): a {@link LocalAwsError} for starting and talking to
 * local AWS, an {@link EventSourceError} for the Lambda event-source emulation.
 */
import { TidemarkError, type TidemarkErrorOptions } from '@tidemark/core';

/** The base class of the errors thrown while starting, using or stopping local AWS. */
export class LocalAwsError extends TidemarkError {
  constructor(code: string, message: string, options: TidemarkErrorOptions = {}) {
    super(code, message, options);
    this.name = 'LocalAwsError';
  }
}

/** The embedded mode needs Java (DynamoDB Local is a Java program) and no `java` was found. */
export class JavaNotFoundError extends LocalAwsError {
  constructor(javaCommand: string, options: ErrorOptions = {}) {
    super(
      'JAVA_NOT_FOUND',
      [
        `The embedded local AWS needs Java 17+ to run DynamoDB Local, and "${javaCommand}" could not be run.`,
        'Fix it in one of two ways:',
        '  - install a JRE, for example `sudo apt-get install -y default-jre-headless` (Debian/Ubuntu)',
        '    or `brew install openjdk` (macOS), or set JAVA_HOME to an installed one;',
        '  - or run a Docker engine, so local AWS uses LocalStack through testcontainers',
        "    (mode 'auto' or 'localstack'), or set AWS_ENDPOINT_URL to a running LocalStack.",
      ].join('\n'),
      { ...options, context: { javaCommand } },
    );
    this.name = 'JavaNotFoundError';
  }
}

/** An emulator process (DynamoDB Local or kinesis-mock) exited or did not answer in time. */
export class EmulatorStartError extends LocalAwsError {
  /** Which emulator: `dynamodb-local` or `kinesis-mock`. */
  readonly emulator: string;

  constructor(
    emulator: string,
    reason: string,
    context: Record<string, unknown> = {},
    options: ErrorOptions = {},
  ) {
    super('EMULATOR_START_FAILED', `${emulator} did not start: ${reason}`, {
      ...options,
      context: { ...context, emulator },
    });
    this.name = 'EmulatorStartError';
    this.emulator = emulator;
  }
}

/** The `localstack` mode was asked for but no Docker engine answers, or the container failed. */
export class LocalStackStartError extends LocalAwsError {
  constructor(reason: string, context: Record<string, unknown> = {}, options: ErrorOptions = {}) {
    super('LOCALSTACK_START_FAILED', `LocalStack did not start: ${reason}`, { ...options, context });
    this.name = 'LocalStackStartError';
  }
}

/** The `endpoint` mode was asked for without an endpoint, or the endpoint does not answer. */
export class EndpointUnavailableError extends LocalAwsError {
  constructor(reason: string, context: Record<string, unknown> = {}, options: ErrorOptions = {}) {
    super('ENDPOINT_UNAVAILABLE', `Cannot use the local AWS endpoint: ${reason}`, { ...options, context });
    this.name = 'EndpointUnavailableError';
  }
}

/** Options given to `startLocalAws`, `faults.set` or a helper are invalid (unknown key, bad rate). */
export class LocalAwsOptionsError extends LocalAwsError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('LOCAL_AWS_OPTIONS_INVALID', message, { context });
    this.name = 'LocalAwsOptionsError';
  }
}

/** The fault-control API of the edge refused a request or could not be reached. */
export class FaultControlError extends LocalAwsError {
  constructor(message: string, context: Record<string, unknown> = {}, options: ErrorOptions = {}) {
    super('FAULT_CONTROL_FAILED', message, { ...options, context });
    this.name = 'FaultControlError';
  }
}

/** A table or stream did not become ACTIVE in time. */
export class ResourceNotReadyError extends LocalAwsError {
  constructor(kind: 'table' | 'stream', name: string, lastStatus: string | undefined, timeoutMs: number) {
    super(
      'RESOURCE_NOT_READY',
      `${kind} ${name} is not ACTIVE after ${timeoutMs} ms (last status: ${lastStatus ?? 'unknown'})`,
      { context: { kind, name, lastStatus, timeoutMs } },
    );
    this.name = 'ResourceNotReadyError';
  }
}

/**
 * A request to an in-memory fake (`FakeDynamoDB`, `FakeKinesis`) uses an operation or a parameter the
 * fake does not implement. It is not an AWS error: the fake refuses rather than guess.
 */
export class FakeUnsupportedError extends LocalAwsError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('FAKE_UNSUPPORTED', message, { context });
    this.name = 'FakeUnsupportedError';
  }
}

/** The Vitest helpers were used without the testing package's global setup. */
export class LocalAwsNotProvidedError extends LocalAwsError {
  constructor() {
    super(
      'LOCAL_AWS_NOT_PROVIDED',
      [
        'No local AWS was provided to this test worker.',
        "Add `globalSetup: ['@tidemark/testing/vitest-global-setup']` to the `test` section of your Vitest config,",
        'or call startLocalAws() yourself in beforeAll.',
      ].join('\n'),
    );
    this.name = 'LocalAwsNotProvidedError';
  }
}

// ---- Lambda event-source emulation and factories ---------------------------------------------

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
