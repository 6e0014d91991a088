/**
 * A fake Lambda `Context` with the shape the Node.js runtime passes to a handler, and an honest
 * `getRemainingTimeInMillis` that counts down from the function timeout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { EventSourceConfigurationError, LambdaContextMethodError } from './errors';

/** Lambda's default function timeout, in seconds. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;
/** The account id used in fake ARNs (LocalStack's default account). */
export const DEFAULT_ACCOUNT_ID = '000000000000';
/** The region used in fake ARNs when none is given. */
export const DEFAULT_REGION = 'us-east-1';
/** The function name used when none is given. */
export const DEFAULT_FUNCTION_NAME = 'tidemark-local-function';

const CONTEXT_OPTION_KEYS = [
  'functionName',
  'functionVersion',
  'region',
  'accountId',
  'invokedFunctionArn',
  'memoryLimitInMB',
  'timeoutSeconds',
  'awsRequestId',
  'tenantId',
  'clock',
];

/** Options of {@link fakeLambdaContext}. */
export interface FakeLambdaContextOptions {
  /** The function name. Default: `'tidemark-local-function'`. */
  readonly functionName?: string;
  /** The function version. Default: `'$LATEST'`. */
  readonly functionVersion?: string;
  /** The region in `invokedFunctionArn`. Default: `'us-east-1'`. */
  readonly region?: string;
  /** The account id in `invokedFunctionArn`. Default: `'000000000000'`. */
  readonly accountId?: string;
  /** The invoked function ARN. Default: `arn:aws:lambda:<region>:<accountId>:function:<functionName>`. */
  readonly invokedFunctionArn?: string;
  /** The configured memory, in MB. Default: `128` (Lambda's default). */
  readonly memoryLimitInMB?: number;
  /**
   * The function timeout in seconds: `getRemainingTimeInMillis()` counts down from it, starting
   * when the context is made. Lambda allows whole seconds from 1 to 900; fractions are accepted
   * so timeout tests stay fast. Default: `3` (Lambda's default).
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
export function fakeLambdaContext(options: FakeLambdaContextOptions = {}): Context {
  for (const key of Object.keys(options)) {
    if (!CONTEXT_OPTION_KEYS.includes(key)) {
      throw new EventSourceConfigurationError(
        `Unknown option "${key}" for fakeLambdaContext; known options: ${CONTEXT_OPTION_KEYS.join(', ')}`,
        { option: key },
      );
    }
  }
  const clock = options.clock ?? Date.now;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
  assertFunctionTimeout(timeoutSeconds, 'timeoutSeconds');
  const memory = options.memoryLimitInMB ?? 128;
  if (!Number.isInteger(memory) || memory < 128 || memory > 10_240) {
    throw new EventSourceConfigurationError('memoryLimitInMB must be an integer from 128 to 10240', {
      memoryLimitInMB: memory,
    });
  }
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  const functionVersion = options.functionVersion ?? '$LATEST';
  const deadline = clock() + timeoutSeconds * 1000;
  const unsupported = (method: string) => (): never => {
    throw new LambdaContextMethodError(method);
  };
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion,
    invokedFunctionArn:
      options.invokedFunctionArn ??
      lambdaFunctionArn(
        functionName,
        options.region ?? DEFAULT_REGION,
        options.accountId ?? DEFAULT_ACCOUNT_ID,
      ),
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

/** @internal Checks a function timeout against Lambda's limits (1 to 900 seconds). */
export function assertFunctionTimeout(value: number, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 900) {
    throw new EventSourceConfigurationError(
      `${name} must be a number of seconds above 0 and at most 900 (Lambda's maximum)`,
      {
        [name]: value,
      },
    );
  }
}

function logStreamName(version: string, date: Date): string {
  const day = date.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}
