/**
 * The end of an invocation: what the batch came to (the counts, and the earliest stream record not
 * published), Lambda's answer naming that record, and the metrics. Summarizing is a pure function of
 * the classification and the publishing report; nothing unpublished is ever counted as published.
 */
import type { TidemarkLogger } from '@tidemark/core';
import type { MetricReporter } from '@tidemark/core/internal';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Completion } from './command-completion';
import { PublisherError } from './errors';
import type { HistoryRewritePolicy } from './history-rewrites';
import type { OrderedPublishReport, OutgoingRecord } from './ordered-publish';
import type { PublishSummary } from './publisher-types';
import type { ClassifiedRecord } from './record-classification';
import { keyAttributes, type RecordImages } from './stream-records';

/** What one invocation did, as the summary needs it. */
export interface BatchFacts {
  /** Stream records in the batch. */
  readonly records: number;
  /** Each stream record's classification, in batch order. */
  readonly classified: readonly ClassifiedRecord[];
  /** Each stream record's images, in batch order. */
  readonly images: readonly RecordImages[];
  /** The records published from the stream (completions from the log left out), in batch order. */
  readonly outgoing: readonly OutgoingRecord[];
  /** For each of `outgoing`, its stream record's index in the batch. */
  readonly positions: readonly number[];
  /** The report of `publishInOrder` over `outgoing` followed by the completions. */
  readonly report: OrderedPublishReport;
  readonly completion: Pick<Completion, 'commands' | 'queries'>;
  readonly onHistoryRewrite: HistoryRewritePolicy;
}

/** The summary of a batch, and the stream records Lambda must retry. */
export interface BatchOutcome {
  readonly summary: PublishSummary;
  /** Index of the earliest stream record not published; `undefined` when every one is done. */
  readonly earliest: number | undefined;
  /** Log attributes of every stream record not published (why, and which). */
  readonly unpublished: readonly Record<string, unknown>[];
}

/**
 * Counts what the batch came to and finds the earliest stream record not published (a history
 * rewrite counts as not published with `onHistoryRewrite: 'fail'`).
 *
 * @example
 * ```ts
 * const { summary, earliest } = summarizeBatch({ records: 3, classified, images, outgoing, positions, report, completion, onHistoryRewrite: 'log' });
 * ```
 */
export function summarizeBatch({
  records,
  classified,
  images,
  outgoing,
  positions,
  report,
  completion,
  onHistoryRewrite,
}: BatchFacts): BatchOutcome {
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
    records,
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
  return { summary, earliest, unpublished };
}

/**
 * Lambda's `batchItemFailures`: the earliest stream record not published (Lambda retries from
 * there), logged with the first ten unpublished records; none when every record is done. Throws a
 * `PublisherError` (`STREAM_RECORD_INVALID`) when that record has no sequence number to name.
 *
 * @example
 * ```ts
 * return { batchItemFailures: batchItemFailures(records, outcome, logger) };
 * ```
 */
export function batchItemFailures(
  records: readonly DynamoDBRecord[],
  { earliest, unpublished }: Pick<BatchOutcome, 'earliest' | 'unpublished'>,
  logger: TidemarkLogger,
): { itemIdentifier: string }[] {
  if (earliest === undefined) return [];
  const sequenceNumber = records[earliest]!.dynamodb?.SequenceNumber;
  if (typeof sequenceNumber !== 'string' || sequenceNumber.length === 0) {
    throw new PublisherError(
      'STREAM_RECORD_INVALID',
      'A stream record that was not published has no dynamodb.SequenceNumber, so it cannot be reported; failing the whole batch',
      { context: { index: earliest } },
    );
  }
  logger.error('Some events were not published; Lambda retries from the earliest one', {
    earliestSequenceNumber: sequenceNumber,
    unpublished: unpublished.length,
    first: unpublished.slice(0, 10),
  });
  return [{ itemIdentifier: sequenceNumber }];
}

/**
 * Reports the counts of one invocation, one value per metric name.
 *
 * @example
 * ```ts
 * reportBatchMetrics(metricReporter(options.metrics, logger, 'createPublisher'), summary);
 * ```
 */
export function reportBatchMetrics(metric: MetricReporter, summary: PublishSummary): void {
  metric('RecordsPublished', summary.published);
  metric('PublishRetries', summary.retried);
  metric('RecordsUnpublished', summary.failed);
  metric('RecordsSkipped', summary.skipped.notAnEvent);
  metric('HistoryRewrites', summary.historyRewritten);
  metric('UnpublishableRecords', summary.poison);
  metric('CommandsCompleted', summary.commandsCompleted);
}
