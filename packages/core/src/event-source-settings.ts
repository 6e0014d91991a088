/**
 * The event source mapping settings the publisher and the consumer need for their guarantees, and
 * the names of the metrics alarms watch. One source of truth: the CDK constructs deploy these
 * values, `@tidemark/testing`'s event-source emulation defaults to them and the example's local run
 * emulates them. A value typed twice drifts; a mapping setting is exactly the kind of mistake that
 * loses events silently, so nothing else may spell these numbers.
 */

/**
 * Settings of a Lambda event source mapping, named as in the CDK and the Lambda API
 * (`reportBatchItemFailures` is `FunctionResponseTypes: ['ReportBatchItemFailures']`).
 */
export interface RequiredEventSourceSettings {
  /**
   * `StartingPosition: TRIM_HORIZON`: start at the oldest record the stream still has. `LATEST`
   * silently skips everything written before the mapping existed or while it was disabled.
   */
  readonly startingPosition: 'TRIM_HORIZON';
  /**
   * `FunctionResponseTypes: ['ReportBatchItemFailures']`. Both functions answer with
   * `batchItemFailures` naming the first record not done; without this setting Lambda ignores
   * the answer and counts the batch as a success (the publisher's unpublished events are lost) or
   * retries it whole.
   */
  readonly reportBatchItemFailures: true;
  /**
   * `MaximumRetryAttempts: -1` (retry until the record expires from the stream). A bounded number
   * makes Lambda give up on a batch during an outage and move on: the publisher's events never
   * reach the stream, the consumer's later expire as a gap. Poison input is not retried forever:
   * the publisher holds back only the poison record's aggregate and the consumer parks it itself.
   */
  readonly maximumRetryAttempts: -1;
  /**
   * `MaximumRecordAgeInSeconds: -1` (records are kept until the stream's retention ends). Same
   * reason as `maximumRetryAttempts`: an age limit drops events after a long enough outage.
   */
  readonly maximumRecordAgeInSeconds: -1;
  /** `BisectBatchOnFunctionError`; see each constant for the value it needs and why. */
  readonly bisectBatchOnFunctionError: boolean;
}

/** The publisher's mapping (the event log's DynamoDB stream → the publisher function). */
export interface PublisherEventSourceSettings extends RequiredEventSourceSettings {
  readonly bisectBatchOnFunctionError: true;
  /**
   * `ParallelizationFactor: 1`: one batch per shard in flight, so "retry from the earliest
   * unpublished record" covers everything after it in the shard and no two invocations publish
   * versions of one aggregate at once.
   */
  readonly parallelizationFactor: 1;
}

/** The consumer's mapping (the Kinesis stream → a listener function built with `createConsumer`). */
export interface ConsumerEventSourceSettings extends RequiredEventSourceSettings {
  readonly bisectBatchOnFunctionError: false;
}

/**
 * The event source mapping settings a publisher function (`createPublisher`) requires.
 *
 * - `bisectBatchOnFunctionError: true`: when an invocation fails as a whole (a crash, out of
 *   memory, a time-out), splitting the batch isolates the record that causes it; a reported
 *   failure is retried from that record either way.
 * - `parallelizationFactor: 1`: see {@link PublisherEventSourceSettings.parallelizationFactor}.
 * - The rest: see {@link RequiredEventSourceSettings}.
 *
 * @example
 * ```ts
 * import { PUBLISHER_EVENT_SOURCE_SETTINGS } from '@tidemark/publisher';
 *
 * new CfnEventSourceMapping(this, 'Publisher', {
 *   functionName: publisher.functionName,
 *   eventSourceArn: table.tableStreamArn,
 *   startingPosition: PUBLISHER_EVENT_SOURCE_SETTINGS.startingPosition,
 *   functionResponseTypes: ['ReportBatchItemFailures'],
 *   maximumRetryAttempts: PUBLISHER_EVENT_SOURCE_SETTINGS.maximumRetryAttempts,
 *   // …
 * });
 * ```
 */
export const PUBLISHER_EVENT_SOURCE_SETTINGS: PublisherEventSourceSettings = Object.freeze({
  startingPosition: 'TRIM_HORIZON',
  reportBatchItemFailures: true,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: true,
  parallelizationFactor: 1,
});

/**
 * The event source mapping settings a listener function (`createConsumer`) requires.
 *
 * - `bisectBatchOnFunctionError: false`: the consumer names the failed record itself and holds
 *   back only that aggregate; bisecting would only add invocations (and each counts against the
 *   event's attempts).
 * - The parallelization factor is free (1–10): one aggregate is one partition key, and Lambda keeps
 *   each partition key's records in order whatever the factor.
 * - The rest: see {@link RequiredEventSourceSettings}.
 *
 * @example
 * ```ts
 * import { CONSUMER_EVENT_SOURCE_SETTINGS } from '@tidemark/consumer';
 *
 * expect(mapping.MaximumRetryAttempts).toBe(CONSUMER_EVENT_SOURCE_SETTINGS.maximumRetryAttempts);
 * ```
 */
