/**
 * The alarms the constructs create: a function's iterator age, its errors, the Tidemark counters
 * (emitted by the publisher and the consumer through their `metrics` option) and the on-failure queue.
 *
 * @internal
 */
import { TIDEMARK_METRICS } from '@tidemark/core';
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Where a function's Tidemark counters are published. */
export interface MetricsTarget {
  /** The CloudWatch namespace. */
  readonly namespace: string;
  /** The value of the `service` dimension. */
  readonly service: string;
}

/** The evaluation window of every alarm. */
const PERIOD = Duration.minutes(5);

/** Alarms when the function's `IteratorAge` (the age of the last record it read) exceeds `threshold`. */
export function iteratorAgeAlarm(
  scope: Construct,
  fn: IFunction,
  threshold: Duration,
  description: string,
  actions: readonly IAlarmAction[],
): Alarm {
  return withActions(
    new Alarm(scope, 'IteratorAgeAlarm', {
      metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: PERIOD }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no invocations: an idle stream, not a held shard.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }),
    actions,
  );
}

/** Alarms on any function error (an invocation that failed as a whole). */
export function errorsAlarm(
  scope: Construct,
  fn: IFunction,
  description: string,
  actions: readonly IAlarmAction[],
): Alarm {
  const metric = fn.metricErrors({ statistic: 'Sum', period: PERIOD });
  return atLeastOneAlarm(scope, 'ErrorsAlarm', metric, description, actions);
}

/** The metric of a Tidemark counter of one function. */
export function tidemarkMetric(target: MetricsTarget, metricName: string): Metric {
  return new Metric({
    namespace: target.namespace,
    metricName,
    dimensionsMap: { [TIDEMARK_METRICS.serviceDimension]: target.service },
    statistic: 'Sum',
    period: PERIOD,
  });
}

/**
 * Alarms as soon as a Tidemark counter is above zero. The counters are emitted with every
 * invocation (0 included), so no data is no invocation.
 */
export function counterAlarm(
  scope: Construct,
  id: string,
  target: MetricsTarget,
  metricName: string,
  description: string,
  actions: readonly IAlarmAction[],
): Alarm {
  return atLeastOneAlarm(scope, id, tidemarkMetric(target, metricName), description, actions);
}

/** Alarms as soon as the on-failure queue holds a message: Lambda gave up on records. */
export function failureQueueAlarm(
  scope: Construct,
  queue: IQueue,
  description: string,
  actions: readonly IAlarmAction[],
): Alarm {
  const metric = queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD });
  return atLeastOneAlarm(scope, 'OnFailureAlarm', metric, description, actions);
}

/** Alarms when `metric` reaches 1 in one period; no data (nothing happened) is not breaching. */
function atLeastOneAlarm(
  scope: Construct,
  id: string,
  metric: IMetric,
  description: string,
  actions: readonly IAlarmAction[],
): Alarm {
  return withActions(
    new Alarm(scope, id, {
      metric,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }),
    actions,
  );
}

function withActions(alarm: Alarm, actions: readonly IAlarmAction[]): Alarm {
  if (actions.length > 0) alarm.addAlarmAction(...actions);
  return alarm;
}
