import { CONSUMER_EVENT_SOURCE_SETTINGS, TIDEMARK_METRICS } from '@tidemark/core';
import { Arn, ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamConsumer } from 'aws-cdk-lib/aws-kinesis';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type EventSourceMapping, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { z } from 'zod';
import type { MetricsTarget } from './alarms';
import { UnsupportedTopologyError } from './errors';
import { EventStream, STREAM_READ_ACTIONS } from './event-stream';
import { createFailureQueue, createStreamMapping } from './mapping';
import { monitoringPropsShape, monitorStreamFunction } from './monitoring';
import { anyObject, durationSchema, instanceOf, intInRange, parseProps } from './props';

/** Properties of {@link EventConsumer}. */
export interface EventConsumerProps {
  /** The listener function: its handler is `createConsumer(...)`. */
  readonly handler: LambdaFunction;
  /**
   * The stream it reads: an {@link EventStream} of this account, or the ARN of a stream in another
   * account (whose owner granted this listener's role or account with
   * `EventStream.grantCrossAccountRead`).
   */
  readonly eventStream: EventStream | string;
  /**
   * The customer managed key of a stream given by ARN, if it has one (an {@link EventStream}
   * brings its own). @default none (the stream uses the AWS managed key)
   */
  readonly streamEncryptionKey?: IKey;
  /**
   * A checkpoint table to share with other consumers (any number of consumers can share one; each
   * keeps its own checkpoints by name). @default a new table (`pk`, `sk` strings, on-demand,
   * point-in-time recovery, retained)
   */
  readonly checkpointTable?: ITable;
  /** A separate dead-letter table, if the consumer's `deadLetters.tableName` names one. @default the checkpoint table */
  readonly deadLetterTable?: ITable;
  /**
   * Tables the handlers write in transactional mode (`context.transaction.put/update/delete/
   * conditionCheck`): they get exactly those four item actions. Reads the handlers make are the
   * function's own business. @default none
   */
  readonly transactionalTables?: readonly ITable[];
  /**
   * Read through a registered stream consumer (enhanced fan-out): its own 2 MB/s per shard and
   * push delivery, instead of sharing each shard's 5 reads/s and 2 MB/s with every other standard
   * listener. Costs per consumer-shard hour and per GB read. Streams of this account only.
   * @default false
   */
  readonly enhancedFanOut?: boolean;
  /** Records per invocation (1–10,000); one batched checkpoint read covers a batch. @default 100 */
  readonly batchSize?: number;
  /** How long Lambda may wait to fill a batch (0–300 s). @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard (1–10); each aggregate stays in order at any factor. @default 1 */
  readonly parallelizationFactor?: number;
  /** Where Lambda describes records it gave up on. @default a new encrypted SQS queue */
  readonly onFailure?: IQueue;
  /** The iterator age that raises the alarm. @default Duration.minutes(5) */
  readonly iteratorAgeThreshold?: Duration;
  /** What the alarms do when they fire. @default none */
  readonly alarmActions?: readonly IAlarmAction[];
  /** The CloudWatch namespace of the consumer's counters. @default TIDEMARK_METRICS.namespace */
  readonly metricsNamespace?: string;
  /** The `service` dimension of the consumer's counters. @default a name unique in the app */
  readonly service?: string;
  /** What happens to a checkpoint table created here when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly checkpointTableRemovalPolicy?: RemovalPolicy;
}

const isTable = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { tableArn?: unknown }).tableArn === 'string';

const propsSchema = z
  .object({
    handler: instanceOf<LambdaFunction>('a lambda.Function', (value) => value instanceof LambdaFunction),
    eventStream: z.union([
      instanceOf<EventStream>('an EventStream', (value) => value instanceof EventStream),
      z.string().regex(/^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/.+$|^\$\{Token\[/, {
        message: 'expected an EventStream or a Kinesis stream ARN',
      }),
    ]),
    streamEncryptionKey: anyObject<IKey>('a KMS key (IKey)').optional(),
    checkpointTable: instanceOf<ITable>('a DynamoDB table (ITable)', isTable).optional(),
    deadLetterTable: instanceOf<ITable>('a DynamoDB table (ITable)', isTable).optional(),
    transactionalTables: z.array(instanceOf<ITable>('a DynamoDB table (ITable)', isTable)).optional(),
    enhancedFanOut: z.boolean().optional(),
    batchSize: intInRange(1, 10_000).optional(),
    maxBatchingWindow: durationSchema
      .refine((value) => value.toSeconds() <= 300, { message: 'expected at most 300 seconds' })
      .optional(),
    parallelizationFactor: intInRange(1, 10).optional(),
    onFailure: anyObject<IQueue>('an SQS queue (IQueue)').optional(),
    ...monitoringPropsShape,
    checkpointTableRemovalPolicy: z.enum(RemovalPolicy).optional(),
  })
  .strict();

/**
 * The checkpoint table's TTL attribute: `CONSUMER_TABLE_TTL_ATTRIBUTE` of `@tidemark/consumer` (a
 * test keeps the two equal; the constructs do not depend on the consumer's runtime).
 */
export const CONSUMER_TTL_ATTRIBUTE = 'expiresAt';

/**
 * What `createConsumer` sends to its checkpoint table: batched checkpoint reads (`BatchGetItem`),
 * single reads (`GetItem`), held records, gaps and dead letters (`Query`), conditional checkpoint
 * and record writes (`PutItem`, alone and inside its transactions), the in-flight marker that counts
 * deliveries that died under a handler (`UpdateItem`, one per batch that runs handlers), retirements
 * (`DeleteItem`), held-record and dead-letter chunks (`BatchWriteItem`) and the checkpoint-revision
 * check of a conditional retirement (`ConditionCheckItem`). No `Scan` or table management. A test
 * runs the consumer through its paths and checks that it sends nothing outside this list.
 */
export const CONSUMER_TABLE_ACTIONS = Object.freeze([
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
]);

/** What a handler can stage in transactional mode (`put`, `update`, `delete`, `conditionCheck`). */
export const TRANSACTIONAL_WRITE_ACTIONS = Object.freeze([
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
]);

/** Reading through a registered stream consumer (enhanced fan-out), granted on the consumer only. */
const FAN_OUT_ACTIONS = Object.freeze(['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer']);

/** The alarms of an {@link EventConsumer}; the README's runbook has an entry for each. */
export interface EventConsumerAlarms {
  /** The listener is behind the stream. */
  readonly iteratorAge: Alarm;
  /** Events were parked in the dead-letter store. */
  readonly recordsParked: Alarm;
  /** Gaps were given up on: events skipped over. */
  readonly gapsExpired: Alarm;
  /** Events the listener cannot read yet hold their aggregates: deploy a definition that reads them. */
  readonly eventsUnreadable: Alarm;
  /** Lambda gave up on records (they expired from the stream): events never handled. */
  readonly onFailure: Alarm;
}

/**
 * Wires a listener function to an event stream, in this or another account: the event source
 * mapping with `CONSUMER_EVENT_SOURCE_SETTINGS` (ReportBatchItemFailures, never give up on a
 * record, no bisecting, from the oldest record), optionally through enhanced fan-out, its
 * checkpoint table (created or shared), an on-failure queue, grants for exactly what the consumer
 * does (and what transactional handlers stage), and alarms on iterator age, parked records,
 * expired gaps and the on-failure queue.
 *
 * It sets `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME` on the function, so the
 * consumer's counters emitted through Powertools `Metrics` land where the alarms look.
 *
 * @example
 * ```ts
 * import { EventConsumer } from '@tidemark/cdk';
 *
 * const listener = new EventConsumer(this, 'ActivityFeed', {
 *   handler: fn,
 *   eventStream: 'arn:aws:kinesis:eu-west-1:111111111111:stream/task-events',
 *   transactionalTables: [feed],
 * });
 * fn.addEnvironment('CONSUMER_TABLE', listener.checkpointTable.tableName);
 * ```
 */
export class EventConsumer extends Construct {
  /** The listener function. */
  readonly handler: LambdaFunction;
  /** The checkpoint table (created here or shared). */
  readonly checkpointTable: ITable;
  /** The event source mapping. */
  readonly mapping: EventSourceMapping;
  /** The registered stream consumer, with enhanced fan-out. */
  readonly fanOutConsumer: StreamConsumer | undefined;
  /** The on-failure destination. */
  readonly onFailure: IQueue;
  /** Where the consumer's counters are published. */
  readonly metrics: MetricsTarget;
  /** The alarms. */
  readonly alarms: EventConsumerAlarms;

