/**
 * Retrying an append attempt after a transient refusal (transaction conflicts, throttling), with
 * exponential backoff and jitter; when the retries run out, one `EventLogBusyError` with every
 * reason seen and whether the outcome is unknown.
 */
import pRetryImport from 'p-retry';
import { EventLogBusyError } from './errors';
import { defaultExport } from './interop';
import { TransientAppendFailure } from './transient-errors';

const pRetry = defaultExport(pRetryImport);

/** How `append` retries transient refusals (transaction conflicts, throttling). */
export interface AppendRetryOptions {
  /**
   * Retries after the first attempt.
   *
   * @default 3 (`EVENT_LOG_DEFAULTS.retry.retries`)
   */
  readonly retries?: number;
  /**
   * Delay before the first retry, in ms (doubled each time, with jitter).
   *
   * @default 25 (`EVENT_LOG_DEFAULTS.retry.minTimeoutMs`)
   */
  readonly minTimeoutMs?: number;
  /**
   * Longest delay between two attempts, in ms.
   *
   * @default 500 (`EVENT_LOG_DEFAULTS.retry.maxTimeoutMs`)
   */
  readonly maxTimeoutMs?: number;
}

/** {@link AppendRetryOptions} checked, with every default applied. */
export type AppendRetrySettings = Required<AppendRetryOptions>;

/**
 * Runs `attempt` until it settles with something other than a {@link TransientAppendFailure}, at
 * most `1 + settings.retries` times; then throws `EventLogBusyError` for the command.
 */
export async function retryTransient<T>(
  settings: AppendRetrySettings,
  command: { readonly aggregateKey: string; readonly commandId: string },
  attempt: () => Promise<T>,
): Promise<T> {
  let attempts = 0;
  const seenReasons = new Set<string>();
  try {
    return await pRetry(
      async () => {
        attempts += 1;
        return attempt();
      },
      {
        retries: settings.retries,
        minTimeout: settings.minTimeoutMs,
        maxTimeout: settings.maxTimeoutMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof TransientAppendFailure,
        onFailedAttempt: ({ error }) => {
          if (error instanceof TransientAppendFailure)
            for (const reason of error.reasons) seenReasons.add(reason);
        },
      },
    );
  } catch (error) {
    if (error instanceof TransientAppendFailure) {
      throw new EventLogBusyError(
        {
          aggregateKey: command.aggregateKey,
          commandId: command.commandId,
          attempts,
          reasons: [...seenReasons],
          outcomeUnknown: error.outcomeUnknown,
        },
        error.original,
      );
    }
    throw error;
  }
}
