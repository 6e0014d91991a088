import { PUBLISHER_EVENT_SOURCE_SETTINGS, TIDEMARK_METRICS } from '@tidemark/core';
import { Duration } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { type EventSourceMapping, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { z } from 'zod';
import type { MetricsTarget } from './alarms';
import { EventLogTable } from './event-log-table';
import { EventStream } from './event-stream';
import { createFailureQueue, createStreamMapping } from './mapping';
import { monitoringPropsShape, monitorStreamFunction } from './monitoring';
import { anyObject, durationSchema, instanceOf, intInRange, parseProps } from './props';

/** Properties of {@link EventPublisher}. */
export interface EventPublisherProps {
  /** The publisher function: its handler is `createPublisher(...)`. */
  readonly handler: LambdaFunction;
  /** The event log whose stream it publishes. */
  readonly eventLog: EventLogTable;
  /** The stream it publishes to. */
  readonly eventStream: EventStream;
  /** Stream records per invocation (1–10,000); larger batches share PutRecords calls. @default 100 */
  readonly batchSize?: number;
  /** How long Lambda may wait to fill a batch (0–300 s). @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Where Lambda describes records it gave up on. @default a new encrypted SQS queue */
  readonly onFailure?: IQueue;
  /**
   * The iterator age (how far behind the log's stream the publisher is) that raises the alarm.
   * Events normally reach the stream within seconds; the log's stream keeps records 24 hours.
   * @default Duration.minutes(5)
   */
  readonly iteratorAgeThreshold?: Duration;
  /** What the alarms do when they fire (an SNS topic, a pager). @default none */
  readonly alarmActions?: readonly IAlarmAction[];
  /** The CloudWatch namespace of the publisher's counters. @default TIDEMARK_METRICS.namespace */
  readonly metricsNamespace?: string;
  /** The `service` dimension of the publisher's counters. @default a name unique in the app */
  readonly service?: string;
}

const propsSchema = z
  .object({
    handler: instanceOf<LambdaFunction>('a lambda.Function', (value) => value instanceof LambdaFunction),
    eventLog: instanceOf<EventLogTable>('an EventLogTable', (value) => value instanceof EventLogTable),
    eventStream: instanceOf<EventStream>('an EventStream', (value) => value instanceof EventStream),
    batchSize: intInRange(1, 10_000).optional(),
    maxBatchingWindow: durationSchema
      .refine((value) => value.toSeconds() <= 300, { message: 'expected at most 300 seconds' })
      .optional(),
    onFailure: anyObject<IQueue>('an SQS queue (IQueue)').optional(),
    ...monitoringPropsShape,
  })
  .strict();

/** The alarms of an {@link EventPublisher}; the README's runbook has an entry for each. */
export interface EventPublisherAlarms {
  /** The publisher is behind the log's stream: a shard is held (Kinesis failing, a poison record, errors). */
  readonly iteratorAge: Alarm;
  /** Invocations failed as a whole (crash, time-out, out of memory). */
  readonly errors: Alarm;
  /** An event item was modified or removed in the log. */
  readonly historyRewrites: Alarm;
  /** A stream record can never be published; its aggregate's later events are held. */
  readonly unpublishableRecords: Alarm;
  /** Lambda gave up on stream records (they expired): events not published. */
  readonly onFailure: Alarm;
}

/**
 * Wires a publisher function to an event log's stream and an event stream: the event source
 * mapping with `PUBLISHER_EVENT_SOURCE_SETTINGS` (ReportBatchItemFailures, never give up on a
 * record, bisect on error, one batch per shard, from the oldest record), an on-failure queue,
 * the least privilege (read the log's stream, put records on the stream, send to the queue) and
 * alarms on iterator age, errors, history rewrites, unpublishable records and the on-failure queue.
 *
 * It sets `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME` on the function, so the
 * publisher's counters emitted through Powertools `Metrics` land where the alarms look.
 *
 * @example
 * ```ts
 * import { EventLogTable, EventPublisher, EventStream } from '@tidemark/cdk';
 *
 * const log = new EventLogTable(this, 'TaskLog');
 * const events = new EventStream(this, 'Events');
 * const fn = new NodejsFunction(this, 'TaskPublisher', { entry: 'src/publisher.ts', runtime: Runtime.NODEJS_22_X });
 * new EventPublisher(this, 'Publisher', { handler: fn, eventLog: log, eventStream: events });
 * ```
 */
export class EventPublisher extends Construct {
  /** The publisher function. */
  readonly handler: LambdaFunction;
  /** The event source mapping on the log's stream. */
  readonly mapping: EventSourceMapping;
  /** The on-failure destination. */
  readonly onFailure: IQueue;
  /** Where the publisher's counters are published. */
  readonly metrics: MetricsTarget;
  /** The alarms. */
  readonly alarms: EventPublisherAlarms;

  constructor(scope: Construct, id: string, props: EventPublisherProps) {
    super(scope, id);
    const parsed = parseProps(propsSchema, props, 'EventPublisher', this);
    const { eventLog, eventStream } = parsed;
    this.handler = parsed.handler;
    this.onFailure = parsed.onFailure ?? createFailureQueue(this, 'OnFailure');

    eventLog.grantStreamRead(this.handler);
    // A command split over stream batches is completed from the log with one Query (never a write).
    Grant.addToPrincipal({
      grantee: this.handler,
      actions: ['dynamodb:Query'],
      resourceArns: [eventLog.table.tableArn],
    });
    eventStream.grantPublish(this.handler);
    this.mapping = createStreamMapping(this, 'Mapping', {
      target: this.handler,
      eventSourceArn: eventLog.tableStreamArn,
      settings: PUBLISHER_EVENT_SOURCE_SETTINGS,
      parallelizationFactor: PUBLISHER_EVENT_SOURCE_SETTINGS.parallelizationFactor,
      batchSize: parsed.batchSize ?? 100,
      maxBatchingWindow: parsed.maxBatchingWindow ?? Duration.seconds(0),
      onFailure: this.onFailure,
    });

    const monitoring = monitorStreamFunction(this, {
      role: 'publisher',
      handler: this.handler,
      onFailure: this.onFailure,
      props: parsed,
      iteratorAgeEntry: 'behind the event log stream (iterator age)',
      errorsEntry: 'invocations failed (errors)',
      counters: {
        historyRewrites: {
          id: 'HistoryRewritesAlarm',
          metricName: TIDEMARK_METRICS.publisher.historyRewrites,
          entry: 'an event item was modified or removed (history rewrites)',
        },
        unpublishableRecords: {
          id: 'UnpublishableRecordsAlarm',
          metricName: TIDEMARK_METRICS.publisher.unpublishableRecords,
          entry: 'a record can never be published (unpublishable records)',
        },
      },
      onFailureEntry: 'Lambda gave up on log stream records (on-failure queue)',
    });
    this.metrics = monitoring.metrics;
    this.alarms = {
      iteratorAge: monitoring.iteratorAge,
      errors: monitoring.errors,
      ...monitoring.counters,
      onFailure: monitoring.onFailure,
    };
  }
}
