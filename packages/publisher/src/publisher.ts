/**
 * The publisher: a Lambda handler for the event log's DynamoDB stream that publishes each INSERTed
 * event to Kinesis, in per-aggregate order even when PutRecords fails part of a batch, and answers
 * `batchItemFailures` naming the earliest stream record it did not publish.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middyImport from '@middy/core';
import eventNormalizerImport from '@middy/event-normalizer';
import {
  type AwsClientOptions,
  EVENT_LOG_KEY,
  type EventEnvelope,
  envelopeFromEventLogItem,
  parseEventLogItem,
  RecordTooLargeError,
  resolveClient,
  toKinesisRecord,
} from '@tidemark/core';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { PublisherError } from './errors';
import { defaultExport } from './interop';
import {
  createJsonLogger,
  describeError,
  type PublisherLogger,
  type PublisherMetricsHook,
  reportMetrics,
} from './observability';
import { assertInteger, assertKnownKeys } from './options';
import {
  type OutgoingRecord,
  type PublishRetryOptions,
  publishInOrder,
  resolveRetryOptions,
} from './ordered-publish';

const middy = defaultExport(middyImport);
const eventNormalizer = defaultExport(eventNormalizerImport);

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

/** Options shared by {@link createPublisher} and `replay`. */
export interface PublishingOptions {
  /** A Kinesis client, or the config to make one. Default: a client from the environment. */
  readonly kinesis?: KinesisClient | AwsClientOptions;
  /** Where logs go. Default: {@link createJsonLogger} (JSON lines on stdout, level `info`). */
  readonly logger?: PublisherLogger;
  /** Receives the counters (published, retried, failed, skipped). Default: none. */
  readonly metrics?: PublisherMetricsHook;
  /** Retries of failed entries and calls. Default: 8 retries, 100 ms doubling to 3 s, with jitter. */
  readonly retry?: PublishRetryOptions;
  /** PutRecords calls of one wave in flight at once (a wave never holds two records of one aggregate). Default: `4`. */
  readonly maxConcurrentCalls?: number;
}

/** Options of {@link createPublisher}. */
export type PublisherOptions = PublishingOptions &
  StreamTargetOptions & {
    /**
     * Time kept free at the end of the invocation, in ms: no retry starts later than the Lambda's
     * remaining time minus this, so the handler always answers before it times out. At least 100;
     * capped at a quarter of the remaining time, so short timeouts still leave time to publish.
     * Default: `5000`.
     */
    readonly safetyMarginMs?: number;
    /**
     * Time budget when the context has no `getRemainingTimeInMillis` (plain calls in scripts), in
     * ms. Default: `60000`.
     */
    readonly defaultTimeBudgetMs?: number;
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
  /** PutRecords calls made. */
  readonly calls: number;
  /** Waves published. */
  readonly waves: number;
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

const OPTION_KEYS = [
  'kinesis',
  'logger',
  'metrics',
  'retry',
  'maxConcurrentCalls',
  'streamName',
  'streamArn',
  'route',
  'safetyMarginMs',
  'defaultTimeBudgetMs',
] as const;

type Classified =
  | { readonly kind: 'skip'; readonly reason: 'modify' | 'remove' | 'not-an-event' }
  | { readonly kind: 'publish'; readonly record: OutgoingRecord };

/** Resolves the stream target options into a route. */
export function resolveRoute(what: string, options: Partial<StreamTargetOptions>): StreamRoute {
  const given = [options.streamName, options.streamArn, options.route].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw new TypeError(`${what}: give exactly one of streamName, streamArn or route`);
  }
  if (options.route !== undefined) {
    if (typeof options.route !== 'function') throw new TypeError(`${what}: route must be a function`);
    return options.route;
  }
  const stream = (options.streamName ?? options.streamArn)!;
  if (typeof stream !== 'string' || stream.length === 0)
    throw new TypeError(`${what}: the stream must be a non-empty string`);
  if (options.streamArn !== undefined && !stream.startsWith('arn:')) {
    throw new TypeError(`${what}: streamArn must be an ARN (arn:aws:kinesis:…)`);
  }
  return () => stream;
}

