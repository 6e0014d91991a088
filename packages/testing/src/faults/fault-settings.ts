/**
 * The fault settings a test gives the edge (`aws.faults.set`), and their validation: unknown keys
 * and out-of-range values are a {@link LocalAwsOptionsError}, so a typo fails the test instead of
 * silently injecting nothing.
 */
import { LocalAwsOptionsError } from '../errors';

/** The error a throttled Kinesis call gets (both are HTTP 400 and retryable by the SDK). */
export type KinesisThrottleError = 'ProvisionedThroughputExceededException' | 'LimitExceededException';

/** The error a failed DynamoDB (or DynamoDB Streams) call gets. */
export type DynamoDbFaultError =
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'RequestLimitExceeded'
  | 'InternalServerError';

/** Faults for Kinesis calls. */
export interface KinesisFaultSettings {
  /**
   * The fraction (0–1) of PutRecords entries that fail with `ProvisionedThroughputExceededException`
   * while the call itself succeeds (HTTP 200, `FailedRecordCount` > 0). Only the surviving entries
   * reach the engine. Default: `0`.
   */
  readonly putRecordsEntryFailureRate?: number;
  /** The fraction (0–1) of whole Kinesis calls (of `operations`) rejected with `throttleError`. Default: `0`. */
  readonly throttleRate?: number;
  /** The error a throttled call gets. Default: `'ProvisionedThroughputExceededException'`. */
  readonly throttleError?: KinesisThrottleError;
  /**
   * The Kinesis operations `throttleRate` applies to, e.g. `['PutRecords', 'GetRecords']`.
   * Default: every operation.
   */
  readonly operations?: readonly string[];
}

/** Faults for DynamoDB or DynamoDB Streams calls. */
export interface DynamoDbFaultSettings {
  /** The fraction (0–1) of calls (of `operations`) that fail with `error`. Default: `0`. */
  readonly failureRate?: number;
  /**
   * The operations that may fail, e.g. `['TransactWriteItems', 'UpdateItem']` (or for DynamoDB
   * Streams `['GetRecords']`). Default: every operation.
   */
  readonly operations?: readonly string[];
  /**
   * The error: `ProvisionedThroughputExceededException`, `ThrottlingException` and
   * `RequestLimitExceeded` are HTTP 400, `InternalServerError` is HTTP 500 (all retryable by the SDK).
   * Default: `'ProvisionedThroughputExceededException'`.
   */
  readonly error?: DynamoDbFaultError;
}

/** What the edge injects. Every field is optional; `{}` injects nothing. */
export interface FaultSettings {
  /** Seed of the pseudo-random decisions: the same seed and the same calls give the same faults. Default: `1`. */
  readonly seed?: number;
  /** Milliseconds added before every AWS call is answered (faulted or not). Default: `0`. */
  readonly latencyMs?: number;
  /** Stop injecting after this many faults (one failed PutRecords entry counts as one). Default: no limit. */
  readonly maxFaults?: number;
  /** Kinesis faults. Default: none. */
  readonly kinesis?: KinesisFaultSettings;
  /** DynamoDB faults. Default: none. */
  readonly dynamodb?: DynamoDbFaultSettings;
  /** DynamoDB Streams faults. Default: none. */
  readonly dynamodbStreams?: DynamoDbFaultSettings;
}

const KINESIS_THROTTLE_ERRORS: readonly KinesisThrottleError[] = [
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
];
const DYNAMODB_ERRORS: readonly DynamoDbFaultError[] = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
];

/**
 * Checks fault settings and returns a normalised copy; unknown keys and out-of-range values throw
 * {@link LocalAwsOptionsError}, so a typo fails the test instead of silently injecting nothing.
 *
 * @example
 * ```ts
 * import { validateFaultSettings } from './fault-settings';
 *
 * validateFaultSettings({ seed: 7, kinesis: { putRecordsEntryFailureRate: 0.3 } });
 * ```
 */
