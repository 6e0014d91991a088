/**
 * The publisher: a Lambda handler for the event log's DynamoDB stream that publishes each INSERTed
 * event to Kinesis, in per-aggregate order even when PutRecords fails part of a batch, and answers
 * `batchItemFailures` naming the earliest stream record it did not publish.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middyImport from '@middy/core';
import eventNormalizerImport from '@middy/event-normalizer';
import {
  type AwsClientOptions,
  EVENT_LOG_KEY,
  type EventEnvelope,
  RecordTooLargeError,
  type TidemarkLogger,
  type TidemarkMetrics,
  toKinesisRecord,
} from '@tidemark/core';
import {
  describeError,
  envelopeFromEventLogImage,
  forEachLimited,
  metricReporter,
  parseOptions,
  resolveClient,
  resolveLogger,
} from '@tidemark/core/internal';
import { defaultExport } from '@tidemark/event-log/internal';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  type CommandRange,
  commandRangeOf,
  missingVersions,
  readVersions,
  tableNameOfStreamArn,
} from './command-completion';
import { PublisherError } from './errors';
import { type OutgoingRecord, type PublishRetryOptions, publishInOrder } from './ordered-publish';
import { PUBLISHER_OPTIONS_SCHEMA, routeOf } from './publisher-options';

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

/** Options of {@link createPublisher}. */
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

/** Queries in flight at once while completing split commands. */
const MAX_CONCURRENT_COMPLETIONS = 16;

type Classified =
  | { readonly kind: 'skip'; readonly reason: 'not-an-event' }
  | { readonly kind: 'rewrite'; readonly reason: 'modify' | 'remove' }
  | {
      readonly kind: 'publish';
      readonly record: OutgoingRecord;
      readonly command: CommandRange | undefined;
      readonly poison: boolean;
    };

/** The images of one stream record, unmarshalled. */
interface RecordImages {
  readonly image: Record<string, unknown> | undefined;
  readonly oldImage: Record<string, unknown> | undefined;
  readonly keys: Record<string, unknown> | undefined;
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
    return {
      key,
      stream,
      data: new Uint8Array(),
      size: error.size,
      describe,
      version: envelope.aggregateversion,
      poison: error.message,
    };
  }
}

/**
 * Makes the publisher Lambda handler for the event log's DynamoDB stream (built on middy with
 * `@middy/event-normalizer`). Configure the event source mapping with
 * `FunctionResponseTypes: ['ReportBatchItemFailures']` — without it Lambda ignores the answer.
 * Options are checked now: an unknown key or a bad value throws a `ConfigurationError` naming it.
 *
 * @example
 * ```ts
 * import { createPublisher } from '@tidemark/publisher';
 *
 * export const handler = createPublisher({
 *   streamName: process.env.EVENTS_STREAM!,
 *   metrics: new Metrics(), // @aws-lambda-powertools/metrics; flush it with its logMetrics middleware
 * });
 * ```
 */
