/**
 * Logs and counters. The logger shape is the one of Powertools' `Logger` (and of `console`), so
 * either works as is; the default writes one JSON object per line. Payloads are never logged
 * unless asked for.
 */
import { ConfigurationError } from '@tidemark/core';

/** Levels of {@link createJsonLogger}, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger: a message and an object of attributes. Powertools' `Logger` fits as is. */
export interface PublisherLogger {
  /** Details of every call (wave sizes, retries). */
  debug(message: string, attributes: Record<string, unknown>): void;
  /** One summary per invocation or replay page. */
  info(message: string, attributes: Record<string, unknown>): void;
  /** Retries that were needed. */
  warn(message: string, attributes: Record<string, unknown>): void;
  /** Records not published, and MODIFY/REMOVE or items that are not events. */
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Names of the counters reported through the metrics hook. */
export type PublisherCounter =
  | 'RecordsPublished'
  | 'PublishRetries'
  | 'RecordsFailed'
  | 'RecordsSkipped'
  | 'HistoryRewrites'
  | 'UnpublishableRecords'
  | 'CommandsCompleted';

/** One counter value, reported once per invocation (or replay page). */
export interface PublisherMetric {
  /**
   * The names follow the consumer's scheme (PascalCase, what is counted) and `TIDEMARK_METRICS`
   * (`@tidemark/core`), whose names the CDK constructs' alarms select.
   * `RecordsPublished`: records Kinesis accepted; `PublishRetries`: record sends after the first;
   * `RecordsFailed`: records left unpublished (reported to Lambda, retried later); `RecordsSkipped`:
   * stream records not published on purpose (`dimensions.reason`: `not-an-event`, an item of the
   * table that is not an event); `HistoryRewrites`: MODIFY or REMOVE records of event items
   * (`dimensions.reason`: `modify` or `remove`), a change of history behind the log's back: alarm on
   * any value above 0; `UnpublishableRecords`: stream records that can never be published (too
   * large, not an event, unroutable), each holding back the later events of its aggregate: alarm on
   * any value above 0; `CommandsCompleted`: commands a batch held only part of, whose missing events
   * were read from the log.
   */
  readonly name: PublisherCounter;
  /** The count (0 included, so dashboards see every invocation). */
  readonly value: number;
  /** Always `'Count'`. */
  readonly unit: 'Count';
  /** `component` (`publisher` or `replay`), plus `reason` for `RecordsSkipped` and `HistoryRewrites`. */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Receives counters; e.g. `({ name, value }) => metrics.addMetric(name, MetricUnit.Count, value)`. */
export type PublisherMetricsHook = (metric: PublisherMetric) => void;

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** The lowest level written. Default: `LOG_LEVEL` or `POWERTOOLS_LOG_LEVEL` from the environment, else `'info'`. */
  readonly level?: LogLevel;
  /** Where a line goes. Default: `console.log` (Lambda sends stdout to CloudWatch Logs). */
  readonly write?: (line: string) => void;
  /** The `service` attribute of every line. Default: `'tidemark-publisher'`. */
  readonly service?: string;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * A logger that writes one JSON object per line: `level`, `message`, `timestamp`, `service` and the
 * attributes. Errors in attributes are written as `{ name, message, code }`.
 *
 * @example
 * ```ts
 * import { createJsonLogger, createPublisher } from '@tidemark/publisher';
 *
 * export const handler = createPublisher({
 *   streamName: 'task-events',
 *   logger: createJsonLogger({ level: 'debug' }),
 * });
 * ```
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): PublisherLogger {
  const fromEnv = (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL)?.toLowerCase();
  const level = options.level ?? (LEVELS.includes(fromEnv as LogLevel) ? (fromEnv as LogLevel) : 'info');
  if (!LEVELS.includes(level)) {
    throw new ConfigurationError(`createJsonLogger: level: expected one of ${LEVELS.join(', ')}`, {
      factory: 'createJsonLogger',
      option: 'level',
      received: JSON.stringify(level),
    });
  }
  const threshold = LEVELS.indexOf(level);
  const write = options.write ?? ((line: string) => console.log(line));
  const service = options.service ?? 'tidemark-publisher';
  const log =
    (at: LogLevel) =>
    (message: string, attributes: Record<string, unknown> = {}): void => {
      if (LEVELS.indexOf(at) < threshold) return;
      write(
        JSON.stringify(
          { level: at.toUpperCase(), message, timestamp: new Date().toISOString(), service, ...attributes },
          (_key, value: unknown) => (value instanceof Error ? describeError(value) : value),
        ),
      );
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** An error as loggable attributes (name, message, code), without stack or payloads. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const described: Record<string, unknown> = { name: error.name, message: error.message };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') described.code = code;
    return described;
  }
  return { name: typeof error, message: String(error) };
}

/** Calls the hook without letting a broken hook break publishing (it is logged instead). */
export function reportMetrics(
  hook: PublisherMetricsHook | undefined,
  logger: PublisherLogger,
  counters: readonly [PublisherCounter, number, Record<string, string>][],
): void {
  if (!hook) return;
  for (const [name, value, dimensions] of counters) {
    try {
      hook(Object.freeze({ name, value, unit: 'Count', dimensions: Object.freeze({ ...dimensions }) }));
    } catch (error) {
      logger.warn('The metrics hook threw; the metric is lost', {
        metric: name,
        error: describeError(error),
      });
    }
  }
}
