/**
 * Option validation shared by every Tidemark factory: a zod schema per factory, and one function
 * that turns a zod error into a {@link ConfigurationError} naming the factory, the option and what
 * was expected.
 */
import { z } from 'zod';
import { type AwsClientOptions, isSdkClient, type SdkClientLike } from './aws-config';
import { ConfigurationError } from './errors';
import { toValidationIssues } from './issues';
import type { TidemarkLogger } from './logger';
import type { TidemarkMetrics } from './metrics';

/** Who is validating: the factory's name appears in every error message. */
export interface ParseOptionsContext {
  /** The public function whose options these are, e.g. `createConsumer`. */
  readonly factory: string;
}

/**
 * Parses `input` with `schema` (defaults applied, unknown keys refused by strict objects), or throws
 * a {@link ConfigurationError} for the first problem (every problem is in its `issues`). Build the
 * schema once, at module level: parsing is then the only cost per call.
 *
 * @example
 * ```ts
 * import { parseOptions } from '@tidemark/core/internal';
 * import { z } from 'zod';
 *
 * const schema = z.strictObject({ tableName: z.string().min(3), pageSize: z.int().min(1).default(100) });
 * const { tableName, pageSize } = parseOptions(schema, options, { factory: 'createThing' });
 * ```
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: ParseOptionsContext,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw configurationErrorOf(result.error, input, schema, context.factory);
}

/**
 * A function-valued option: checked to be a function (its signature is the type's business).
 *
 * @example
 * ```ts
 * const schema = z.strictObject({ clock: functionOption<() => Date>('a function returning a Date').optional() });
 * ```
 */
export function functionOption<F extends (...args: never[]) => unknown>(expected: string): z.ZodType<F> {
  return z.custom<F>((value) => typeof value === 'function', `expected ${expected}`);
}

/**
 * Static credentials. Not strict: the SDK writes its own keys (`$source`) into the credentials of a
 * config it was given, and a config is often shared by several clients.
 */
const AWS_CREDENTIALS_SCHEMA = z.looseObject({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().optional(),
});

/** The schema of {@link AwsClientOptions}: a strict object, so a misspelt `region` is named. */
export const AWS_CLIENT_OPTIONS_SCHEMA: z.ZodType<AwsClientOptions> = z.strictObject({
  region: z.string().min(1).optional(),
  endpoint: z.string().min(1).optional(),
  credentials: AWS_CREDENTIALS_SCHEMA.optional(),
  maxAttempts: z.int().min(1).optional(),
});

/**
 * An option that takes an AWS SDK v3 client (recognised by shape, so a client from another copy of
 * the SDK works too) or the config to build one ({@link AwsClientOptions}, checked strictly).
 * `isClient` tells a client from a config. Default: {@link isSdkClient} (`send` and `config`).
 *
 * @example
 * ```ts
 * const schema = z.strictObject({ kinesis: awsClientOption<KinesisClient>('KinesisClient').optional() });
 * ```
 */
export function awsClientOption<TClient extends SdkClientLike>(
  clientName: string,
  isClient: (value: unknown) => boolean = isSdkClient,
): z.ZodType<TClient | AwsClientOptions> {
  return z.custom<TClient | AwsClientOptions>().superRefine((value, ctx) => {
    if (isClient(value)) return;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a ${clientName} or a client config { region?, endpoint?, credentials?, maxAttempts? }`,
        input: value,
      });
      return;
    }
    const result = AWS_CLIENT_OPTIONS_SCHEMA.safeParse(value);
    if (!result.success)
      for (const issue of result.error.issues)
        ctx.addIssue({ ...issue, input: value } as z.core.$ZodRawIssue);
  });
}

function configurationErrorOf(
  error: z.ZodError,
  input: unknown,
  schema: z.ZodType,
  factory: string,
): ConfigurationError {
  // An unknown key is usually the cause of everything else (a misspelt required option).
  const ordered = [
    ...error.issues.filter((issue) => issue.code === 'unrecognized_keys'),
    ...error.issues.filter((issue) => issue.code !== 'unrecognized_keys'),
  ];
  const first = ordered[0]!;
  const issues = toValidationIssues(new z.ZodError(ordered));
  const rest = issues.slice(1).map((issue) => `${issue.path || 'options'}: ${issue.message}`);
  const more = rest.length === 0 ? '' : ` (also: ${rest.join('; ')})`;

  if (first.code === 'unrecognized_keys') {
    const key = first.keys[0]!;
    const option = dottedPath([...first.path, key]);
    const known = knownKeys(schema, first.path);
    const expected = known === undefined ? '' : `; expected one of ${known.join(', ')}`;
    const others =
      first.keys.length > 1
        ? ` (and ${first.keys
            .slice(1)
            .map((k) => `"${k}"`)
            .join(', ')})`
        : '';
    return new ConfigurationError(`${factory}: unknown option "${option}"${others}${expected}${more}`, {
      factory,
      option,
      received: describeReceived(valueAt(input, [...first.path, key]), option),
      issues,
      cause: error,
    });
  }
  const option = dottedPath(first.path);
  const received = describeReceived(valueAt(input, first.path), option);
  return new ConfigurationError(
    `${factory}: ${option === '' ? 'options' : option}: ${first.message}; received ${received}${more}`,
    { factory, option, received, issues, cause: error },
  );
}

function dottedPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else result += result ? `.${String(segment)}` : String(segment);
  }
  return result;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

const SECRET_PATH = /secret|credential|password|session/i;

/** A short summary of a value that never prints a secret nor a large payload. */
function describeReceived(value: unknown, option: string): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      if (SECRET_PATH.test(option)) return `a string of ${value.length} characters`;
      return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== 'Object' && name !== '' ? `a ${name}` : 'an object';
    }
  }
}

/** The keys an object schema at `path` knows, for the "expected one of" hint; undefined if unknown. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: unknown = schema;
  for (let i = 0; ; i++) {
    const object = unwrapToObject(current);
    if (object === undefined) return undefined;
    if (i === path.length) return Object.keys(object);
    current = object[String(path[i])];
  }
}

function unwrapToObject(schema: unknown): Record<string, unknown> | undefined {
  let current = schema as { _zod?: { def?: Record<string, unknown> } } | undefined;
  for (let depth = 0; depth < 16 && current?._zod?.def !== undefined; depth++) {
    const def = current._zod.def;
    if (def.type === 'object') return def.shape as Record<string, unknown>;
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (inner === undefined) return undefined;
    current = inner as typeof current;
  }
  return undefined;
}

/**
 * The `logger` option of every factory: an object with debug, info, warn and error methods that take
 * `(message, attributes?)` — Powertools `Logger`, `console`, or `createJsonLogger()`.
 */
export const LOGGER_OPTION_SCHEMA: z.ZodType<TidemarkLogger> = z.custom<TidemarkLogger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (['debug', 'info', 'warn', 'error'] as const).every(
      (level) => typeof (value as Partial<TidemarkLogger>)[level] === 'function',
    ),
  'expected a logger with debug, info, warn and error methods (Powertools Logger, console, createJsonLogger())',
);

/** The `metrics` option of every factory: an object with `addMetric(name, unit, value)` — Powertools `Metrics`. */
export const METRICS_OPTION_SCHEMA: z.ZodType<TidemarkMetrics> = z.custom<TidemarkMetrics>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { addMetric?: unknown }).addMetric === 'function',
  'expected an object with addMetric(name, unit, value), such as Powertools Metrics',
);
