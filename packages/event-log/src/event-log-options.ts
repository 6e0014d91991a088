/**
 * The options of `createEventLog` and of its reads: their zod schemas, checked once at creation (or
 * at each read), and their defaults in one frozen constant each.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AnyEventCatalog, ValidationIssue } from '@tidemark/core';
import { awsClientOption, functionOption, toValidationIssues } from '@tidemark/core/internal';
import { z } from 'zod';
import { isWellFormed } from './storage';

/**
 * The defaults of `createEventLog`'s optional settings (each option's `@default` names its entry).
 * Frozen.
 *
 * @example
 * ```ts
 * import { EVENT_LOG_DEFAULTS } from '@tidemark/event-log';
 * EVENT_LOG_DEFAULTS.retry.retries; // 3
 * ```
 */
export const EVENT_LOG_DEFAULTS = Object.freeze({
  /** How `append` retries transient refusals. */
  retry: Object.freeze({ retries: 3, minTimeoutMs: 25, maxTimeoutMs: 500 }),
});

/**
 * The defaults of the read options of `read`, `readEnvelopes` and `readAll`. Frozen.
 *
 * @example
 * ```ts
 * import { READ_DEFAULTS } from '@tidemark/event-log';
 * READ_DEFAULTS.pageSize; // 100
 * ```
 */
export const READ_DEFAULTS = Object.freeze({
  fromVersion: 1,
  /** Events per strongly consistent Query. */
  pageSize: 100,
});

const CATALOG_SCHEMA = z.custom<AnyEventCatalog>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnyEventCatalog).find === 'function' &&
    typeof (value as AnyEventCatalog).parse === 'function',
  'expected an event catalog (defineCatalog from @tidemark/core)',
);

const { retry } = EVENT_LOG_DEFAULTS;

/** The schema of `EventLogOptions`: strict at every level, defaults from {@link EVENT_LOG_DEFAULTS}. */
export const EVENT_LOG_OPTIONS_SCHEMA = z.strictObject({
  tableName: z.string().min(3, 'expected a DynamoDB table name'),
  dynamodb: awsClientOption<DynamoDBClient>('DynamoDBClient').optional(),
  catalog: CATALOG_SCHEMA,
  source: z
    .string()
    .min(1, 'expected a non-empty URI-reference, e.g. "/task-service"')
    .refine(isWellFormed, 'expected a URI-reference of well-formed Unicode, e.g. "/task-service"'),
  retry: z
    .strictObject({
      retries: z.int().min(0).max(100).default(retry.retries),
      minTimeoutMs: z.int().min(0).default(retry.minTimeoutMs),
      maxTimeoutMs: z.int().min(0).default(retry.maxTimeoutMs),
    })
    .default({ ...retry }),
  clock: functionOption<() => Date>('a function returning a Date').optional(),
});

/** The schema of `ReadOptions`, defaults from {@link READ_DEFAULTS}. */
export const READ_OPTIONS_SCHEMA = z
  .strictObject({
    fromVersion: z.int().min(1).default(READ_DEFAULTS.fromVersion),
    toVersion: z.int().min(1).default(Number.MAX_SAFE_INTEGER),
    pageSize: z.int().min(1).max(10_000).default(READ_DEFAULTS.pageSize),
  })
  .default({
    fromVersion: READ_DEFAULTS.fromVersion,
    toVersion: Number.MAX_SAFE_INTEGER,
    pageSize: READ_DEFAULTS.pageSize,
  })
  .superRefine(({ fromVersion, toVersion }, ctx) => {
    if (toVersion < fromVersion) {
      ctx.addIssue({
        code: 'custom',
        path: ['toVersion'],
        message: `expected a version not below fromVersion (${fromVersion})`,
        input: toVersion,
      });
    }
  });

/** The keys `append` takes: any other is a typo (their values are checked by `append` itself). */
const APPEND_INPUT_KEYS_SCHEMA = z.strictObject({
  aggregate: z.unknown().optional(),
  commandId: z.unknown().optional(),
  events: z.unknown().optional(),
  expectedVersion: z.unknown().optional(),
  metadata: z.unknown().optional(),
});

/** Problems with the shape of `append`'s input (not an object, an unknown key), each with its path. */
export function appendInputShapeIssues(input: unknown): ValidationIssue[] {
  const result = APPEND_INPUT_KEYS_SCHEMA.safeParse(input);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: key,
          message: `unknown key; expected one of ${Object.keys(APPEND_INPUT_KEYS_SCHEMA.shape).join(', ')}`,
          code: issue.code,
        }))
      : toValidationIssues(new z.ZodError([issue])),
  );
}
