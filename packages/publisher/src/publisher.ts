/**
 * The publisher: a Lambda handler for the event log's DynamoDB stream that publishes each INSERTed
 * event to Kinesis, in per-aggregate order even when PutRecords fails part of a batch, and answers
 * `batchItemFailures` naming the earliest stream record it did not publish. This file wires the
 * steps of an invocation together (read, classify, complete split commands, publish in order,
 * summarize) and builds the middy handler; each step lives in its own module.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import middyImport from '@middy/core';
import eventNormalizerImport from '@middy/event-normalizer';
import type { AwsClientOptions } from '@tidemark/core';
import { metricReporter, parseOptions, resolveClient, resolveLogger } from '@tidemark/core/internal';
import { defaultExport } from '@tidemark/event-log/internal';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { batchItemFailures, reportBatchMetrics, summarizeBatch } from './batch-summary';
import { completeSplitCommands, tableNameOfStreamArn } from './command-completion';
import { type OutgoingRecord, publishInOrder } from './ordered-publish';
import { PUBLISHER_OPTIONS_SCHEMA, routeOf } from './publisher-options';
import type { PublishBatchResult, Publisher, PublisherOptions } from './publisher-types';
import { type ClassificationContext, classifyRecord, commandMembers } from './record-classification';
import { marshalledImages, normalizedImages, type RecordImages, recordsOf } from './stream-records';
import { timeBudget } from './time-budget';

const middy = defaultExport(middyImport);
const eventNormalizer = defaultExport(eventNormalizerImport);

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

  const classification: ClassificationContext = { route, logger, onHistoryRewrite };

  /** One invocation: classify the records, complete split commands, publish in order, answer. */
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
    const { deadline, abortAt } = timeBudget(started, remaining, safetyMarginMs);

    const classified = records.map((record, index) =>
      classifyRecord(record, images[index]!, index, classification),
    );
    const positions: number[] = [];
    const outgoing: OutgoingRecord[] = [];
    classified.forEach((entry, index) => {
      if (entry.kind === 'publish') {
        positions.push(index);
        outgoing.push(entry.record);
      }
    });
    const completion = await completeSplitCommands(commandMembers(classified), {
      tableName: parsed.tableName ?? tableNameOfStreamArn(records[0]?.eventSourceARN),
      dynamodb,
      route,
      logger,
      abortAt,
    });
    const report = await publishInOrder([...outgoing, ...completion.completions], {
      kinesis,
      logger,
      retry,
      deadline,
      abortAt,
      maxConcurrentCalls,
      pack,
    });

    const outcome = summarizeBatch({
      records: records.length,
      classified,
      images,
      outgoing,
      positions,
      report,
      completion,
      onHistoryRewrite,
    });
    const failures = batchItemFailures(records, outcome, logger);
    logger.info('Publisher batch done', { ...outcome.summary, durationMs: Date.now() - started });
    reportBatchMetrics(metric, outcome.summary);
    return { batchItemFailures: failures, summary: outcome.summary };
  };

  const publishBatch = async (
    event: DynamoDBStreamEvent,
    context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<PublishBatchResult> => {
    const records = recordsOf(event);
    return publishRecords(records, records.map(marshalledImages), context);
  };

  // After @middy/event-normalizer, images are plain objects ({} when the record had none).
  const normalizedHandler = async (
    event: DynamoDBStreamEvent,
    context: Context,
  ): Promise<DynamoDBBatchResponse> => {
    const records = recordsOf(event);
    const { batchItemFailures } = await publishRecords(records, records.map(normalizedImages), context);
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
