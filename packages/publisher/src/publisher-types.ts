/**
 * The public types of the publisher: where events go, the options `createPublisher` and `replay`
 * share, the handler itself and the counts of one invocation.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { AwsClientOptions, EventEnvelope, TidemarkLogger, TidemarkMetrics } from '@tidemark/core';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { PublishRetryOptions } from './ordered-publish';

/** Chooses the Kinesis stream of an event: a stream name, or a stream ARN (`arn:aws:kinesis:…`). */
export type StreamRoute = (envelope: EventEnvelope) => string;

/** Where events go: exactly one of a stream name, a stream ARN or a route. */
export type StreamTargetOptions =
  | {
      /** The Kinesis stream every event goes to, by name. */
      readonly streamName: string;
      readonly streamArn?: never;
      readonly route?: never;
    }
  | {
      /** The Kinesis stream every event goes to, by ARN (cross-account streams need it). */
      readonly streamArn: string;
      readonly streamName?: never;
      readonly route?: never;
    }
  | {
      /**
       * Picks the stream per event (name or ARN). Keep all events of one aggregate on one stream if
       * listeners rely on their order. A route that throws leaves the event unpublished (reported).
       */
      readonly route: StreamRoute;
      readonly streamName?: never;
      readonly streamArn?: never;
    };

/** Options shared by `createPublisher` and `replay`. */
export interface PublishingOptions {
  /** A Kinesis client, or the config to make one. Default: a client from the environment. */
  readonly kinesis?: KinesisClient | AwsClientOptions;
  /**
   * Where logs go: Powertools' `Logger`, `console` or any {@link TidemarkLogger}.
   * @default `createJsonLogger()` of `@tidemark/core` (JSON lines, level from the environment, else
   * `info`), with the service `POWERTOOLS_SERVICE_NAME` or `tidemark-publisher`
   */
  readonly logger?: TidemarkLogger;
  /**
   * Where the counts go, once per invocation (replay: per page): Powertools' `Metrics` or any object
   * with its `addMetric(name, unit, value)`. The names are `TIDEMARK_METRICS.publisher`
   * (`RecordsPublished`, `PublishRetries`, `RecordsUnpublished`, `RecordsSkipped`, `HistoryRewrites`,
   * `UnpublishableRecords`, `CommandsCompleted`).
   * @default none
   */
  readonly metrics?: TidemarkMetrics;
  /**
   * Retries of failed entries and calls.
   *
   * @default 8 retries, 100 ms doubling to 3 s, with jitter (`PUBLISHER_DEFAULTS.retry`)
   */
  readonly retry?: PublishRetryOptions;
  /**
   * PutRecords calls of one wave in flight at once (a wave never holds two records of one aggregate), 1 to 64.
   *
   * @default 4 (`PUBLISHER_DEFAULTS.maxConcurrentCalls`)
   */
  readonly maxConcurrentCalls?: number;
  /**
   * Pack a run of one aggregate's consecutive versions into one Kinesis record, in the CloudEvents
   * JSON batch format (`application/cloudevents-batch+json`: a JSON array of envelopes), up to
   * Kinesis' 1 MiB with the partition key; a longer run takes several records, one per wave. A run
   * of one event is still a plain envelope. Readers must understand batch records first:
   * `@tidemark/consumer` does from this release on; readers in other languages decode the array
   * (`decodeEnvelopeRecord` of `@tidemark/core` in TypeScript). `false` publishes one event per
   * record, as earlier releases did: one PutRecords call per version of a hot aggregate.
   *
   * @default true (`PUBLISHER_DEFAULTS.packRuns`)
   */
  readonly packRuns?: boolean;
}

