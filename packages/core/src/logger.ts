/**
 * The one logger contract of the Tidemark packages, and the default logger that fulfils it.
 */
import { describeError } from './error-description';
import { ConfigurationError } from './errors';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The levels of {@link createJsonLogger}: a {@link LogLevel}, or `'silent'` to write nothing. */
export type LogThreshold = LogLevel | 'silent';

/**
 * A structured logger: a constant message and an object of attributes. The publisher, the consumer
 * (and its handlers' `context.logger`) all log through this shape. Powertools' `Logger` and
 * `console` fit as they are; the default is {@link createJsonLogger}. (Each method is declared
 * with and without attributes, rather than with an optional parameter, so that Powertools'
 * `Logger`, whose second parameter is a rest of several shapes, is assignable.)
 *
 * Messages are constant sentences; everything that varies (ids, versions, counts, the error) is an
 * attribute, so nothing is formatted for a level the logger drops. Payloads are never logged.
 */
export interface TidemarkLogger {
  /** Details of every call (wave sizes, skipped events). */
  debug(message: string): void;
  debug(message: string, attributes: Record<string, unknown>): void;
  /** One summary per invocation, batch or replay page. */
  info(message: string): void;
  info(message: string, attributes: Record<string, unknown>): void;
  /** Something needed a retry or was left for redelivery. */
  warn(message: string): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  /** Something was not done and needs attention (records parked or not published). */
  error(message: string): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /**
   * The lowest level written.
   * @default the level of Lambda's log configuration (`AWS_LAMBDA_LOG_LEVEL`), else
   * `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`, else `'info'`
   */
  readonly level?: LogThreshold;
  /**
   * Where a line goes (one JSON object, without the newline).
   * @default one line on standard output (stderr for `warn` and `error`), as Lambda expects it
   */
  readonly write?: (line: string, level: LogLevel) => void;
  /**
   * The `service` attribute of every line.
   * @default `POWERTOOLS_SERVICE_NAME`, else `'tidemark'`
   */
  readonly service?: string;
}

/** Defaults of {@link createJsonLogger} when the environment sets nothing. */
export const JSON_LOGGER_DEFAULTS = Object.freeze({
  /** The level when neither Lambda nor Powertools sets one: one summary line per invocation. */
  level: 'info' as LogThreshold,
  /** The `service` attribute when `POWERTOOLS_SERVICE_NAME` is not set. */
  service: 'tidemark',
});

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const THRESHOLDS: readonly LogThreshold[] = [...LEVELS, 'silent'];

/** The environment's level names (Lambda's and Powertools') mapped to ours. */
const ENVIRONMENT_LEVELS: Readonly<Record<string, LogThreshold>> = Object.freeze({
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  fatal: 'error',
  silent: 'silent',
});

/**
 * The level the environment asks for: Lambda's advanced logging control (`AWS_LAMBDA_LOG_LEVEL`)
 * first, since Lambda drops lower levels anyway, then `POWERTOOLS_LOG_LEVEL`, then `LOG_LEVEL`.
 * `undefined` when none is set to a known level.
 */
export function logLevelFromEnvironment(
  environment: Readonly<Record<string, string | undefined>> = process.env,
): LogThreshold | undefined {
  for (const variable of ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL']) {
    const level = ENVIRONMENT_LEVELS[environment[variable]?.trim().toLowerCase() ?? ''];
    if (level !== undefined) return level;
  }
  return undefined;
}

/** JSON.stringify's replacer: errors as their description, bigints as strings. */
function serializable(_key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  return typeof value === 'bigint' ? value.toString() : value;
}

function defaultWrite(line: string, level: LogLevel): void {
  (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
}

/**
 * A logger that writes one JSON object per line: `level`, `message`, `timestamp`, `service` and the
 * attributes. Errors anywhere in the attributes are written as `{ name, message, code }`, without
 * the stack. Lines below the level are dropped before anything is serialized.
 *
 * @example
 * ```ts
 * import { createJsonLogger } from '@tidemark/core';
 * import { createPublisher } from '@tidemark/publisher';
 *
 * export const handler = createPublisher({
 *   streamName: 'task-events',
 *   logger: createJsonLogger({ level: 'debug', service: 'task-publisher' }),
 * });
 * ```
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): TidemarkLogger {
  const level = options.level ?? logLevelFromEnvironment() ?? JSON_LOGGER_DEFAULTS.level;
  if (!THRESHOLDS.includes(level)) {
    throw new ConfigurationError(`createJsonLogger: level must be one of ${THRESHOLDS.join(', ')}`, {
      factory: 'createJsonLogger',
      option: 'level',
      received: JSON.stringify(String(level)),
    });
  }
  const threshold = THRESHOLDS.indexOf(level);
  const write = options.write ?? defaultWrite;
  const service = options.service ?? process.env.POWERTOOLS_SERVICE_NAME ?? JSON_LOGGER_DEFAULTS.service;
  const log =
    (at: LogLevel) =>
    (message: string, attributes: Record<string, unknown> = {}): void => {
      if (LEVELS.indexOf(at) < threshold) return;
      const base = { level: at.toUpperCase(), message, timestamp: new Date().toISOString(), service };
      let line: string;
      try {
        line = JSON.stringify({ ...base, ...attributes }, serializable);
      } catch (error) {
        // A circular or otherwise unserializable attribute must not turn a log call into a failure.
        line = JSON.stringify({ ...base, attributesUnserializable: describeError(error) });
      }
      write(line, at);
    };
  return Object.freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') });
}

const METHODS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Resolves the `logger` option: the caller's logger (checked for the four methods), else a
 * {@link createJsonLogger} whose `service` is `POWERTOOLS_SERVICE_NAME` or `defaultService`.
 */
export function resolveLogger(
  logger: TidemarkLogger | undefined,
  defaultService: string,
  where: string,
): TidemarkLogger {
  if (logger === undefined) {
    return createJsonLogger({ service: process.env.POWERTOOLS_SERVICE_NAME ?? defaultService });
  }
  const missing = METHODS.filter(
    (method) => typeof (logger as Partial<TidemarkLogger> | null)?.[method] !== 'function',
  );
  if (missing.length > 0) {
    throw new ConfigurationError(
      `${where}: logger must have debug, info, warn and error methods (missing ${missing.join(', ')})`,
      { factory: where, option: 'logger', received: `an object without ${missing.join(', ')}` },
    );
  }
  return logger;
}