/** Builds the outgoing record of an envelope, or a poison record when it can never be published. */
export function outgoingRecord(envelope: EventEnvelope, route: StreamRoute): OutgoingRecord {
  const key = `${envelope.aggregatetype}#${envelope.aggregateid}`;
  const describe = {
    eventId: envelope.id,
    eventType: envelope.type,
    aggregateKey: key,
    aggregateVersion: envelope.aggregateversion,
  };
  let stream: string;
  try {
    stream = route(envelope);
    if (typeof stream !== 'string' || stream.length === 0)
      throw new TypeError('the route returned no stream');
  } catch (error) {
    return {
      key,
      stream: '',
      data: new Uint8Array(),
      size: 0,
      describe,
      version: envelope.aggregateversion,
      poison: `route failed: ${describeError(error).message}`,
    };
  }
  try {
    const { partitionKey, data, size } = toKinesisRecord(envelope);
    return { key: partitionKey, stream, data, size, describe, version: envelope.aggregateversion };
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    return { key, stream, data: new Uint8Array(), size: error.size, describe, poison: error.message };
  }
}

/**
 * Makes the publisher Lambda handler for the event log's DynamoDB stream (built on middy with
 * `@middy/event-normalizer`). Configure the event source mapping with
 * `FunctionResponseTypes: ['ReportBatchItemFailures']` — without it Lambda ignores the answer.
 *
 * @example
 * ```ts
 * import { createPublisher } from '@tidemark/publisher';
 *
 * export const handler = createPublisher({
 *   streamName: process.env.EVENTS_STREAM!,
 *   metrics: ({ name, value }) => metrics.addMetric(name, MetricUnit.Count, value),
 * });
 * ```
 */