export function validateFaultSettings(input: unknown): FaultSettings {
  const root = asObject(input, 'faults');
  checkKeys(root, ['seed', 'latencyMs', 'maxFaults', 'kinesis', 'dynamodb', 'dynamodbStreams'], 'faults');
  const settings: {
    seed?: number;
    latencyMs?: number;
    maxFaults?: number;
    kinesis?: KinesisFaultSettings;
    dynamodb?: DynamoDbFaultSettings;
    dynamodbStreams?: DynamoDbFaultSettings;
  } = {};
  if (root.seed !== undefined) settings.seed = integer(root.seed, 'faults.seed', -(2 ** 31), 2 ** 32);
  if (root.latencyMs !== undefined)
    settings.latencyMs = integer(root.latencyMs, 'faults.latencyMs', 0, 60_000);
  if (root.maxFaults !== undefined) {
    settings.maxFaults = integer(root.maxFaults, 'faults.maxFaults', 0, Number.MAX_SAFE_INTEGER);
  }
  if (root.kinesis !== undefined) {
    const kinesis = asObject(root.kinesis, 'faults.kinesis');
    checkKeys(
      kinesis,
      ['putRecordsEntryFailureRate', 'throttleRate', 'throttleError', 'operations'],
      'faults.kinesis',
    );
    const out: {
      putRecordsEntryFailureRate?: number;
      throttleRate?: number;
      throttleError?: KinesisThrottleError;
      operations?: readonly string[];
    } = {};
    if (kinesis.putRecordsEntryFailureRate !== undefined) {
      out.putRecordsEntryFailureRate = rate(
        kinesis.putRecordsEntryFailureRate,
        'faults.kinesis.putRecordsEntryFailureRate',
      );
    }
    if (kinesis.throttleRate !== undefined)
      out.throttleRate = rate(kinesis.throttleRate, 'faults.kinesis.throttleRate');
    if (kinesis.throttleError !== undefined) {
      out.throttleError = oneOf(
        kinesis.throttleError,
        KINESIS_THROTTLE_ERRORS,
        'faults.kinesis.throttleError',
      );
    }
    if (kinesis.operations !== undefined)
      out.operations = operations(kinesis.operations, 'faults.kinesis.operations');
    settings.kinesis = out;
  }
  for (const key of ['dynamodb', 'dynamodbStreams'] as const) {
    if (root[key] === undefined) continue;
    const path = `faults.${key}`;
    const section = asObject(root[key], path);
    checkKeys(section, ['failureRate', 'operations', 'error'], path);
    const out: { failureRate?: number; operations?: readonly string[]; error?: DynamoDbFaultError } = {};
    if (section.failureRate !== undefined) out.failureRate = rate(section.failureRate, `${path}.failureRate`);
    if (section.operations !== undefined)
      out.operations = operations(section.operations, `${path}.operations`);
    if (section.error !== undefined) out.error = oneOf(section.error, DYNAMODB_ERRORS, `${path}.error`);
    settings[key] = out;
  }
  return settings;
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LocalAwsOptionsError(`${path} must be an object`, { path, received: typeof value });
  }
  return value as Record<string, unknown>;
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new LocalAwsOptionsError(`Unknown option ${path}.${key}; known options: ${allowed.join(', ')}`, {
        path,
        key,
        allowed,
      });
    }
  }
}

function rate(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new LocalAwsOptionsError(`${path} must be a number from 0 to 1, got ${JSON.stringify(value)}`, {
      path,
    });
  }
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new LocalAwsOptionsError(
      `${path} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      {
        path,
      },
    );
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new LocalAwsOptionsError(
      `${path} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
      {
        path,
      },
    );
  }
  return value as T;
}

function operations(value: unknown, path: string): readonly string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string' && item)
  ) {
    throw new LocalAwsOptionsError(`${path} must be a non-empty array of operation names`, { path });
  }
  return Object.freeze([...value]);
}
