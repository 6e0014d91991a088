/**
 * The options of `createPublisher` and `replay`: their zod schemas (strict objects, built once) and
 * their defaults, each in one frozen constant.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type AggregateRef, aggregateKey } from '@tidemark/core';
import {
  awsClientOption,
  functionOption,
  LOGGER_OPTION_SCHEMA,
  METRICS_OPTION_SCHEMA,
} from '@tidemark/core/internal';
import { z } from 'zod';
import type { StreamRoute } from './publisher-types';
import type { ReplayProgress } from './replay-types';

const RETRY_DEFAULTS = Object.freeze({ retries: 8, minTimeoutMs: 100, maxTimeoutMs: 3000, factor: 2 });

/**
 * The defaults of `createPublisher`'s optional settings (each option's `@default` names its entry).
 * Frozen.
 *
 * @example
 * ```ts
 * import { PUBLISHER_DEFAULTS } from '@tidemark/publisher';
 * PUBLISHER_DEFAULTS.safetyMarginMs; // 5000
 * ```
 */
export const PUBLISHER_DEFAULTS = Object.freeze({
  /** Retries of failed entries and calls: 8 retries, 100 ms growing by 2 up to 3 s, with jitter. */
  retry: RETRY_DEFAULTS,
  /** PutRecords calls of one wave in flight at once. */
  maxConcurrentCalls: 4,
  /** Pack a run of one aggregate's consecutive versions into one Kinesis record (CloudEvents JSON batch). */
  packRuns: true,
  /** Time kept free at the end of the invocation, in ms. */
  safetyMarginMs: 5000,
  /** Time budget without a Lambda context, in ms. */
  defaultTimeBudgetMs: 60_000,
  /** What a MODIFY or REMOVE of an event item does besides logging and counting it. */
  onHistoryRewrite: 'log' as const,
});

/**
 * The defaults of `replay`'s optional settings (each option's `@default` names its entry). Frozen.
 *
 * @example
 * ```ts
 * import { REPLAY_DEFAULTS } from '@tidemark/publisher';
 * REPLAY_DEFAULTS.pageSize; // 500
 * ```
 */
export const REPLAY_DEFAULTS = Object.freeze({
  /** Retries of failed entries and calls, as the publisher's. */
  retry: RETRY_DEFAULTS,
  /** PutRecords calls of one wave in flight at once. */
  maxConcurrentCalls: 4,
  /** Pack a run of one aggregate's consecutive versions into one Kinesis record, as the publisher does. */
  packRuns: true,
  /** With `aggregate`: the first version replayed. */
  fromVersion: 1,
  /** Items per Scan/Query page. */
  pageSize: 500,
});

const RETRY_SCHEMA = z
  .strictObject({
    retries: z.int().min(0).max(1000).default(RETRY_DEFAULTS.retries),
    minTimeoutMs: z.number().min(0).default(RETRY_DEFAULTS.minTimeoutMs),
    maxTimeoutMs: z.number().min(0).default(RETRY_DEFAULTS.maxTimeoutMs),
    factor: z.number().min(1).default(RETRY_DEFAULTS.factor),
  })
  .default({ ...RETRY_DEFAULTS });

const TABLE_NAME_SCHEMA = z.string().min(3, 'expected a DynamoDB table name');

/** The options `createPublisher` and `replay` share (`PublishingOptions` and the stream target). */
const PUBLISHING_SHAPE = {
  kinesis: awsClientOption<KinesisClient>('KinesisClient').optional(),
  logger: LOGGER_OPTION_SCHEMA.optional(),
  metrics: METRICS_OPTION_SCHEMA.optional(),
  retry: RETRY_SCHEMA,
  maxConcurrentCalls: z.int().min(1).max(64).default(PUBLISHER_DEFAULTS.maxConcurrentCalls),
  packRuns: z.boolean().default(PUBLISHER_DEFAULTS.packRuns),
  streamName: z.string().min(1).optional(),
  streamArn: z.string().startsWith('arn:', 'expected an ARN (arn:aws:kinesis:…)').optional(),
  route: functionOption<StreamRoute>('a function (envelope) => stream name or ARN').optional(),
};

const TARGETS = ['streamName', 'streamArn', 'route'] as const;

