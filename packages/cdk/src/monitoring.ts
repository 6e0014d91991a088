/**
 * The metrics and alarms of a Tidemark stream function (the publisher or a listener), in one place
 * for both constructs: where its counters go (passed to the function's environment), and its alarms
 * on iterator age, function errors (when asked), its counters and its on-failure queue.
 *
 * @internal
 */
import { TIDEMARK_METRICS } from '@tidemark/core';
import { Duration, Names } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { counterAlarm, errorsAlarm, failureQueueAlarm, iteratorAgeAlarm, type MetricsTarget } from './alarms';
import { anyObject, durationSchema } from './props';

/** The props both constructs take for their metrics and alarms, as zod checks them. */
export const monitoringPropsShape = {
  iteratorAgeThreshold: durationSchema.optional(),
  alarmActions: z.array(anyObject<IAlarmAction>('an alarm action (IAlarmAction)')).optional(),
  metricsNamespace: z.string().min(1).max(255).optional(),
  service: z.string().min(1).max(255).optional(),
};

/** The monitoring props, checked. */
export interface MonitoringProps {
  readonly iteratorAgeThreshold?: Duration | undefined;
  readonly alarmActions?: readonly IAlarmAction[] | undefined;
  readonly metricsNamespace?: string | undefined;
  readonly service?: string | undefined;
}

/** One Tidemark counter that raises an alarm as soon as it is above zero. */
export interface CounterAlarmSpec {
  /** The alarm's construct id. */
  readonly id: string;
  /** The counter (a `TIDEMARK_METRICS` name). */
  readonly metricName: string;
  /** What it means, for the alarm's description. */
  readonly entry: string;
}

/** What {@link monitorStreamFunction} watches. */
export interface StreamFunctionMonitoringInput<K extends string, E extends string | undefined> {
  /** How the descriptions name the function. */
  readonly role: 'publisher' | 'listener';
  readonly handler: LambdaFunction;
  readonly onFailure: IQueue;
  readonly props: MonitoringProps;
  /** What a high iterator age means, for the alarm's description. */
  readonly iteratorAgeEntry: string;
  /** What a function error means; without it there is no errors alarm. */
  readonly errorsEntry?: E;
  readonly counters: Readonly<Record<K, CounterAlarmSpec>>;
  /** What a message on the on-failure queue means. */
  readonly onFailureEntry: string;
}

/** The metrics target and the alarms of a stream function. */
export interface StreamFunctionMonitoring<K extends string, E extends string | undefined> {
  readonly metrics: MetricsTarget;
  readonly iteratorAge: Alarm;
  /** The errors alarm, when an `errorsEntry` was given. */
  readonly errors: E extends string ? Alarm : undefined;
  readonly counters: Readonly<Record<K, Alarm>>;
  readonly onFailure: Alarm;
}

/**
 * Points the function's counters at a namespace and `service` dimension (through its environment) and
 * creates its alarms in `scope`, in a fixed order: iterator age, errors, the counters, the on-failure
 * queue. Each description names the function and points to the README's runbook.
 */
export function monitorStreamFunction<K extends string, E extends string | undefined = undefined>(
  scope: Construct,
  input: StreamFunctionMonitoringInput<K, E>,
): StreamFunctionMonitoring<K, E> {
  const { handler, props } = input;
  const metrics: MetricsTarget = {
    namespace: props.metricsNamespace ?? TIDEMARK_METRICS.namespace,
    service: props.service ?? Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' }),
  };
  handler.addEnvironment(TIDEMARK_METRICS.environment.namespace, metrics.namespace);
  handler.addEnvironment(TIDEMARK_METRICS.environment.service, metrics.service);

  const actions = props.alarmActions ?? [];
  const runbook = (entry: string) =>
    `Tidemark ${input.role} ${scope.node.path}: ${entry}. Runbook: @tidemark/cdk README.`;
  const iteratorAge = iteratorAgeAlarm(
    scope,
    handler,
    props.iteratorAgeThreshold ?? Duration.minutes(5),
    runbook(input.iteratorAgeEntry),
    actions,
  );
  const errors = (
    input.errorsEntry === undefined
      ? undefined
      : errorsAlarm(scope, handler, runbook(input.errorsEntry), actions)
  ) as E extends string ? Alarm : undefined;
  const counters = {} as Record<K, Alarm>;
  for (const key of Object.keys(input.counters) as K[]) {
    const spec = input.counters[key];
    counters[key] = counterAlarm(scope, spec.id, metrics, spec.metricName, runbook(spec.entry), actions);
  }
  const onFailure = failureQueueAlarm(scope, input.onFailure, runbook(input.onFailureEntry), actions);
  return { metrics, iteratorAge, errors, counters, onFailure };
}