export const CONSUMER_EVENT_SOURCE_SETTINGS: ConsumerEventSourceSettings = Object.freeze({
  startingPosition: 'TRIM_HORIZON',
  reportBatchItemFailures: true,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: false,
});

/**
 * Where the publisher's and the consumer's metrics go, and the names alarms watch.
 *
 * The metrics are counts emitted once per invocation through each package's `metrics` option
 * (Powertools `Metrics` fits as is). The CDK constructs set {@link TIDEMARK_METRICS.environment}
 * on the function, so a `new Metrics()` without arguments publishes into `namespace` with the
 * `service` dimension the alarms select.
 *
 * @example
 * ```ts
 * import { TIDEMARK_METRICS } from '@tidemark/core';
 *
 * new Metric({
 *   namespace: TIDEMARK_METRICS.namespace,
 *   metricName: TIDEMARK_METRICS.consumer.recordsParked,
 *   dimensionsMap: { [TIDEMARK_METRICS.serviceDimension]: 'activity-feed' },
 * });
 * ```
 */
export const TIDEMARK_METRICS = Object.freeze({
  /** The default CloudWatch namespace. */
  namespace: 'Tidemark',
  /** The dimension that tells functions apart (Powertools' default dimension). */
  serviceDimension: 'service',
  /** The environment variables that set the namespace and the service (read by Powertools `Metrics`). */
  environment: Object.freeze({
    namespace: 'POWERTOOLS_METRICS_NAMESPACE',
    service: 'POWERTOOLS_SERVICE_NAME',
  }),
  /** The counts of `createPublisher` and `replay`, once per invocation (or replay page). */
  publisher: Object.freeze({
    /** Records Kinesis accepted. */
    recordsPublished: 'RecordsPublished',
    /** Record sends after the first (entries Kinesis refused, calls that failed as a whole). */
    publishRetries: 'PublishRetries',
    /** Records left unpublished this time (reported to Lambda, retried later). */
    recordsUnpublished: 'RecordsUnpublished',
    /** Stream records not published on purpose: items of the log table that are not events. */
    recordsSkipped: 'RecordsSkipped',
    /** A MODIFY or REMOVE of an event item: the log's history was changed behind its back. */
    historyRewrites: 'HistoryRewrites',
    /** A stream record that can never be published (too large, not an event, unroutable). */
    unpublishableRecords: 'UnpublishableRecords',
    /** Commands a batch held only part of, whose missing events were read from the log. */
    commandsCompleted: 'CommandsCompleted',
  }),
  /** The counts of `createConsumer` and `consumerMiddleware`, once per batch (or gap sweep). */
  consumer: Object.freeze({
    /** Records the batch delivered. */
    recordsReceived: 'RecordsReceived',
    /** Events whose handler ran and whose checkpoint advanced. */
    eventsApplied: 'EventsApplied',
    /** Records at or below the checkpoint: already applied. */
    duplicatesSkipped: 'DuplicatesSkipped',
    /** Events of a type without a handler (the checkpoint advanced past them). */
    eventsSkipped: 'EventsSkipped',
    /** Records set aside because an earlier version is missing or cannot be read yet. */
    gapsHeld: 'GapsHeld',
    /** Held records applied once their gap closed. */
    gapsClosed: 'GapsClosed',
    /** Gaps given up on after `gapTimeoutSeconds`: events skipped over. */
    gapsExpired: 'GapsExpired',
    /** Events set aside in the dead-letter store (bad input, or a handler out of attempts). */
    recordsParked: 'RecordsParked',
    /** Handler calls that threw or timed out. */
    handlerFailures: 'HandlerFailures',
    /** Records reported to Lambda as not done (redelivered). */
    recordsFailed: 'RecordsFailed',
    /** Checkpoint writes lost to another invocation of the same consumer. */
    concurrentUpdates: 'ConcurrentUpdates',
    /** Records that could not be parked (delivered again). */
    parkFailures: 'ParkFailures',
    /** Versions skipped by an explicit mid-stream start (`firstContact: 'any-version'`). */
    versionsSkipped: 'VersionsSkipped',
    /** Handlers cut off by the invocation's deadline. */
    handlersNotCompleted: 'HandlersNotCompleted',
    /**
     * Events the consumer cannot read yet (a newer schema version not declared readable by its
     * definition): each holds its aggregate until a definition that reads it is deployed.
     */
    eventsUnreadable: 'EventsUnreadable',
    /** DynamoDB requests the batch made (cost). */
    dynamodbRequests: 'DynamoDbRequests',
  }),
} as const);
