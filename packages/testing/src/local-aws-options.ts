/**
 * The options of `startLocalAws` and of its resource helpers: zod schemas (strict objects, built
 * once) and their defaults in one frozen constant each.
 */
import { z } from 'zod';

/** The modes `startLocalAws` takes. */
const MODES = ['auto', 'endpoint', 'containers', 'localstack', 'embedded'] as const;

/**
 * The defaults of `startLocalAws`'s optional settings (each option's `@default` names its entry).
 * Frozen. The images' defaults are `LOCALSTACK_IMAGE`, `DYNAMODB_LOCAL_IMAGE` and `KINESIS_MOCK_IMAGE`.
 *
 * @example
 * ```ts
 * import { LOCAL_AWS_DEFAULTS } from '@tidemark/testing';
 * LOCAL_AWS_DEFAULTS.mode; // 'auto'
 * ```
 */
export const LOCAL_AWS_DEFAULTS = Object.freeze({
  mode: 'auto' as const,
  region: 'us-east-1',
  credentials: Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' }),
  /** How long the engines may take to answer, in ms. */
  startTimeoutMs: 60_000,
  /** How long LocalStack may take to answer, in ms. */
  localstackStartTimeoutMs: 180_000,
  /** The name prefix of `createEventLogTable`'s tables. */
  eventLogTablePrefix: 'event-log',
  /** The name prefix of `createKinesisStream`'s streams. */
  streamPrefix: 'stream',
  /** The shards of `createKinesisStream`'s streams. */
  shardCount: 1,
});

const IMAGE_SCHEMA = z
  .string()
  .refine((image) => image.trim() !== '', 'expected a non-empty image name')
  .optional();

/** The schema of `StartLocalAwsOptions` (defaults applied where they do not depend on the mode). */
export const START_LOCAL_AWS_OPTIONS_SCHEMA = z
  .strictObject({
    mode: z.enum(MODES).default(LOCAL_AWS_DEFAULTS.mode),
    endpoint: z.string().min(1).optional(),
    region: z.string().min(1).default(LOCAL_AWS_DEFAULTS.region),
    // Not strict: the SDK writes its own keys (`$source`) into credentials it was given.
    credentials: z
      .looseObject({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().optional(),
      })
      .optional(),
    java: z.string().min(1).optional(),
    startTimeoutMs: z.int().min(1).optional(),
    localstackImage: IMAGE_SCHEMA,
    dynamodbImage: IMAGE_SCHEMA,
    kinesisImage: IMAGE_SCHEMA,
  })
  .default({ mode: LOCAL_AWS_DEFAULTS.mode, region: LOCAL_AWS_DEFAULTS.region });

/** A name prefix of a table or stream: the rest of the name is appended to it. */
const PREFIX_SCHEMA = z
  .string()
  .regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'expected 1–64 characters of a-z, A-Z, 0-9, _ . -');

/** The schema of `CreateEventLogTableOptions`. */
export const CREATE_EVENT_LOG_TABLE_OPTIONS_SCHEMA = z
  .strictObject({ prefix: PREFIX_SCHEMA.default(LOCAL_AWS_DEFAULTS.eventLogTablePrefix) })
  .default({ prefix: LOCAL_AWS_DEFAULTS.eventLogTablePrefix });

/** The schema of `CreateKinesisStreamOptions`. */
export const CREATE_KINESIS_STREAM_OPTIONS_SCHEMA = z
  .strictObject({
    prefix: PREFIX_SCHEMA.default(LOCAL_AWS_DEFAULTS.streamPrefix),
    shardCount: z.int().min(1).default(LOCAL_AWS_DEFAULTS.shardCount),
  })
  .default({ prefix: LOCAL_AWS_DEFAULTS.streamPrefix, shardCount: LOCAL_AWS_DEFAULTS.shardCount });
