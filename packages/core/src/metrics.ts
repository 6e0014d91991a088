/**
 * The one metrics contract of the Tidemark packages: counts, named in {@link TIDEMARK_METRICS},
 * handed to an object with Powertools Metrics' `addMetric`.
 */
import { describeError } from './error-description';
import { ConfigurationError } from './errors';
import type { TIDEMARK_METRICS } from './event-source-settings';
import type { TidemarkLogger } from './logger';

/** The name of a count the publisher reports (once per invocation or replay page). */
export type PublisherMetricName =
  (typeof TIDEMARK_METRICS.publisher)[keyof typeof TIDEMARK_METRICS.publisher];

/** The name of a count the consumer reports (once per batch or gap sweep). */
export type ConsumerMetricName = (typeof TIDEMARK_METRICS.consumer)[keyof typeof TIDEMARK_METRICS.consumer];

/** The name of any count a Tidemark package reports (PascalCase, what is counted). */
export type TidemarkMetricName = PublisherMetricName | ConsumerMetricName;

/**
 * Where the publisher and the consumer send their counts: Powertools' `Metrics` as it is, or any
 * object with its `addMetric(name, unit, value)`. Every count is sent once per invocation, 0
 * included, with the unit `'Count'`; flushing (Powertools' `publishStoredMetrics` or its middy
 * middleware) is the caller's.
 *
 * @example
 * ```ts
 * import { Metrics } from '@aws-lambda-powertools/metrics';
 *
 * const metrics = new Metrics({ namespace: TIDEMARK_METRICS.namespace, serviceName: 'task-publisher' });
 * export const handler = middy(createPublisher({ streamName, metrics })).use(logMetrics(metrics));
 * ```
 */
export interface TidemarkMetrics {
  /** Adds one value of a metric; Tidemark always passes the unit `'Count'`. */
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** Sends one count; a failing metrics object is logged, never thrown. */
export type MetricReporter = (name: TidemarkMetricName, value: number) => void;

/**
 * Resolves the `metrics` option into a function that sends one count. A `metrics` object that
 * throws loses that count (logged at `warn`), it never fails the invocation. `where` names the
 * option in the error thrown for a value without `addMetric`.
 */
export function metricReporter(
  metrics: TidemarkMetrics | undefined,
  logger: TidemarkLogger,
  where: string,
): MetricReporter {
  if (metrics === undefined) return () => {};
  if (typeof metrics !== 'object' || metrics === null || typeof metrics.addMetric !== 'function') {
    throw new ConfigurationError(
      `${where}: metrics must be an object with addMetric(name, unit, value), such as Powertools Metrics`,
      { factory: where, option: 'metrics' },
    );
  }
  return (name, value) => {
    try {
      metrics.addMetric(name, 'Count', value);
    } catch (error) {
      logger.warn('The metrics object threw; the count is lost', {
        metric: name,
        value,
        error: describeError(error),
      });
    }
  };
}
