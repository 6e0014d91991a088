/** Option validation: everything is checked when the consumer is created, so typos fail at cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AnyEventCatalog, TidemarkLogger } from '@tidemark/core';
import {
  awsClientOption,
  functionOption,
  LOGGER_OPTION_SCHEMA,
  METRICS_OPTION_SCHEMA,
  type MetricReporter,
  metricReporter,
  parseOptions,
  resolveClient,
  resolveLogger,
} from '@tidemark/core/internal';
import { z } from 'zod';
import type { BatchSummary, ConsumerOptions, DynamoDbClientOption } from './types';

/**
 * The defaults of `createConsumer`'s optional settings (each option's `@default` names its
 * entry). Frozen.
 *
 * @example
 * ```ts
 * import { CONSUMER_DEFAULTS } from '@tidemark/consumer';
 * CONSUMER_DEFAULTS.maxAttempts; // 3
 * ```
 */
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

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/** The schema of a consumer table name (checkpoints, dead letters). */
export const TABLE_NAME_SCHEMA = z
  .string()
  .regex(TABLE_PATTERN, 'expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)');

/** The schema of a DynamoDB client option: a client, or the config to build one. */
export const DYNAMODB_CLIENT_SCHEMA = awsClientOption<DynamoDBClient>('DynamoDBClient');

const CATALOG_SCHEMA = z.custom<AnyEventCatalog>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnyEventCatalog).parse === 'function' &&
    typeof (value as AnyEventCatalog).find === 'function' &&
    typeof (value as AnyEventCatalog).has === 'function' &&
    Array.isArray((value as AnyEventCatalog).types),
  'expected an event catalog from defineCatalog()',
);

const HANDLER_SCHEMA = functionOption<(event: never, context: never) => unknown>('a handler function');

/** The schema of {@link ConsumerOptions}: strict at every level, defaults from {@link CONSUMER_DEFAULTS}. */
const CONSUMER_OPTIONS_SCHEMA = z
  .strictObject({
    name: z
      .string()
      .regex(NAME_PATTERN, 'expected 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit'),
    events: CATALOG_SCHEMA,
    handlers: z.record(z.string(), HANDLER_SCHEMA),
    checkpoints: z.strictObject({
      tableName: TABLE_NAME_SCHEMA,
      dynamodb: DYNAMODB_CLIENT_SCHEMA.optional(),
    }),
    deadLetters: z
      .strictObject({
        tableName: TABLE_NAME_SCHEMA.optional(),
        dynamodb: DYNAMODB_CLIENT_SCHEMA.optional(),
      })
      .optional(),
    firstContact: z.enum(['any-version', 'require-first']).default(CONSUMER_DEFAULTS.firstContact),
    unreadableEvents: z.enum(['hold', 'park']).default(CONSUMER_DEFAULTS.unreadableEvents),
    maxAttempts: z.int().min(1).default(CONSUMER_DEFAULTS.maxAttempts),
    gapTimeoutSeconds: z.number().min(0).default(CONSUMER_DEFAULTS.gapTimeoutSeconds),
    maxHeldPerAggregate: z
      .int()
      .min(1)
      .max(2000, 'expected 2000 or less (the index of held records lives in one 400 KB item)')
      .default(CONSUMER_DEFAULTS.maxHeldPerAggregate),
    maxVersionsAhead: z.int().min(1).default(CONSUMER_DEFAULTS.maxVersionsAhead),
    transactional: z.boolean().default(CONSUMER_DEFAULTS.transactional),
    concurrency: z.int().min(1).default(CONSUMER_DEFAULTS.concurrency),
    timeoutMarginMs: z.number().min(0).default(CONSUMER_DEFAULTS.timeoutMarginMs),
    logger: LOGGER_OPTION_SCHEMA.optional(),
    metrics: METRICS_OPTION_SCHEMA.optional(),
    onBatchSummary: functionOption<(summary: BatchSummary) => void>('a function (summary)').optional(),
    clock: functionOption<() => Date>('a function returning a Date').optional(),
  })
  .superRefine(({ events, handlers }, ctx) => {
    const types = Object.keys(handlers);
    if (types.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['handlers'],
        message: 'expected at least one handler (handlers is empty)',
        input: handlers,
      });
    }
    for (const type of types) {
      if (events.has(type)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['handlers', type],
        message: `a handler for "${type}", which the catalog does not declare (it knows ${events.types.map((t) => `"${t}"`).join(', ')})`,
        input: handlers[type],
      });
    }
  });

/** The schema of a dead-letter page request (`list({ limit, cursor })`). */
export const DEAD_LETTER_PAGE_SCHEMA = z
  .strictObject({
    limit: z.int().min(1).max(1000).default(50),
    cursor: z.string().optional(),
  })
  .default({ limit: 50 });

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
  readonly onBatchSummary: ((summary: BatchSummary) => void) | undefined;
  readonly clock: () => Date;
}

/**
 * Validates options and applies defaults: a bad option throws a `ConfigurationError` naming
 * `factory` (`createConsumer` or `consumerMiddleware`), the option and what was expected.
 */
export function resolveConsumerOptions(
  options: ConsumerOptions<AnyEventCatalog, boolean>,
  factory: string,
): ResolvedConsumerOptions {
  const parsed = parseOptions(CONSUMER_OPTIONS_SCHEMA, options, { factory });
  const { checkpoints, deadLetters } = parsed;
  const checkpointClient = resolveDynamoDb(checkpoints.dynamodb);
  const deadLetterClient =
    deadLetters?.dynamodb === undefined ? checkpointClient : resolveDynamoDb(deadLetters.dynamodb);

  const logger = resolveLogger(parsed.logger, 'tidemark-consumer', factory);
  return {
    name: parsed.name,
    catalog: parsed.events,
    handlers: parsed.handlers,
    checkpointTable: checkpoints.tableName,
    checkpointClient,
    deadLetterTable: deadLetters?.tableName ?? checkpoints.tableName,
    deadLetterClient,
    firstContact: parsed.firstContact,
    unreadableEvents: parsed.unreadableEvents,
    maxAttempts: parsed.maxAttempts,
    gapTimeoutSeconds: parsed.gapTimeoutSeconds,
    maxHeldPerAggregate: parsed.maxHeldPerAggregate,
    maxVersionsAhead: parsed.maxVersionsAhead,
    transactional: parsed.transactional,
    concurrency: parsed.concurrency,
    timeoutMarginMs: parsed.timeoutMarginMs,
    logger,
    metric: metricReporter(parsed.metrics, logger, factory),
    onBatchSummary: parsed.onBatchSummary,
    clock: parsed.clock ?? (() => new Date()),
  };
}

/** Builds a DynamoDB client from a client or a client config. */
export function resolveDynamoDb(option: DynamoDbClientOption | undefined): DynamoDBClient {
  return resolveClient<DynamoDBClient>(option, (config) => new DynamoDBClient(config), 'dynamodb');
}
