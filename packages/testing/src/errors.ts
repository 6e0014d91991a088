/**
 * Errors thrown by `@tidemark/testing`. Every error is a {@link LocalAwsError} (a core
 * `TidemarkError`): a stable `code`, a `context` object and the underlying `cause`.
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