/** Exactly one of `streamName`, `streamArn` and `route`. */
function checkStreamTarget(
  options: { readonly streamName?: string; readonly streamArn?: string; readonly route?: StreamRoute },
  ctx: z.RefinementCtx,
): void {
  const given = TARGETS.filter((key) => options[key] !== undefined);
  if (given.length === 1) return;
  ctx.addIssue({
    code: 'custom',
    path: [given[1] ?? 'streamName'],
    message:
      given.length === 0
        ? 'expected exactly one of streamName, streamArn or route; none was given'
        : `expected exactly one of streamName, streamArn or route; ${given.join(' and ')} were given`,
    input: given.length === 0 ? undefined : options[given[1]!],
  });
}

/** The schema of `PublisherOptions`, defaults from {@link PUBLISHER_DEFAULTS}. */
export const PUBLISHER_OPTIONS_SCHEMA = z
  .strictObject({
    ...PUBLISHING_SHAPE,
    safetyMarginMs: z.int().min(100).default(PUBLISHER_DEFAULTS.safetyMarginMs),
    defaultTimeBudgetMs: z.int().min(1).default(PUBLISHER_DEFAULTS.defaultTimeBudgetMs),
    dynamodb: awsClientOption<DynamoDBClient>('DynamoDBClient').optional(),
    tableName: TABLE_NAME_SCHEMA.optional(),
    onHistoryRewrite: z.enum(['log', 'fail']).default(PUBLISHER_DEFAULTS.onHistoryRewrite),
  })
  .superRefine(checkStreamTarget);

const AGGREGATE_SCHEMA = z.custom<AggregateRef>().superRefine((aggregate, ctx) => {
  try {
    aggregateKey(aggregate);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an aggregate { type, id }: ${error instanceof Error ? error.message : String(error)}`,
      input: aggregate,
    });
  }
});

/** The schema of `ReplayOptions`, defaults from {@link REPLAY_DEFAULTS}. */
export const REPLAY_OPTIONS_SCHEMA = z
  .strictObject({
    ...PUBLISHING_SHAPE,
    tableName: TABLE_NAME_SCHEMA,
    dynamodb: awsClientOption<DynamoDBClient>('DynamoDBClient').optional(),
    aggregate: AGGREGATE_SCHEMA.optional(),
    fromVersion: z.int().min(1).optional(),
    segment: z.int().min(0).optional(),
    totalSegments: z.int().min(1).max(1_000_000).optional(),
    pageSize: z.int().min(1).max(10_000).default(REPLAY_DEFAULTS.pageSize),
    resumeToken: z.string().optional(),
    onProgress:
      functionOption<(progress: ReplayProgress) => void | Promise<void>>('a function (progress)').optional(),
    signal: z.instanceof(AbortSignal, { error: 'expected an AbortSignal' }).optional(),
  })
  .superRefine((options, ctx) => {
    checkStreamTarget(options, ctx);
    const issue = (path: string, message: string, input: unknown) =>
      ctx.addIssue({ code: 'custom', path: [path], message, input });
    if (options.aggregate === undefined && options.fromVersion !== undefined) {
      issue('fromVersion', 'expected no fromVersion without aggregate', options.fromVersion);
    }
    if (options.aggregate !== undefined) {
      for (const key of ['segment', 'totalSegments'] as const) {
        if (options[key] !== undefined) {
          issue(key, 'expected no segmentation with aggregate (it applies to the whole log)', options[key]);
        }
      }
    } else if ((options.segment === undefined) !== (options.totalSegments === undefined)) {
      const missing = options.segment === undefined ? 'segment' : 'totalSegments';
      issue(missing, 'expected both segment and totalSegments, or neither', undefined);
    } else if (options.segment !== undefined && options.totalSegments !== undefined) {
      if (options.segment >= options.totalSegments) {
        issue(
          'segment',
          `expected a segment from 0 to ${options.totalSegments - 1} (below totalSegments)`,
          options.segment,
        );
      }
    }
  });

/** The route of parsed options: the given one, or every event to the one stream named. */
export function routeOf(options: {
  readonly streamName?: string | undefined;
  readonly streamArn?: string | undefined;
  readonly route?: StreamRoute | undefined;
}): StreamRoute {
  if (options.route !== undefined) return options.route;
  const stream = (options.streamName ?? options.streamArn)!;
  return () => stream;
}
