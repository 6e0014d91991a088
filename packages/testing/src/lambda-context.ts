/**
 * A fake Lambda `Context` with the shape the Node.js runtime passes to a handler, and an honest
 * `getRemainingTimeInMillis` that counts down from the function timeout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { functionOption, parseOptions } from '@tidemark/core/internal';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { LambdaContextMethodError } from './errors';

/** Lambda's default function timeout, in seconds. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;
/** The account id used in fake ARNs (LocalStack's default account). */
export const DEFAULT_ACCOUNT_ID = '000000000000';
/** The region used in fake ARNs when none is given. */
export const DEFAULT_REGION = 'us-east-1';
/** The function name used when none is given. */
export const DEFAULT_FUNCTION_NAME = 'tidemark-local-function';

/**
 * The defaults of `fakeLambdaContext`'s options. Frozen.
 *
 * @example
 * ```ts
 * import { LAMBDA_CONTEXT_DEFAULTS } from '@tidemark/testing';
 * LAMBDA_CONTEXT_DEFAULTS.timeoutSeconds; // 3
 * ```
 */
export const LAMBDA_CONTEXT_DEFAULTS = Object.freeze({
  functionName: DEFAULT_FUNCTION_NAME,
  functionVersion: '$LATEST',
  region: DEFAULT_REGION,
  accountId: DEFAULT_ACCOUNT_ID,
  memoryLimitInMB: 128,
  timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
});

const D = LAMBDA_CONTEXT_DEFAULTS;

const FAKE_LAMBDA_CONTEXT_OPTIONS_SCHEMA = z
  .strictObject({
    functionName: z.string().min(1).default(D.functionName),
    functionVersion: z.string().min(1).default(D.functionVersion),
    region: z.string().min(1).default(D.region),
    accountId: z.string().min(1).default(D.accountId),
    invokedFunctionArn: z.string().min(1).optional(),
    memoryLimitInMB: z.int().min(128).max(10_240).default(D.memoryLimitInMB),
    timeoutSeconds: z
      .number()
      .gt(0)
      .max(900, "expected at most 900 seconds (Lambda's maximum)")
      .default(D.timeoutSeconds),
    awsRequestId: z.string().min(1).optional(),
    tenantId: z.string().optional(),
    clock: functionOption<() => number>('a function returning epoch milliseconds').optional(),
  })
  .default({ ...D });

/** Options of {@link fakeLambdaContext}. */
export interface FakeLambdaContextOptions {
  /** The function name. @default 'tidemark-local-function' (`LAMBDA_CONTEXT_DEFAULTS.functionName`) */
  readonly functionName?: string;
  /** The function version. @default '$LATEST' (`LAMBDA_CONTEXT_DEFAULTS.functionVersion`) */
  readonly functionVersion?: string;
  /** The region in `invokedFunctionArn`. @default 'us-east-1' (`LAMBDA_CONTEXT_DEFAULTS.region`) */
  readonly region?: string;
  /** The account id in `invokedFunctionArn`. @default '000000000000' (`LAMBDA_CONTEXT_DEFAULTS.accountId`) */
  readonly accountId?: string;
  /** The invoked function ARN. Default: `arn:aws:lambda:<region>:<accountId>:function:<functionName>`. */
  readonly invokedFunctionArn?: string;
  /** The configured memory, in MB. @default 128, Lambda's default (`LAMBDA_CONTEXT_DEFAULTS.memoryLimitInMB`) */
  readonly memoryLimitInMB?: number;
  /**
   * The function timeout in seconds: `getRemainingTimeInMillis()` counts down from it, starting
   * when the context is made. Lambda allows whole seconds from 1 to 900; fractions are accepted
   * so timeout tests stay fast.
   *
   * @default 3, Lambda's default (`LAMBDA_CONTEXT_DEFAULTS.timeoutSeconds`)
   */
  readonly timeoutSeconds?: number;
  /** The request id. Default: a random UUID, like Lambda's. */
  readonly awsRequestId?: string;
  /** The tenant id of a multi-tenant function. Default: none. */
  readonly tenantId?: string;
  /**
   * The clock, in epoch milliseconds; pass a fake one to test code that reads the remaining time.
   * Default: `Date.now`.
   */
  readonly clock?: () => number;
}

/**
 * Makes a Lambda `Context` for calling a handler in a unit test. `getRemainingTimeInMillis()` is
 * honest: it counts down from `timeoutSeconds` (default 3, Lambda's default) and never goes below
 * 0. The deprecated `done`/`fail`/`succeed` throw {@link LambdaContextMethodError}: handlers return
 * a promise.
 *
 * @example
 * ```ts
 * import { fakeLambdaContext, kinesisEventFromEnvelopes, buildEnvelope } from '@tidemark/testing';
 *
 * const context = fakeLambdaContext({ timeoutSeconds: 30 });
 * const response = await handler(kinesisEventFromEnvelopes([buildEnvelope()]), context);
 * ```
 */
export function fakeLambdaContext(input?: FakeLambdaContextOptions): Context {
  const options = parseOptions(FAKE_LAMBDA_CONTEXT_OPTIONS_SCHEMA, input, { factory: 'fakeLambdaContext' });
  const clock = options.clock ?? Date.now;
  const { timeoutSeconds, functionName, functionVersion, memoryLimitInMB: memory } = options;
  const deadline = clock() + timeoutSeconds * 1000;
  const unsupported = (method: string) => (): never => {
    throw new LambdaContextMethodError(method);
  };
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion,
    invokedFunctionArn:
      options.invokedFunctionArn ?? lambdaFunctionArn(functionName, options.region, options.accountId),
    memoryLimitInMB: String(memory),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: logStreamName(functionVersion, new Date(clock())),
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
  if (options.tenantId !== undefined) context.tenantId = options.tenantId;
  return context;
}

/** @internal The ARN of a function. */
export function lambdaFunctionArn(functionName: string, region: string, accountId: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
}

function logStreamName(version: string, date: Date): string {
  const day = date.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}