export function createPublisher(options: PublisherOptions): Publisher {
  const parsed = parseOptions(PUBLISHER_OPTIONS_SCHEMA, options, { factory: 'createPublisher' });
  const { retry, safetyMarginMs, defaultTimeBudgetMs, maxConcurrentCalls, onHistoryRewrite } = parsed;
  const route = routeOf(parsed);
  const logger = resolveLogger(parsed.logger, 'tidemark-publisher', 'createPublisher');
  const metric = metricReporter(parsed.metrics, logger, 'createPublisher');
  const pack = parsed.packRuns;
  const kinesis = resolveClient(
    parsed.kinesis as KinesisClient | AwsClientOptions | undefined,
    (config) => new KinesisClient(config),
    'kinesis',
  );
  let dynamodbClient: DynamoDBClient | undefined;
  // Made on first use: a batch of whole commands never needs it.
  const dynamodb = () => {
    dynamodbClient ??= resolveClient(
      parsed.dynamodb as DynamoDBClient | AwsClientOptions | undefined,
      (config) => new DynamoDBClient(config),
      'dynamodb',
    );
    return dynamodbClient;
  };

  const classify = (record: DynamoDBRecord, images: RecordImages, index: number): Classified => {
    const { image, oldImage, keys: itemKeys } = images;
    const keys = { sequenceNumber: record.dynamodb?.SequenceNumber, index };
    const coordinates = keyAttributes(itemKeys ?? image ?? oldImage);
    if (record.eventName === 'MODIFY' || record.eventName === 'REMOVE') {
      logger.error(
        `History rewritten: a ${record.eventName} changed event ${String(coordinates.aggregateVersion)} of ${String(coordinates.aggregateKey)} in the event log; it is not published${onHistoryRewrite === 'fail' ? ' and the batch stops here' : ''}`,
        {
          ...keys,
          eventName: record.eventName,
          ...coordinates,
          change: describeChange(record.eventName, image, oldImage),
          onHistoryRewrite,
        },
      );
      return { kind: 'rewrite', reason: record.eventName === 'MODIFY' ? 'modify' : 'remove' };
    }
    if (record.eventName !== 'INSERT') {
      logger.error('A stream record with an unknown eventName is not published', {
        ...keys,
        eventName: record.eventName,
      });
      return { kind: 'skip', reason: 'not-an-event' };
    }
    const poisonAt = (reason: string, message: string, extra: Record<string, unknown> = {}): Classified => {
      const key = typeof coordinates.aggregateKey === 'string' ? coordinates.aggregateKey : undefined;
      const version = coordinates.aggregateVersion;
      logger.error(message, { ...keys, ...coordinates, ...extra, reason });
      return {
        kind: 'publish',
        poison: true,
        command: undefined,
        record: {
          // Without an aggregate key it holds back nothing but itself.
          key: key ?? `#unknown:${index}`,
          stream: '',
          data: new Uint8Array(),
          size: 0,
          describe: { ...keys, ...coordinates },
          ...(typeof version === 'number' ? { version } : {}),
          poison: reason,
        },
      };
    };
    if (image === undefined) {
      return poisonAt(
        'the stream record has no NewImage',
        'An INSERT without NewImage cannot be published; set the stream view type to NEW_IMAGE',
      );
    }
    let envelope: EventEnvelope;
    try {
      envelope = envelopeFromEventLogImage(image);
    } catch (error) {
      if (typeof coordinates.aggregateKey !== 'string' || coordinates.aggregateVersion === undefined) {
        // Not in any aggregate's history (no event-log key): nothing waits for it.
        logger.error('An item inserted in the event log is not an event and has no event key; skipped', {
          ...keys,
          error: describeError(error),
        });
        return { kind: 'skip', reason: 'not-an-event' };
      }
      return poisonAt(
        `not an event: ${describeError(error).message}`,
        'An item inserted in the event log is not an event; it cannot be published and holds back the later events of its aggregate',
        { error: describeError(error) },
      );
    }
    const outgoing = outgoingRecord(envelope, route);
    if (outgoing.poison !== undefined) {
      return poisonAt(
        outgoing.poison,
        'An event can never be published; it holds back the later events of its aggregate',
        { eventId: envelope.id, eventType: envelope.type, size: outgoing.size },
      );
    }
    return {
      kind: 'publish',
      poison: false,
      command: commandRangeOf(image),
      record: { ...outgoing, describe: { ...outgoing.describe, sequenceNumber: keys.sequenceNumber } },
    };
  };

  /**
   * Reads from the log the events of commands the batch holds only part of, as outgoing records
   * (published in their place in version order; they have no stream record of their own).
   */
  const completeCommands = async (
    records: readonly DynamoDBRecord[],
    classified: readonly Classified[],
    abortAt: number,
  ): Promise<{ completions: OutgoingRecord[]; commands: number; queries: number }> => {
    const members = classified.flatMap((entry) =>
      entry.kind === 'publish'
        ? [{ key: entry.record.key, version: entry.record.version, command: entry.command }]
        : [],
    );
    const missing = missingVersions(members);
    if (missing.size === 0) return { completions: [], commands: 0, queries: 0 };
    const commands = new Set(
      members.flatMap((member) =>
        member.command &&
        missing.get(member.key)?.some((v) => v >= member.command!.first && v <= member.command!.last)
          ? [`${member.key}@${member.command.first}`]
          : [],
      ),
    ).size;
    const tableName = parsed.tableName ?? tableNameOfStreamArn(records[0]?.eventSourceARN);
    const completions: OutgoingRecord[] = [];
    let queries = 0;
    const unavailable = (key: string, version: number, reason: string): OutgoingRecord => ({
      key,
      stream: '',
      data: new Uint8Array(),
      size: 0,
      describe: { aggregateKey: key, aggregateVersion: version, completedFromLog: true },
      version,
      poison: reason,
    });
    const pending = [...missing];
    const completeAggregate = async ([key, versions]: [string, number[]]) => {
      if (tableName === undefined) {
        logger.error('Cannot complete a split command: no tableName option and no table in eventSourceARN', {
          aggregateKey: key,
          versions,
        });
        for (const version of versions)
          completions.push(unavailable(key, version, 'no event-log table to complete the command from'));
        return;
      }
      let found: Awaited<ReturnType<typeof readVersions>>['items'];
      try {
        const signal = AbortSignal.timeout(Math.max(abortAt - Date.now(), 1));
        const result = await readVersions(dynamodb(), tableName, key, versions, signal);
        queries += result.requests;
        found = result.items;
      } catch (error) {
        logger.error('Could not read the log to complete a split command; its events wait for the retry', {
          aggregateKey: key,
          versions,
          error: describeError(error),
        });
        for (const version of versions)
          completions.push(
            unavailable(key, version, `reading the log failed: ${describeError(error).message}`),
          );
        return;
      }
      for (const version of versions) {
        const item = found.get(version);
        const image = item === undefined ? undefined : unmarshallLoosely(item);
        let envelope: EventEnvelope | undefined;
        let parseError: unknown;
        try {
          envelope = image ? envelopeFromEventLogImage(image) : undefined;
        } catch (error) {
          parseError = error; // logged with the reason below
        }
        if (envelope === undefined || envelope.aggregateversion !== version) {
          const reason =
            item === undefined
              ? `version ${version} of a command is not in the event log (deleted?)`
              : `version ${version} in the event log is not an event${parseError === undefined ? '' : `: ${describeError(parseError).message}`}`;
          logger.error(
            'A command cannot be completed from the log; it holds back the later events of its aggregate',
            {
              aggregateKey: key,
              aggregateVersion: version,
              reason,
            },
          );
          completions.push(unavailable(key, version, reason));
          continue;
        }
        const outgoing = outgoingRecord(envelope, route);
        if (outgoing.poison !== undefined) {
          logger.error('An event read from the log to complete a command can never be published', {
            ...outgoing.describe,
            reason: outgoing.poison,
          });
        }
        completions.push({ ...outgoing, describe: { ...outgoing.describe, completedFromLog: true } });
      }
    };
    // At most MAX_CONCURRENT_COMPLETIONS Queries in flight, however many commands a batch splits.
    await forEachLimited(pending, MAX_CONCURRENT_COMPLETIONS, completeAggregate);
    logger.debug('Completed split commands from the log', { commands, queries, events: completions.length });
    return { completions, commands, queries };
  };

  const publishRecords = async (
    records: readonly DynamoDBRecord[],
    images: readonly RecordImages[],
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

    const classified = records.map((record, index) => classify(record, images[index]!, index));
    const positions: number[] = [];
    const outgoing: OutgoingRecord[] = [];
    classified.forEach((entry, index) => {
      if (entry.kind === 'publish') {
        positions.push(index);
        outgoing.push(entry.record);
      }
    });
    const completion = await completeCommands(records, classified, abortAt);
    const report = await publishInOrder([...outgoing, ...completion.completions], {
      kinesis,
      logger,
      retry,
      deadline,
      abortAt,
      maxConcurrentCalls,
      pack,
    });

    let earliest: number | undefined;
    const unpublished: Record<string, unknown>[] = [];
    const note = (index: number, attributes: Record<string, unknown>) => {
      if (earliest === undefined || index < earliest) earliest = index;
      unpublished.push(attributes);
    };
    positions.forEach((index, position) => {
      const outcome = report.outcomes[position]!;
      if (outcome === 'published') return;
      note(index, {
        ...outgoing[position]!.describe,
        outcome,
        reason:
          report.reasons.get(position) ??
          'not attempted: an earlier event of its aggregate was not published, or time ran out',
      });
    });
    const skipped = { modify: 0, remove: 0, notAnEvent: 0 };
    let poison = 0;
    classified.forEach((entry, index) => {
      if (entry.kind === 'publish') {
        if (entry.poison) poison += 1;
        return;
      }
      if (entry.kind === 'skip') {
        skipped.notAnEvent += 1;
        return;
      }
      if (entry.reason === 'modify') skipped.modify += 1;
      else skipped.remove += 1;
      if (onHistoryRewrite === 'fail') {
        note(index, {
          ...keyAttributes(images[index]!.keys),
          outcome: 'failed',
          reason: `history rewritten (${entry.reason})`,
        });
      }
    });
    const published = report.outcomes
      .slice(0, outgoing.length)
      .filter((outcome) => outcome === 'published').length;
    const summary: PublishSummary = {
      records: records.length,
      published,
      failed: outgoing.length - published,
      retried: report.retried,
      skipped,
      historyRewritten: skipped.modify + skipped.remove,
      poison,
      commandsCompleted: completion.commands,
      completionQueries: completion.queries,
      calls: report.calls,
      waves: report.waves,
      kinesisRecords: report.kinesisRecords,
      packedRecords: report.packedRecords,
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
    metric('RecordsPublished', summary.published);
    metric('PublishRetries', summary.retried);
    metric('RecordsUnpublished', summary.failed);
    metric('RecordsSkipped', skipped.notAnEvent);
    metric('HistoryRewrites', skipped.modify + skipped.remove);
    metric('UnpublishableRecords', poison);
    metric('CommandsCompleted', completion.commands);
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
    const loosely = (image: unknown) => (image === undefined ? undefined : unmarshallLoosely(image));
    const images = records.map((record) => ({
      image: loosely(record.dynamodb?.NewImage),
      oldImage: loosely(record.dynamodb?.OldImage),
      keys: loosely(record.dynamodb?.Keys),
    }));
    return publishRecords(records, images, context);
  };

  // After @middy/event-normalizer, images are plain objects ({} when the record had none).
  const normalizedHandler = async (
    event: DynamoDBStreamEvent,
    context: Context,
  ): Promise<DynamoDBBatchResponse> => {
    const records = recordsOf(event);
    const plain = (image: unknown) =>
      image === undefined || Object.keys(image as object).length === 0
        ? undefined
        : (image as Record<string, unknown>);
    const images = records.map((record) => ({
      image: plain(record.dynamodb?.NewImage),
      oldImage: plain(record.dynamodb?.OldImage),
      keys: plain(record.dynamodb?.Keys),
    }));
    const { batchItemFailures } = await publishRecords(records, images, context);
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

/** The aggregate key and version of an item, from its key attributes (whatever else it holds). */
function keyAttributes(image: Record<string, unknown> | undefined): {
  aggregateKey?: unknown;
  aggregateVersion?: unknown;
} {
  if (!image) return {};
  const sk = image[EVENT_LOG_KEY.sortKey];
  return {
    aggregateKey: image[EVENT_LOG_KEY.partitionKey],
    aggregateVersion: typeof sk === 'number' && Number.isSafeInteger(sk) && sk >= 1 ? sk : undefined,
  };
}

/** What a MODIFY or REMOVE changed: attribute names only, never values (payloads are not logged). */
function describeChange(
  eventName: 'MODIFY' | 'REMOVE',
  image: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (eventName === 'REMOVE') return { removed: true };
  if (!image) return { changedAttributes: 'unknown (no NewImage)' };
  if (!oldImage) {
    return {
      changedAttributes: 'unknown (the stream has no OldImage; NEW_AND_OLD_IMAGES would show them)',
      attributesNow: Object.keys(image).sort(),
    };
  }
  const names = new Set([...Object.keys(image), ...Object.keys(oldImage)]);
  const changed = [...names]
    .filter((name) => JSON.stringify(image[name]) !== JSON.stringify(oldImage[name]))
    .sort();
  return { changedAttributes: changed };
}