/** Options of `createPublisher`. */
export type PublisherOptions = PublishingOptions &
  StreamTargetOptions & {
    /**
     * Time kept free at the end of the invocation, in ms: no retry starts later than the Lambda's
     * remaining time minus this, so the handler always answers before it times out. At least 100;
     * capped at a quarter of the remaining time, so short timeouts still leave time to publish.
     *
     * @default 5000 (`PUBLISHER_DEFAULTS.safetyMarginMs`)
     */
    readonly safetyMarginMs?: number;
    /**
     * Time budget when the context has no `getRemainingTimeInMillis` (plain calls in scripts), in
     * ms.
     *
     * @default 60000 (`PUBLISHER_DEFAULTS.defaultTimeBudgetMs`)
     */
    readonly defaultTimeBudgetMs?: number;
    /**
     * A DynamoDB client, or the config to make one: it reads the missing events of a command that
     * a batch holds only part of (one strongly consistent Query per aggregate; grant `dynamodb:Query`
     * on the event-log table). Default: a client from the environment.
     */
    readonly dynamodb?: DynamoDBClient | AwsClientOptions;
    /** The event-log table those reads go to. Default: the table of the stream record's `eventSourceARN`. */
    readonly tableName?: string;
    /**
     * What a MODIFY or REMOVE of an event item (history changed behind the log's back) does besides
     * the error log and the `HistoryRewrites` counter: `'log'` publishes the rest of the batch;
     * `'fail'` also reports the record as not published, so the shard stops there (until Lambda's
     * retry limit, then the on-failure destination) and nothing after it goes out unnoticed.
     *
     * @default 'log' (`PUBLISHER_DEFAULTS.onHistoryRewrite`)
     */
    readonly onHistoryRewrite?: 'log' | 'fail';
  };

/** Counts of one invocation. */
export interface PublishSummary {
  /** Stream records in the batch. */
  readonly records: number;
  /** Events Kinesis accepted. */
  readonly published: number;
  /** Events not published (reported through `batchItemFailures`, so Lambda retries them). */
  readonly failed: number;
  /** Record sends after the first. */
  readonly retried: number;
  /** Stream records not published on purpose, by reason. */
  readonly skipped: { readonly modify: number; readonly remove: number; readonly notAnEvent: number };
  /** MODIFY and REMOVE records of event items (history changed behind the log's back). */
  readonly historyRewritten: number;
  /** Stream records that can never be published (too large, not an event, unroutable). */
  readonly poison: number;
  /** Commands the batch held only part of, completed from the log. */
  readonly commandsCompleted: number;
  /** Queries made to complete them (0 when every command in the batch was whole). */
  readonly completionQueries: number;
  /** PutRecords calls made. */
  readonly calls: number;
  /** Waves published. */
  readonly waves: number;
  /** Kinesis records sent (first sends; a packed run is one record). */
  readonly kinesisRecords: number;
  /** Of those, records that pack two events or more. */
  readonly packedRecords: number;
}

/** What the plain {@link Publisher.publishBatch} returns: Lambda's answer, plus the counts. */
export interface PublishBatchResult extends DynamoDBBatchResponse {
  /** Counts of this invocation. */
  readonly summary: PublishSummary;
}

/** A middy-compatible middleware (so middy itself stays out of the public types). */
export interface PublisherMiddleware {
  // biome-ignore lint/suspicious/noExplicitAny: middy's request type is middy's own
  readonly before?: (request: any) => unknown;
  // biome-ignore lint/suspicious/noExplicitAny: middy's request type is middy's own
  readonly after?: (request: any) => unknown;
  // biome-ignore lint/suspicious/noExplicitAny: middy's request type is middy's own
  readonly onError?: (request: any) => unknown;
}

/** The publisher: a middy-built Lambda handler for DynamoDB stream events. */
export interface Publisher {
  /** The Lambda handler. */
  (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse>;
  /** Adds middy middlewares (e.g. Powertools' `injectLambdaContext`); returns the same handler. */
  use(middlewares: PublisherMiddleware | readonly PublisherMiddleware[]): Publisher;
  /**
   * The same work without middy: takes the event exactly as Lambda sends it (marshalled images)
   * and returns Lambda's answer plus the counts.
   */
  publishBatch(
    event: DynamoDBStreamEvent,
    context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<PublishBatchResult>;
}
