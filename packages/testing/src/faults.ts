/**
 * Fault injection at the edge: the settings tests choose, their validation, the seeded decisions the
 * edge takes, and the counters that prove faults really happened.
 */
import { LocalAwsOptionsError } from './errors';

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

/** What the edge saw and injected since the last `faults.set` (or since it started). */
export interface FaultStats {
  /** AWS calls that went through the edge. */
  readonly requests: number;
  /** Calls that were delayed by `latencyMs`. */
  readonly delayed: number;
  /** Faults injected in all, each failed PutRecords entry counting as one. */
  readonly injected: number;
  /** Whole Kinesis calls rejected with the throttle error. */
  readonly kinesisThrottled: number;
  /** PutRecords calls that had entries failed by the edge. */
  readonly putRecordsCallsWithFailures: number;
  /** PutRecords entries the edge failed (never sent to the engine). */
  readonly putRecordsEntriesFailed: number;
  /** DynamoDB calls the edge failed. */
  readonly dynamodbFailed: number;
  /** DynamoDB Streams calls the edge failed. */
  readonly dynamodbStreamsFailed: number;
  /** Injected faults per operation, keyed `Service.Operation` (e.g. `Kinesis.PutRecords`, `DynamoDB.UpdateItem`). */
  readonly byOperation: Readonly<Record<string, number>>;
  /**
   * Every AWS call that went through the edge per operation, keyed like `byOperation`, whether or
   * not a fault was injected: `injected / requests` of an operation is its observed fault rate.
   */
  readonly requestsByOperation: Readonly<Record<string, number>>;
}

/** Controls the faults of one edge; every handle has one, including those in Vitest workers. */
export interface FaultControl {
  /** Replaces the fault settings and resets the stats. */
  set(settings: FaultSettings): Promise<void>;
  /** Stops injecting faults (stats are kept until the next `set`). */
  clear(): Promise<void>;
  /** What was injected since the last `set`. */
  stats(): Promise<FaultStats>;
}

/** The AWS services the edge routes. */
export type EdgeService = 'kinesis' | 'dynamodb' | 'dynamodbStreams';

/** The edge's answer for a rejected call: HTTP status, and the error type and JSON body the SDK parses. */
export interface InjectedError {
  /** The HTTP status (400, or 500 for `InternalServerError`). */
  readonly status: number;
  /** The error type, as in `x-amzn-ErrorType`. */
  readonly type: string;
  /** The JSON body, with `__type` and `message`. */
  readonly body: string;
  /** `application/x-amz-json-1.1` (Kinesis) or `application/x-amz-json-1.0` (DynamoDB). */
  readonly contentType: string;
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
 * import { validateFaultSettings } from '@tidemark/testing';
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

/** Stats with every counter at zero. */
export function emptyFaultStats(): FaultStats {
  return {
    requests: 0,
    delayed: 0,
    injected: 0,
    kinesisThrottled: 0,
    putRecordsCallsWithFailures: 0,
    putRecordsEntriesFailed: 0,
    dynamodbFailed: 0,
    dynamodbStreamsFailed: 0,
    byOperation: {},
    requestsByOperation: {},
  };
}

type MutableStats = {
  -readonly [K in keyof FaultStats]: K extends 'byOperation' | 'requestsByOperation'
    ? Record<string, number>
    : number;
};

const SERVICE_LABEL: Record<EdgeService, string> = {
  kinesis: 'Kinesis',
  dynamodb: 'DynamoDB',
  dynamodbStreams: 'DynamoDBStreams',
};

/**
 * The edge's fault state: takes the seeded decisions and counts what it injected. One per edge.
 * Decisions are drawn from one pseudo-random sequence in the order calls arrive, so a test that makes
 * the same calls in the same order with the same seed gets the same faults.
 *
 * @example
 * ```ts
 * import { FaultInjector } from '@tidemark/testing';
 *
 * const injector = new FaultInjector();
 * injector.set({ seed: 3, dynamodb: { failureRate: 1, operations: ['UpdateItem'] } });
 * injector.callError('dynamodb', 'UpdateItem'); // { status: 400, type: 'ProvisionedThroughputExceededException', ... }
 * ```
 */
export class FaultInjector {
  #settings: FaultSettings = {};
  #random: () => number = mulberry32(1);
  #stats: MutableStats = emptyFaultStats() as MutableStats;

  /** The current settings. */
  get settings(): FaultSettings {
    return this.#settings;
  }

  /** Replaces the settings (validated) and resets the stats and the random sequence. */
  set(settings: unknown): FaultSettings {
    const valid = validateFaultSettings(settings);
    this.#settings = valid;
    this.#random = mulberry32(valid.seed ?? 1);
    this.#stats = emptyFaultStats() as MutableStats;
    return valid;
  }

  /** Stops injecting; keeps the stats. */
  clear(): void {
    this.#settings = {};
  }

