/**
 * The options of the stream event sources: zod schemas of the settings they share (with Lambda's
 * limits) and of each source's own, and their defaults in one frozen constant each.
 *
 * @internal
 */

import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { CONSUMER_EVENT_SOURCE_SETTINGS, type RequiredEventSourceSettings } from '@tidemark/core';
import { awsClientOption, functionOption, parseOptions } from '@tidemark/core/internal';
import { z } from 'zod';
import { DEFAULT_FUNCTION_NAME, DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '../lambda-context';
import type { StreamHandler } from './types';

/**
 * The defaults the publisher and the consumer both require (their shared settings type fixes one
 * value for both): never give up on a record. Where they differ (`bisectBatchOnFunctionError`) or
 * where Lambda's default is not what they need (`reportBatchItemFailures` is off unless the mapping
 * sets it), the emulation keeps Lambda's default, so a test without the setting behaves like a
 * mapping deployed without it.
 */
const REQUIRED: Pick<RequiredEventSourceSettings, 'maximumRetryAttempts' | 'maximumRecordAgeInSeconds'> =
  CONSUMER_EVENT_SOURCE_SETTINGS;

/**
 * The defaults of the settings both stream event sources take (each option's `@default` names its
 * entry): Lambda's, except where the publisher and the consumer both require another. Frozen.
 *
 * @example
 * ```ts
 * import { EVENT_SOURCE_DEFAULTS } from '@tidemark/testing';
 * EVENT_SOURCE_DEFAULTS.batchSize; // 100
 * ```
 */
export const EVENT_SOURCE_DEFAULTS = Object.freeze({
  handlerExport: 'handler',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  reportBatchItemFailures: false,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: REQUIRED.maximumRetryAttempts,
  maximumRecordAgeInSeconds: REQUIRED.maximumRecordAgeInSeconds,
  functionTimeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  functionName: DEFAULT_FUNCTION_NAME,
  memoryLimitInMB: 128,
  pollIntervalMs: 100,
  /** Where each shard starts reading: every record kept in the stream. */
  startingPosition: 'TRIM_HORIZON' as const,
});

/** The shared settings with every default applied. */
export interface ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord> {
  /** The handler, or undefined when `handlerModule` gives it. */
  readonly handler: StreamHandler<TEvent, TResponse> | undefined;
  readonly handlerModule: ((instance: number) => Promise<unknown>) | undefined;
  readonly handlerExport: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeInSeconds: number;
  readonly functionTimeoutSeconds: number;
  readonly functionName: string;
  readonly memoryLimitInMB: number;
  readonly onFailure: ((failure: TFailure, records: readonly TRecord[]) => void | Promise<void>) | undefined;
  readonly pollIntervalMs: number;
  readonly clock: () => number;
}

/** Whether a value is an SDK client (anything with `send`), not a client config. */
export function isClientLike(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { send?: unknown }).send === 'function'
  );
}

const D = EVENT_SOURCE_DEFAULTS;

/** The settings both event sources take (`StreamEventSourceOptions`), with Lambda's limits. */
const SHARED_SHAPE = {
  handler: functionOption<StreamHandler<never, never>>('a function (event, context) => response').optional(),
  handlerModule: functionOption<(instance: number) => Promise<unknown>>(
    'a function (instance) => import(...) returning the module',
  ).optional(),
  handlerExport: z.string().min(1).default(D.handlerExport),
  batchSize: z.int().min(1).max(10_000).default(D.batchSize),
  maximumBatchingWindowInSeconds: z.number().min(0).max(300).default(D.maximumBatchingWindowInSeconds),
  reportBatchItemFailures: z.boolean().default(D.reportBatchItemFailures),
  bisectBatchOnFunctionError: z.boolean().default(D.bisectBatchOnFunctionError),
  maximumRetryAttempts: z.int().min(-1).max(10_000).default(D.maximumRetryAttempts),
  maximumRecordAgeInSeconds: z
    .int()
    .refine(
      (age) => age === -1 || (age >= 60 && age <= 604_800),
      'expected -1 (infinite) or an integer from 60 to 604800 (Lambda limits); use `clock` to test record ages without waiting',
    )
    .default(D.maximumRecordAgeInSeconds),
  functionTimeoutSeconds: z
    .number()
    .gt(0)
    .max(900, "expected at most 900 seconds (Lambda's maximum)")
    .default(D.functionTimeoutSeconds),
  functionName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, "-" or "_"')
    .default(D.functionName),
  memoryLimitInMB: z.int().min(128).max(10_240).default(D.memoryLimitInMB),
  onFailure: functionOption<(failure: never, records: readonly never[]) => void | Promise<void>>(
    'a function (failure, records)',
  ).optional(),
  pollIntervalMs: z.int().min(1).max(60_000).default(D.pollIntervalMs),
  clock: functionOption<() => number>('a function returning epoch milliseconds').optional(),
};

function checkHandler(
  options: { readonly handler?: unknown; readonly handlerModule?: unknown },
  ctx: z.RefinementCtx,
): void {
  if ((options.handler === undefined) === (options.handlerModule === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [options.handler === undefined ? 'handler' : 'handlerModule'],
      message: 'expected exactly one of handler and handlerModule',
      input: options.handlerModule,
    });
  }
}

