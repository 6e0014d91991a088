/**
 * Replay: republish one aggregate's events, or the whole log's, to a stream — for a new listener,
 * or after a publisher outage longer than the DynamoDB stream's 24-hour retention. Same ordered
 * waves and retries as the publisher; resumable with a token; listeners drop the duplicates.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientOptions, aggregateKey, EVENT_LOG_KEY } from '@tidemark/core';
import { metricReporter, parseOptions, resolveClient, resolveLogger } from '@tidemark/core/internal';
import { ReplayInterruptedError } from './errors';
import { publishInOrder } from './ordered-publish';
import { REPLAY_DEFAULTS, REPLAY_OPTIONS_SCHEMA, routeOf } from './publisher-options';
import { type LogPageQuery, pageRecords, readLogPage } from './replay-pages';
import type { ReplayOptions, ReplayProgress, ReplayResult } from './replay-types';
import { encodeResumeToken, readResumeToken, type TokenState } from './resume-token';

/**
 * Republishes events from the event log to Kinesis, in per-aggregate order (the same waves and
 * retries as the publisher). Duplicates are expected — listeners drop what they already applied.
 * Throws {@link ReplayInterruptedError} (with `resumeToken`) when events cannot be published, and a
 * `ConfigurationError` naming the option for a bad option.
 *
 * @example
 * ```ts
 * import { replay } from '@tidemark/publisher';
 *
 * let resumeToken: string | undefined = loadToken();
 * const result = await replay({
 *   tableName: 'task-events',
 *   streamName: 'task-events',
 *   resumeToken,
 *   onProgress: ({ published, resumeToken }) => saveToken(resumeToken, published),
 * });
 * console.log(result.complete, result.published);
 * ```
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const parsed = parseOptions(REPLAY_OPTIONS_SCHEMA, options, { factory: 'replay' });
  const { tableName, signal, retry, pageSize, maxConcurrentCalls, segment, totalSegments } = parsed;
  const route = routeOf(parsed);
  const logger = resolveLogger(parsed.logger, 'tidemark-publisher', 'replay');
  const metric = metricReporter(parsed.metrics, logger, 'replay');
  const pk = parsed.aggregate ? aggregateKey(parsed.aggregate) : undefined;
  const fromVersion = parsed.fromVersion ?? REPLAY_DEFAULTS.fromVersion;
  const pack = parsed.packRuns;
  const dynamodb = resolveClient(
    parsed.dynamodb as DynamoDBClient | AwsClientOptions | undefined,
    (config) => new DynamoDBClient(config),
    'dynamodb',
  );
  const kinesis = resolveClient(
    parsed.kinesis as KinesisClient | AwsClientOptions | undefined,
    (config) => new KinesisClient(config),
    'kinesis',
  );

  const scope = {
    table: tableName,
    ...(pk !== undefined ? { aggregate: pk } : {}),
    ...(totalSegments !== undefined ? { segment: segment!, totalSegments } : {}),
  };
  let state: TokenState = parsed.resumeToken
    ? readResumeToken(parsed.resumeToken, scope)
    : { v: 1, ...scope, published: 0, eventsDone: 0 };
  let pages = 0;
  let scanned = 0;
  let skipped = 0;
  const token = () => encodeResumeToken(state);
  const progress = (): ReplayProgress => ({
    pages,
    scanned,
    published: state.published,
    eventsDone: state.eventsDone ?? 0,
    skipped,
    resumeToken: token(),
  });
  // Complete: the token is spent; stopped by the signal: the token resumes it.
  const result = (complete: boolean): ReplayResult => ({
    complete,
    published: state.published,
    eventsDone: state.eventsDone ?? 0,
    scanned,
    pages,
    skipped,
    resumeToken: complete ? undefined : token(),
  });
  const reading: LogPageQuery = {
    tableName,
    pageSize,
    ...(pk !== undefined ? { aggregate: { key: pk, fromVersion } } : {}),
    ...(totalSegments !== undefined ? { segment: segment!, totalSegments } : {}),
  };

  for (;;) {
    if (signal?.aborted) {
      return result(false);
    }
    const page = await readLogPage(dynamodb, reading, state.startKey);
    pages += 1;
    const items = (page.Items ?? []).map((item) => unmarshall(item));
    scanned += items.length;

    const { records, recordOfItem, skipped: notEvents } = pageRecords(items, route, logger);
    skipped += notEvents;
    const report = await publishInOrder(records, {
      kinesis,
      logger,
      retry,
      deadline: Number.POSITIVE_INFINITY,
      maxConcurrentCalls,
      pack,
      ...(signal ? { signal } : {}),
    });
    const publishedNow = report.outcomes.filter((outcome) => outcome === 'published').length;
    const failed = records.length - publishedNow;
    metric('RecordsPublished', publishedNow);
    metric('PublishRetries', report.retried);
    metric('RecordsUnpublished', failed);

    // The resume point: just after the last item of the unbroken published prefix (scan order).
    const firstUnpublished = recordOfItem.findIndex(
      (position) => position !== undefined && report.outcomes[position] !== 'published',
    );
    const done = firstUnpublished === -1 ? items.length : firstUnpublished;
    const resumeAfter = done > 0 ? items[done - 1] : undefined;
    const eventsDoneNow = recordOfItem.slice(0, done).filter((position) => position !== undefined).length;
    state = {
      ...state,
      published: state.published + publishedNow,
      eventsDone: (state.eventsDone ?? 0) + eventsDoneNow,
      ...(resumeAfter
        ? {
            startKey: {
              pk: String(resumeAfter[EVENT_LOG_KEY.partitionKey]),
              sk: Number(resumeAfter[EVENT_LOG_KEY.sortKey]),
            },
          }
        : {}),
    };
    const lastPage = page.LastEvaluatedKey === undefined;
    if (firstUnpublished === -1 && lastPage) {
      // Complete: the token is spent.
      await parsed.onProgress?.(progress());
      logger.info('Replay complete', { published: state.published, pages, scanned, skipped });
      return result(true);
    }
    if (firstUnpublished === -1 && page.LastEvaluatedKey) {
      const lastKey = unmarshall(page.LastEvaluatedKey);
      state = {
        ...state,
        startKey: {
          pk: String(lastKey[EVENT_LOG_KEY.partitionKey]),
          sk: Number(lastKey[EVENT_LOG_KEY.sortKey]),
        },
      };
    }
    await parsed.onProgress?.(progress());
    logger.info('Replay page done', { page: pages, items: items.length, published: publishedNow, failed });
    if (firstUnpublished !== -1) {
      if (signal?.aborted) {
        // Stopped by the signal before every wave ran: not a failure; the token resumes it.
        return result(false);
      }
      throw new ReplayInterruptedError(
        `Replay stopped: ${failed} events of page ${pages} could not be published; resume with the token`,
        { resumeToken: token(), published: state.published, failed },
      );
    }
  }
}
