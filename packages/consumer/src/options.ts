/** Option validation: everything is checked when the consumer is created, so typos fail at cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AnyEventCatalog, TidemarkLogger } from '@tidemark/core';
import { type MetricReporter, metricReporter, resolveClient, resolveLogger } from '@tidemark/core/internal';
import type { ConsumerOptions, DynamoDbClientOption } from './types';

/** Defaults of every optional setting. */
export const CONSUMER_DEFAULTS = Object.freeze({
  firstContact: 'require-first' as const,
  unreadableEvents: 'hold' as const,
  maxAttempts: 3,
  gapTimeoutSeconds: 900,
  maxHeldPerAggregate: 1000,
  maxVersionsAhead: 10_000,
  transactional: false,
  concurrency: 8,
  timeoutMarginMs: 1000,
});

const OPTION_KEYS = new Set([
  'name',
  'events',
  'handlers',
  'checkpoints',
  'deadLetters',
  'firstContact',
  'unreadableEvents',
  'maxAttempts',
  'gapTimeoutSeconds',
  'maxHeldPerAggregate',
  'maxVersionsAhead',
  'transactional',
  'concurrency',
  'timeoutMarginMs',
  'logger',
  'metrics',
  'onBatchSummary',
  'clock',
]);
const CHECKPOINT_KEYS = new Set(['tableName', 'dynamodb']);
const DEAD_LETTER_KEYS = new Set(['tableName', 'dynamodb']);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/** Options after validation, with defaults applied and clients built. */
export interface ResolvedConsumerOptions {
  readonly name: string;
  readonly catalog: AnyEventCatalog;
  readonly handlers: Readonly<Record<string, (event: never, context: never) => unknown>>;
  readonly checkpointTable: string;
  readonly checkpointClient: DynamoDBClient;
  readonly deadLetterTable: string;
  readonly deadLetterClient: DynamoDBClient;
  readonly firstContact: 'any-version' | 'require-first';
  readonly unreadableEvents: 'hold' | 'park';
  readonly maxAttempts: number;
  readonly gapTimeoutSeconds: number;
  readonly maxHeldPerAggregate: number;
  readonly maxVersionsAhead: number;
  readonly transactional: boolean;
  readonly concurrency: number;
  readonly timeoutMarginMs: number;
  readonly logger: TidemarkLogger;
  readonly metric: MetricReporter;
  readonly onBatchSummary: ((summary: import('./types').BatchSummary) => void) | undefined;
  readonly clock: () => Date;
}