const KINESIS_STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const KINESIS_STREAM_ARN = /^arn:[^:]+:kinesis:[^:]*:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/;

/** The schema of `KinesisEventSourceOptions`, defaults from {@link EVENT_SOURCE_DEFAULTS}. */
export const KINESIS_EVENT_SOURCE_SCHEMA = z
  .strictObject({
    ...SHARED_SHAPE,
    kinesis: awsClientOption<KinesisClient>('KinesisClient', isClientLike),
    streamName: z
      .string()
      .regex(KINESIS_STREAM_NAME, 'expected 1-128 letters, digits, "_", "." or "-"')
      .optional(),
    streamArn: z
      .string()
      .regex(
        KINESIS_STREAM_ARN,
        'expected a Kinesis stream ARN: arn:aws:kinesis:<region>:<account>:stream/<name>',
      )
      .optional(),
    startingPosition: z.enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).default(D.startingPosition),
    startingPositionTimestamp: z
      .union([z.date(), z.number()], 'expected a Date or epoch seconds')
      .refine(
        (value) => !Number.isNaN(value instanceof Date ? value.getTime() : value * 1000),
        'expected a valid time',
      )
      .optional(),
    invokeIdentityArn: z.string().min(1).optional(),
  })
  .superRefine((options, ctx) => {
    checkHandler(options, ctx);
    if ((options.streamName === undefined) === (options.streamArn === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [options.streamName === undefined ? 'streamName' : 'streamArn'],
        message: 'expected exactly one of streamName and streamArn',
        input: options.streamArn,
      });
    }
    const atTimestamp = options.startingPosition === 'AT_TIMESTAMP';
    if (atTimestamp !== (options.startingPositionTimestamp !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['startingPositionTimestamp'],
        message: atTimestamp
          ? 'AT_TIMESTAMP needs startingPositionTimestamp: a Date or epoch seconds'
          : 'expected startingPositionTimestamp only with startingPosition AT_TIMESTAMP',
        input: options.startingPositionTimestamp,
      });
    }
  });

/** The stream name of a stream ARN the Kinesis schema accepted. */
export function kinesisStreamNameOfArn(streamArn: string): string {
  return KINESIS_STREAM_ARN.exec(streamArn)![1]!;
}

/** The schema of `DynamoDbStreamEventSourceOptions`, defaults from {@link EVENT_SOURCE_DEFAULTS}. */
export const DYNAMODB_STREAM_EVENT_SOURCE_SCHEMA = z
  .strictObject({
    ...SHARED_SHAPE,
    dynamodbStreams: awsClientOption<DynamoDBStreamsClient>('DynamoDBStreamsClient', isClientLike),
    streamArn: z
      .string()
      .regex(
        /^arn:[^:]+:dynamodb:[^:]*:\d{12}:table\/[^/]+\/stream\/.+$/,
        'expected a DynamoDB stream ARN: arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>',
      ),
    startingPosition: z
      .enum(
        ['TRIM_HORIZON', 'LATEST'],
        'expected TRIM_HORIZON or LATEST (DynamoDB streams have no AT_TIMESTAMP)',
      )
      .default(D.startingPosition),
  })
  .superRefine(checkHandler);

/** The shared settings of parsed options, as the engine takes them. */
export function streamSettingsOf<TEvent, TResponse, TFailure, TRecord>(
  options:
    | z.output<typeof KINESIS_EVENT_SOURCE_SCHEMA>
    | z.output<typeof DYNAMODB_STREAM_EVENT_SOURCE_SCHEMA>,
): ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord> {
  return {
    handler: options.handler as StreamHandler<TEvent, TResponse> | undefined,
    handlerModule: options.handlerModule,
    handlerExport: options.handlerExport,
    batchSize: options.batchSize,
    maximumBatchingWindowInSeconds: options.maximumBatchingWindowInSeconds,
    reportBatchItemFailures: options.reportBatchItemFailures,
    bisectBatchOnFunctionError: options.bisectBatchOnFunctionError,
    maximumRetryAttempts: options.maximumRetryAttempts,
    maximumRecordAgeInSeconds: options.maximumRecordAgeInSeconds,
    functionTimeoutSeconds: options.functionTimeoutSeconds,
    functionName: options.functionName,
    memoryLimitInMB: options.memoryLimitInMB,
    onFailure: options.onFailure as ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord>['onFailure'],
    pollIntervalMs: options.pollIntervalMs,
    clock: options.clock ?? Date.now,
  };
}

const KNOWN_KEYS_SCHEMAS = new WeakMap<readonly string[], z.ZodType>();

/**
 * Refuses a key that is not in `known` (a typo) with a `ConfigurationError` naming `factory` and the
 * key; the values are the caller's to check. The schema of each key list is built once.
 */
export function assertKnownKeys(factory: string, options: object, known: readonly string[]): void {
  let schema = KNOWN_KEYS_SCHEMAS.get(known);
  if (schema === undefined) {
    schema = z.strictObject(Object.fromEntries(known.map((key) => [key, z.unknown().optional()])));
    KNOWN_KEYS_SCHEMAS.set(known, schema);
  }
  parseOptions(schema, options, { factory });
}