  /** A copy of the counters. */
  stats(): FaultStats {
    return {
      ...this.#stats,
      byOperation: { ...this.#stats.byOperation },
      requestsByOperation: { ...this.#stats.requestsByOperation },
    };
  }

  /** Counts a call (in all and per operation) and returns the latency to add before answering it. */
  latencyFor(service: EdgeService, operation: string): number {
    this.#stats.requests += 1;
    const key = `${SERVICE_LABEL[service]}.${operation}`;
    this.#stats.requestsByOperation[key] = (this.#stats.requestsByOperation[key] ?? 0) + 1;
    const latency = this.#settings.latencyMs ?? 0;
    if (latency > 0) this.#stats.delayed += 1;
    return latency;
  }

  /** Decides whether a whole call fails, and with which error. */
  callError(service: EdgeService, operation: string): InjectedError | undefined {
    if (service === 'kinesis') {
      const kinesis = this.#settings.kinesis;
      if (
        !kinesis?.throttleRate ||
        !applies(kinesis.operations, operation) ||
        !this.#draw(kinesis.throttleRate)
      ) {
        return undefined;
      }
      this.#count(service, operation, 1);
      this.#stats.kinesisThrottled += 1;
      return kinesisError(kinesis.throttleError ?? 'ProvisionedThroughputExceededException', operation);
    }
    const section = this.#settings[service];
    if (
      !section?.failureRate ||
      !applies(section.operations, operation) ||
      !this.#draw(section.failureRate)
    ) {
      return undefined;
    }
    this.#count(service, operation, 1);
    if (service === 'dynamodb') this.#stats.dynamodbFailed += 1;
    else this.#stats.dynamodbStreamsFailed += 1;
    return dynamoDbError(section.error ?? 'ProvisionedThroughputExceededException', operation);
  }

  /** True when PutRecords entries should be failed (the body must then be rewritten). */
  get putRecordsEntryFaultsActive(): boolean {
    return (this.#settings.kinesis?.putRecordsEntryFailureRate ?? 0) > 0 && this.#remaining() > 0;
  }

  /** Decides, per entry, which PutRecords entries fail. Counted only through {@link recordEntryFailures}. */
  putRecordsEntryFailures(count: number): boolean[] {
    const failureRate = this.#settings.kinesis?.putRecordsEntryFailureRate ?? 0;
    let budget = this.#remaining();
    const failures: boolean[] = [];
    for (let index = 0; index < count; index += 1) {
      const fail = failureRate > 0 && budget > 0 && this.#random() < failureRate;
      if (fail) budget -= 1;
      failures.push(fail);
    }
    return failures;
  }

  /** Counts the PutRecords entries the edge failed in one call. */
  recordEntryFailures(failed: number): void {
    if (failed === 0) return;
    this.#count('kinesis', 'PutRecords', failed);
    this.#stats.putRecordsCallsWithFailures += 1;
    this.#stats.putRecordsEntriesFailed += failed;
  }

  #draw(probability: number): boolean {
    if (this.#remaining() <= 0) return false;
    return this.#random() < probability;
  }

  #remaining(): number {
    const max = this.#settings.maxFaults;
    return max === undefined ? Number.POSITIVE_INFINITY : max - this.#stats.injected;
  }

  #count(service: EdgeService, operation: string, count: number): void {
    this.#stats.injected += count;
    const key = `${SERVICE_LABEL[service]}.${operation}`;
    this.#stats.byOperation[key] = (this.#stats.byOperation[key] ?? 0) + count;
  }
}

/** The error body of a Kinesis call (awsJson1_1), as Kinesis sends it. */
export function kinesisError(type: KinesisThrottleError, operation: string): InjectedError {
  const message =
    type === 'LimitExceededException'
      ? `Rate exceeded for ${operation} (injected by the Tidemark edge)`
      : `Rate exceeded for shard (injected by the Tidemark edge into ${operation})`;
  return {
    status: 400,
    type,
    contentType: 'application/x-amz-json-1.1',
    body: JSON.stringify({ __type: type, message }),
  };
}

/** The error body of a DynamoDB call (awsJson1_0), as DynamoDB sends it. */
export function dynamoDbError(type: DynamoDbFaultError, operation: string): InjectedError {
  const namespace =
    type === 'ThrottlingException' ? 'com.amazon.coral.availability' : 'com.amazonaws.dynamodb.v20120810';
  const messages: Record<DynamoDbFaultError, string> = {
    ProvisionedThroughputExceededException:
      'The level of configured provisioned throughput for the table was exceeded.',
    ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
    RequestLimitExceeded: 'Throughput exceeds the current throughput limit for your account.',
    InternalServerError: 'Internal server error',
  };
  return {
    status: type === 'InternalServerError' ? 500 : 400,
    type,
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify({
      __type: `${namespace}#${type}`,
      message: `${messages[type]} (injected by the Tidemark edge into ${operation})`,
    }),
  };
}

/** A small, fast, seeded pseudo-random generator (mulberry32) returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function applies(operationsList: readonly string[] | undefined, operation: string): boolean {
  return operationsList === undefined || operationsList.includes(operation);
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