  constructor(scope: Construct, id: string, props: EventConsumerProps) {
    super(scope, id);
    const parsed = parseProps(propsSchema, props, 'EventConsumer', this);
    this.handler = parsed.handler;
    const { eventStream } = parsed;
    const streamArn = typeof eventStream === 'string' ? eventStream : eventStream.streamArn;

    // Reading the stream: with an EventStream of this app its own grant (and key); with an ARN the
    // same actions on that ARN, the stream's owner allowing them in its resource policy.
    if (typeof eventStream === 'string') {
      Grant.addToPrincipal({
        grantee: this.handler,
        actions: [...STREAM_READ_ACTIONS],
        resourceArns: [streamArn],
      });
      parsed.streamEncryptionKey?.grantDecrypt(this.handler);
    } else {
      eventStream.grantRead(this.handler);
    }

    let eventSourceArn = streamArn;
    if (parsed.enhancedFanOut === true) {
      if (this.isOtherAccount(eventStream)) {
        throw new UnsupportedTopologyError(
          'EventConsumer',
          this.node.path,
          'enhanced fan-out needs a stream consumer registered in the stream’s account; a listener stack cannot register one on another account’s stream. Read with standard iterators, or ask the stream’s owner to register a consumer for you.',
          { streamArn },
        );
      }
      const stream =
        typeof eventStream === 'string'
          ? Stream.fromStreamArn(this, 'Stream', streamArn)
          : eventStream.stream;
      this.fanOutConsumer = new StreamConsumer(this, 'FanOut', {
        stream,
        streamConsumerName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      });
      Grant.addToPrincipal({
        grantee: this.handler,
        actions: [...FAN_OUT_ACTIONS],
        resourceArns: [this.fanOutConsumer.streamConsumerArn],
      });
      eventSourceArn = this.fanOutConsumer.streamConsumerArn;
    } else {
      this.fanOutConsumer = undefined;
    }

    this.checkpointTable =
      parsed.checkpointTable ??
      new Table(this, 'Checkpoints', {
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        sortKey: { name: 'sk', type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        // The consumer's in-flight markers expire through TTL (consumerTableDescription's ttlAttribute).
        timeToLiveAttribute: CONSUMER_TTL_ATTRIBUTE,
        removalPolicy: parsed.checkpointTableRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
    const consumerTables = [
      this.checkpointTable,
      ...(parsed.deadLetterTable ? [parsed.deadLetterTable] : []),
    ];
    Grant.addToPrincipal({
      grantee: this.handler,
      actions: [...CONSUMER_TABLE_ACTIONS],
      resourceArns: consumerTables.map((table) => table.tableArn),
    });
    for (const table of consumerTables) table.encryptionKey?.grantEncryptDecrypt(this.handler);
    const transactional = parsed.transactionalTables ?? [];
    if (transactional.length > 0) {
      Grant.addToPrincipal({
        grantee: this.handler,
        actions: [...TRANSACTIONAL_WRITE_ACTIONS],
        resourceArns: transactional.map((table) => table.tableArn),
      });
      for (const table of transactional) table.encryptionKey?.grantEncryptDecrypt(this.handler);
    }

    this.onFailure = parsed.onFailure ?? createFailureQueue(this, 'OnFailure');
    this.mapping = createStreamMapping(this, 'Mapping', {
      target: this.handler,
      eventSourceArn,
      settings: CONSUMER_EVENT_SOURCE_SETTINGS,
      parallelizationFactor: parsed.parallelizationFactor ?? 1,
      batchSize: parsed.batchSize ?? 100,
      maxBatchingWindow: parsed.maxBatchingWindow ?? Duration.seconds(0),
      onFailure: this.onFailure,
    });

    const monitoring = monitorStreamFunction(this, {
      role: 'listener',
      handler: this.handler,
      onFailure: this.onFailure,
      props: parsed,
      iteratorAgeEntry: 'behind the event stream (iterator age)',
      counters: {
        recordsParked: {
          id: 'RecordsParkedAlarm',
          metricName: TIDEMARK_METRICS.consumer.recordsParked,
          entry: 'events were parked (parked records)',
        },
        gapsExpired: {
          id: 'GapsExpiredAlarm',
          metricName: TIDEMARK_METRICS.consumer.gapsExpired,
          entry: 'gaps were given up on (expired gaps)',
        },
        eventsUnreadable: {
          id: 'EventsUnreadableAlarm',
          metricName: TIDEMARK_METRICS.consumer.eventsUnreadable,
          entry: 'events it cannot read yet hold their aggregates (unreadable events)',
        },
      },
      onFailureEntry: 'Lambda gave up on stream records (on-failure queue)',
    });
    this.metrics = monitoring.metrics;
    this.alarms = {
      iteratorAge: monitoring.iteratorAge,
      ...monitoring.counters,
      onFailure: monitoring.onFailure,
    };
  }

  /** Whether the stream lives in another account than this stack (when both accounts are known). */
  private isOtherAccount(eventStream: EventStream | string): boolean {
    const here = Stack.of(this).account;
    const there =
      typeof eventStream === 'string'
        ? Arn.split(eventStream, ArnFormat.SLASH_RESOURCE_NAME).account
        : Stack.of(eventStream).account;
    if (there === undefined || Token.isUnresolved(here) || Token.isUnresolved(there)) return false;
    return here !== there;
  }
}
