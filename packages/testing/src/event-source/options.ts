/**
 * Validation of the settings shared by the stream event sources, with Lambda's limits.
 *
 * @internal
 */

import { CONSUMER_EVENT_SOURCE_SETTINGS, type RequiredEventSourceSettings } from '@tidemark/core';
import { EventSourceConfigurationError } from '../errors';
import {
  assertFunctionTimeout,
  DEFAULT_FUNCTION_NAME,
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
} from '../lambda-context';
import type { StreamEventSourceOptions, StreamHandler } from './types';

/**
 * The defaults the publisher and the consumer both require (their shared settings type fixes one
 * value for both): never give up on a record. Where they differ (`bisectBatchOnFunctionError`) or
 * where Lambda's default is not what they need (`reportBatchItemFailures` is off unless the mapping
 * sets it), the emulation keeps Lambda's default, so a test without the setting behaves like a
 * mapping deployed without it.
 */
const REQUIRED: Pick<RequiredEventSourceSettings, 'maximumRetryAttempts' | 'maximumRecordAgeInSeconds'> =
  CONSUMER_EVENT_SOURCE_SETTINGS;

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

/** The keys of {@link StreamEventSourceOptions}. */
export const SHARED_OPTION_KEYS = [
  'handler',
  'handlerModule',
  'handlerExport',
  'batchSize',
  'maximumBatchingWindowInSeconds',
  'reportBatchItemFailures',
  'bisectBatchOnFunctionError',
  'maximumRetryAttempts',
  'maximumRecordAgeInSeconds',
  'functionTimeoutSeconds',
  'functionName',
  'memoryLimitInMB',
  'onFailure',
  'pollIntervalMs',
  'clock',
] as const;

/** Throws {@link EventSourceConfigurationError} for a key that is not an option (a typo). */
export function assertKnownKeys(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new EventSourceConfigurationError(
        `Unknown option "${key}" for ${what}; known options: ${known.join(', ')}`,
        { option: key },
      );
    }
  }
}

/** Applies defaults and checks every shared setting against Lambda's limits. */
export function resolveStreamSettings<TEvent, TResponse, TFailure, TRecord>(
  options: StreamEventSourceOptions<TEvent, TResponse, TFailure, TRecord>,
): ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord> {
  if ((options.handler === undefined) === (options.handlerModule === undefined)) {
    throw new EventSourceConfigurationError('give exactly one of handler and handlerModule', {
      handler: typeof options.handler,
      handlerModule: typeof options.handlerModule,
    });
  }
  if (options.handler !== undefined && typeof options.handler !== 'function') {
    throw new EventSourceConfigurationError('handler must be a function (event, context) => response', {
      handler: typeof options.handler,
    });
  }
  if (options.handlerModule !== undefined && typeof options.handlerModule !== 'function') {
    throw new EventSourceConfigurationError(
      'handlerModule must be a function (instance) => import(...) returning the module',
      { handlerModule: typeof options.handlerModule },
    );
  }
  const handlerExport = options.handlerExport ?? 'handler';
  if (typeof handlerExport !== 'string' || handlerExport === '') {
    throw new EventSourceConfigurationError('handlerExport must be a non-empty string', { handlerExport });
  }
  const batchSize = options.batchSize ?? 100;
  integerInRange('batchSize', batchSize, 1, 10_000);
  const window = options.maximumBatchingWindowInSeconds ?? 0;
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 0 || window > 300) {
    throw new EventSourceConfigurationError('maximumBatchingWindowInSeconds must be from 0 to 300', {
      maximumBatchingWindowInSeconds: window,
    });
  }
  const maximumRetryAttempts = options.maximumRetryAttempts ?? REQUIRED.maximumRetryAttempts;
  integerInRange('maximumRetryAttempts', maximumRetryAttempts, -1, 10_000);
  const maximumRecordAgeInSeconds = options.maximumRecordAgeInSeconds ?? REQUIRED.maximumRecordAgeInSeconds;
  if (
    maximumRecordAgeInSeconds !== -1 &&
    (!Number.isInteger(maximumRecordAgeInSeconds) ||
      maximumRecordAgeInSeconds < 60 ||
      maximumRecordAgeInSeconds > 604_800)
  ) {
    throw new EventSourceConfigurationError(
      'maximumRecordAgeInSeconds must be -1 (infinite) or an integer from 60 to 604800 (Lambda limits); use `clock` to test record ages without waiting',
      { maximumRecordAgeInSeconds },
    );
  }
  const functionTimeoutSeconds = options.functionTimeoutSeconds ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
  assertFunctionTimeout(functionTimeoutSeconds, 'functionTimeoutSeconds');
  const memoryLimitInMB = options.memoryLimitInMB ?? 128;
  integerInRange('memoryLimitInMB', memoryLimitInMB, 128, 10_240);
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionName)) {
    throw new EventSourceConfigurationError('functionName must be 1-64 letters, digits, "-" or "_"', {
      functionName,
    });
  }
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  integerInRange('pollIntervalMs', pollIntervalMs, 1, 60_000);
  if (options.onFailure !== undefined && typeof options.onFailure !== 'function') {
    throw new EventSourceConfigurationError('onFailure must be a function', {
      onFailure: typeof options.onFailure,
    });
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new EventSourceConfigurationError('clock must be a function returning epoch milliseconds', {
      clock: typeof options.clock,
    });
  }
  return {
    handler: options.handler,
    handlerModule: options.handlerModule,
    handlerExport,
    batchSize,
    maximumBatchingWindowInSeconds: window,
    reportBatchItemFailures: booleanOption('reportBatchItemFailures', options.reportBatchItemFailures),
    bisectBatchOnFunctionError: booleanOption(
      'bisectBatchOnFunctionError',
      options.bisectBatchOnFunctionError,
    ),
    maximumRetryAttempts,
    maximumRecordAgeInSeconds,
    functionTimeoutSeconds,
    functionName,
    memoryLimitInMB,
    onFailure: options.onFailure,
    pollIntervalMs,
    clock: options.clock ?? Date.now,
  };
}

function integerInRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new EventSourceConfigurationError(`${name} must be an integer from ${min} to ${max}`, {
      [name]: value,
    });
  }
}

function booleanOption(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new EventSourceConfigurationError(`${name} must be true or false`, { [name]: value });
  }
  return value;
}