/** Validates options (unknown keys and bad values are a `TypeError`) and applies defaults. */
export function resolveConsumerOptions(
  options: ConsumerOptions<AnyEventCatalog, boolean>,
  where: string,
): ResolvedConsumerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object`);
  }
  rejectUnknownKeys(options, OPTION_KEYS, where);
  const { name, events, handlers, checkpoints, deadLetters } = options;

  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new TypeError(
      `${where}: name must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit; got ${JSON.stringify(name)}`,
    );
  }
  if (
    typeof events !== 'object' ||
    events === null ||
    typeof events.parse !== 'function' ||
    typeof events.find !== 'function' ||
    !Array.isArray(events.types)
  ) {
    throw new TypeError(`${where}: events must be an event catalog from defineCatalog()`);
  }
  if (typeof handlers !== 'object' || handlers === null) {
    throw new TypeError(`${where}: handlers must be an object of handlers by event type`);
  }
  const handlerTypes = Object.keys(handlers);
  for (const type of handlerTypes) {
    if (!events.has(type)) {
      throw new TypeError(
        `${where}: handler for "${type}", which the catalog does not declare (it knows ${events.types.map((t) => `"${t}"`).join(', ')})`,
      );
    }
    if (typeof (handlers as Record<string, unknown>)[type] !== 'function') {
      throw new TypeError(`${where}: handlers.${type} must be a function`);
    }
  }
  if (handlerTypes.length === 0) {
    throw new TypeError(`${where}: handlers is empty; a consumer needs at least one handler`);
  }

  if (typeof checkpoints !== 'object' || checkpoints === null) {
    throw new TypeError(`${where}: checkpoints must be { tableName, dynamodb? }`);
  }
  rejectUnknownKeys(checkpoints, CHECKPOINT_KEYS, `${where}: checkpoints`);
  checkTableName(checkpoints.tableName, `${where}: checkpoints.tableName`);
  checkClientOption(checkpoints.dynamodb, `${where}: checkpoints.dynamodb`);

  if (deadLetters !== undefined) {
    if (typeof deadLetters !== 'object' || deadLetters === null) {
      throw new TypeError(`${where}: deadLetters must be { tableName?, dynamodb? }`);
    }
    rejectUnknownKeys(deadLetters, DEAD_LETTER_KEYS, `${where}: deadLetters`);
    if (deadLetters.tableName !== undefined)
      checkTableName(deadLetters.tableName, `${where}: deadLetters.tableName`);
    checkClientOption(deadLetters.dynamodb, `${where}: deadLetters.dynamodb`);
  }

  const firstContact = options.firstContact ?? CONSUMER_DEFAULTS.firstContact;
  if (firstContact !== 'any-version' && firstContact !== 'require-first') {
    throw new TypeError(`${where}: firstContact must be 'any-version' or 'require-first'`);
  }
  const unreadableEvents = options.unreadableEvents ?? CONSUMER_DEFAULTS.unreadableEvents;
  if (unreadableEvents !== 'hold' && unreadableEvents !== 'park') {
    throw new TypeError(`${where}: unreadableEvents must be 'hold' or 'park'`);
  }
  const maxAttempts = integer(options.maxAttempts, CONSUMER_DEFAULTS.maxAttempts, 1, `${where}: maxAttempts`);
  const gapTimeoutSeconds = number(
    options.gapTimeoutSeconds,
    CONSUMER_DEFAULTS.gapTimeoutSeconds,
    0,
    `${where}: gapTimeoutSeconds`,
  );
  const maxHeldPerAggregate = integer(
    options.maxHeldPerAggregate,
    CONSUMER_DEFAULTS.maxHeldPerAggregate,
    1,
    `${where}: maxHeldPerAggregate`,
  );
  if (maxHeldPerAggregate > 2000) {
    throw new TypeError(
      `${where}: maxHeldPerAggregate must be 2000 or less (the index lives in one 400 KB item)`,
    );
  }
  const maxVersionsAhead = integer(
    options.maxVersionsAhead,
    CONSUMER_DEFAULTS.maxVersionsAhead,
    1,
    `${where}: maxVersionsAhead`,
  );
  const concurrency = integer(options.concurrency, CONSUMER_DEFAULTS.concurrency, 1, `${where}: concurrency`);
  const timeoutMarginMs = number(
    options.timeoutMarginMs,
    CONSUMER_DEFAULTS.timeoutMarginMs,
    0,
    `${where}: timeoutMarginMs`,
  );
  const transactional = options.transactional ?? CONSUMER_DEFAULTS.transactional;
  if (typeof transactional !== 'boolean') throw new TypeError(`${where}: transactional must be a boolean`);

  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (options.logger !== undefined && typeof options.logger?.[level] !== 'function') {
      throw new TypeError(
        `${where}: logger must have debug, info, warn and error methods (missing ${level})`,
      );
    }
  }
  const logger = resolveLogger(options.logger, 'tidemark-consumer', where);
  const metric = metricReporter(options.metrics, logger, where);
  if (options.onBatchSummary !== undefined && typeof options.onBatchSummary !== 'function') {
    throw new TypeError(`${where}: onBatchSummary must be a function`);
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError(`${where}: clock must be a function returning a Date`);
  }

  const checkpointClient = resolveDynamoDb(checkpoints.dynamodb);
  const deadLetterClient =
    deadLetters?.dynamodb === undefined ? checkpointClient : resolveDynamoDb(deadLetters.dynamodb);

  return {
    name,
    catalog: events,
    handlers: handlers as ResolvedConsumerOptions['handlers'],
    checkpointTable: checkpoints.tableName,
    checkpointClient,
    deadLetterTable: deadLetters?.tableName ?? checkpoints.tableName,
    deadLetterClient,
    firstContact,
    unreadableEvents,
    maxAttempts,
    gapTimeoutSeconds,
    maxHeldPerAggregate,
    maxVersionsAhead,
    transactional,
    concurrency,
    timeoutMarginMs,
    logger,
    metric,
    onBatchSummary: options.onBatchSummary,
    clock: options.clock ?? (() => new Date()),
  };
}

/** Builds a DynamoDB client from a client or a client config. */
export function resolveDynamoDb(option: DynamoDbClientOption | undefined): DynamoDBClient {
  return resolveClient<DynamoDBClient>(option, (config) => new DynamoDBClient(config), 'dynamodb');
}

/** @internal */
export function rejectUnknownKeys(value: object, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      throw new TypeError(`${where}: unknown option "${key}"; expected one of ${[...allowed].join(', ')}`);
    }
  }
}

function checkTableName(value: unknown, where: string): void {
  if (typeof value !== 'string' || !TABLE_PATTERN.test(value)) {
    throw new TypeError(
      `${where} must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .); got ${JSON.stringify(value)}`,
    );
  }
}

function checkClientOption(value: unknown, where: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new TypeError(
      `${where} must be a DynamoDBClient or a client config ({ region, endpoint, credentials })`,
    );
  }
}

function integer(value: number | undefined, fallback: number, min: number, where: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min)
    throw new TypeError(`${where} must be an integer of ${min} or more`);
  return result;
}

function number(value: number | undefined, fallback: number, min: number, where: string): number {
  const result = value ?? fallback;
  if (typeof result !== 'number' || !Number.isFinite(result) || result < min) {
    throw new TypeError(`${where} must be a number of ${min} or more`);
  }
  return result;
}