export function createPublisher(options: PublisherOptions): Publisher {
  assertKnownKeys('createPublisher', options, OPTION_KEYS);
  const route = resolveRoute('createPublisher', options);
  const retry = resolveRetryOptions('createPublisher', options.retry);
  const logger = options.logger ?? createJsonLogger();
  const safetyMarginMs = options.safetyMarginMs ?? 5000;
  const defaultTimeBudgetMs = options.defaultTimeBudgetMs ?? 60_000;
  const maxConcurrentCalls = options.maxConcurrentCalls ?? 4;
  assertInteger('createPublisher: safetyMarginMs', safetyMarginMs, 100);
  assertInteger('createPublisher: defaultTimeBudgetMs', defaultTimeBudgetMs, 1);
  assertInteger('createPublisher: maxConcurrentCalls', maxConcurrentCalls, 1, 64);
  const kinesis = resolveClient(
    options.kinesis as KinesisClient | AwsClientOptions | undefined,
    (config) => new KinesisClient(config),
    'kinesis',
  );

  const classify = (
    record: DynamoDBRecord,
    image: Record<string, unknown> | undefined,
    itemKeys: Record<string, unknown> | undefined,
    index: number,
  ): Classified => {
    const keys = { sequenceNumber: record.dynamodb?.SequenceNumber, index };
    if (record.eventName === 'MODIFY' || record.eventName === 'REMOVE') {
      logger.error(`A ${record.eventName} on the event log breaks its immutability; it is not published`, {
        ...keys,
        eventName: record.eventName,
        keys: keyAttributes(itemKeys ?? image),
      });
      return { kind: 'skip', reason: record.eventName === 'MODIFY' ? 'modify' : 'remove' };
    }
    if (record.eventName !== 'INSERT') {
      logger.error('A stream record with an unknown eventName is not published', {
        ...keys,
        eventName: record.eventName,
      });
      return { kind: 'skip', reason: 'not-an-event' };
    }
    if (image === undefined) {
      // Not skipped: the event exists but its image is missing (stream view type not NEW_IMAGE).
      const pk = itemKeys?.[EVENT_LOG_KEY.partitionKey];
      logger.error(
        'An INSERT without NewImage cannot be published; set the stream view type to NEW_IMAGE',
        keys,
      );
      return {
        kind: 'publish',
        record: {
          key: typeof pk === 'string' ? pk : `#unknown:${index}`,
          stream: '',
          data: new Uint8Array(),
          size: 0,
          describe: keys,
          poison: 'the stream record has no NewImage',
        },
      };
    }
    let envelope: EventEnvelope;
    try {
      envelope = envelopeFromEventLogItem(parseEventLogItem(image));
    } catch (error) {
      logger.error('An item inserted in the event log is not an event; it is not published', {
        ...keys,
        keys: keyAttributes(itemKeys ?? image),
        error: describeError(error),
      });
      return { kind: 'skip', reason: 'not-an-event' };
    }
    const outgoing = outgoingRecord(envelope, route);
    return {
      kind: 'publish',
      record: { ...outgoing, describe: { ...outgoing.describe, sequenceNumber: keys.sequenceNumber } },
    };
  };

  const publishRecords = async (
    records: readonly DynamoDBRecord[],
    images: readonly (Record<string, unknown> | undefined)[],
    itemKeys: readonly (Record<string, unknown> | undefined)[],
    context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined,
  ): Promise<PublishBatchResult> => {
    const started = Date.now();
    const remaining =
      typeof context?.getRemainingTimeInMillis === 'function'
        ? context.getRemainingTimeInMillis()
        : defaultTimeBudgetMs;
    // A short timeout (Lambda's default is 3 s) would leave no time at all: cap the margin at a quarter.
    const margin = Math.min(safetyMarginMs, Math.max(100, Math.floor(remaining / 4)));
    const deadline = started + remaining - margin;
    // Calls still in flight are aborted before the end, so the answer always gets out (middy also
    // answers with a TimeoutError 5 ms before the end, which makes Lambda retry the whole batch).
    const abortAt = started + remaining - Math.max(50, Math.min(1000, Math.ceil(margin / 2)));

    const classified = records.map((record, index) =>
      classify(record, images[index], itemKeys[index], index),
    );
    const positions: number[] = [];
    const outgoing: OutgoingRecord[] = [];
    classified.forEach((entry, index) => {
      if (entry.kind === 'publish') {
        positions.push(index);
        outgoing.push(entry.record);
      }
    });
    const report = await publishInOrder(outgoing, {
      kinesis,
      logger,
      retry,
      deadline,
      abortAt,
      maxConcurrentCalls,
    });

    let earliest: number | undefined;
    const unpublished: Record<string, unknown>[] = [];
    report.outcomes.forEach((outcome, position) => {
      if (outcome === 'published') return;
      const index = positions[position]!;
      earliest ??= index;
      unpublished.push({
        ...outgoing[position]!.describe,
        outcome,
        reason:
          report.reasons.get(position) ??
          'not attempted: an earlier event of its aggregate was not published, or time ran out',
      });
    });
    const skipped = { modify: 0, remove: 0, notAnEvent: 0 };
    for (const entry of classified) {
      if (entry.kind !== 'skip') continue;
      if (entry.reason === 'modify') skipped.modify += 1;
      else if (entry.reason === 'remove') skipped.remove += 1;
      else skipped.notAnEvent += 1;
    }
    const published = report.outcomes.filter((outcome) => outcome === 'published').length;
    const summary: PublishSummary = {
      records: records.length,
      published,
      failed: outgoing.length - published,
      retried: report.retried,
      skipped,
      calls: report.calls,
      waves: report.waves,
    };

    const batchItemFailures: { itemIdentifier: string }[] = [];
    if (earliest !== undefined) {
      const sequenceNumber = records[earliest]!.dynamodb?.SequenceNumber;
      if (typeof sequenceNumber !== 'string' || sequenceNumber.length === 0) {
        throw new PublisherError(
          'STREAM_RECORD_INVALID',
          'A stream record that was not published has no dynamodb.SequenceNumber, so it cannot be reported; failing the whole batch',
          { context: { index: earliest } },
        );
      }
      batchItemFailures.push({ itemIdentifier: sequenceNumber });
      logger.error('Some events were not published; Lambda retries from the earliest one', {
        earliestSequenceNumber: sequenceNumber,
        unpublished: unpublished.length,
        first: unpublished.slice(0, 10),
      });
    }
    logger.info('Publisher batch done', { ...summary, durationMs: Date.now() - started });
    reportMetrics(options.metrics, logger, [
      ['published', summary.published, { component: 'publisher' }],
      ['retried', summary.retried, { component: 'publisher' }],
      ['failed', summary.failed, { component: 'publisher' }],
      ['skipped', skipped.modify, { component: 'publisher', reason: 'modify' }],
      ['skipped', skipped.remove, { component: 'publisher', reason: 'remove' }],
      ['skipped', skipped.notAnEvent, { component: 'publisher', reason: 'not-an-event' }],
    ]);
    return { batchItemFailures, summary };
  };

  const recordsOf = (event: DynamoDBStreamEvent): DynamoDBRecord[] => {
    if (!Array.isArray(event?.Records)) {
      throw new PublisherError(
        'STREAM_EVENT_INVALID',
        'The event is not a DynamoDB stream event (no Records array)',
      );
    }
    return event.Records;
  };

  const publishBatch = async (
    event: DynamoDBStreamEvent,
    context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<PublishBatchResult> => {
    const records = recordsOf(event);
    const images = records.map((record) => {
      const image = record.dynamodb?.NewImage;
      return image === undefined ? undefined : unmarshallLoosely(image);
    });
    const itemKeys = records.map((record) => {
      const keys = record.dynamodb?.Keys;
      return keys === undefined ? undefined : unmarshallLoosely(keys);
    });
    return publishRecords(records, images, itemKeys, context);
  };

  // After @middy/event-normalizer, NewImage is a plain object ({} when the record had none).
  const normalizedHandler = async (
    event: DynamoDBStreamEvent,
    context: Context,
  ): Promise<DynamoDBBatchResponse> => {
    const records = recordsOf(event);
    const images = records.map((record) => {
      const image = record.dynamodb?.NewImage as Record<string, unknown> | undefined;
      return image === undefined || Object.keys(image).length === 0 ? undefined : image;
    });
    const itemKeys = records.map((record) => record.dynamodb?.Keys as Record<string, unknown> | undefined);
    const { batchItemFailures } = await publishRecords(records, images, itemKeys, context);
    return { batchItemFailures };
  };

  const emptyBatch = {
    // @middy/event-normalizer reads Records[0]; answer an empty batch before it runs.
    before: (request: { event?: { Records?: unknown } }) =>
      Array.isArray(request.event?.Records) && request.event.Records.length === 0
        ? { batchItemFailures: [] }
        : undefined,
  };
  const handler = middy(normalizedHandler).use(emptyBatch).use(eventNormalizer());
  const publisher = handler as unknown as Publisher & { publishBatch: Publisher['publishBatch'] };
  Object.defineProperty(publisher, 'publishBatch', { value: publishBatch, enumerable: true });
  return publisher;
}

function unmarshallLoosely(image: unknown): Record<string, unknown> | undefined {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the Lambda and SDK AttributeValue types differ only nominally
    return unmarshall(image as any, { wrapNumbers: false });
  } catch (error) {
    // An image the SDK cannot read is not an event: classify() logs it (with this reason) and counts it.
    return { unreadableImage: describeError(error).message };
  }
}

function keyAttributes(image: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!image) return {};
  return { pk: image[EVENT_LOG_KEY.partitionKey], sk: image[EVENT_LOG_KEY.sortKey] };
}
