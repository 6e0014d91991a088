/** A batch's summary: logged, emitted as metrics and handed to `onBatchSummary`. */
import type { ResolvedConsumerOptions } from './options';
import type { Run } from './run-context';
import type { BatchSummary } from './types';

/** Reports one batch: its summary logged at info, each count as a metric, then `onBatchSummary`. */
export function reportBatch(
  name: string,
  options: Pick<ResolvedConsumerOptions, 'logger' | 'metric' | 'onBatchSummary'>,
  run: Run,
  batch: { records: number; aggregates: number; failed: number; failedSequenceNumber: string | undefined },
): void {
  const summary: BatchSummary = {
    consumer: name,
    records: batch.records,
    aggregates: batch.aggregates,
    ...run.stats,
    failed: batch.failed,
    dynamodbRequests: run.counter.requests,
    ...(batch.failedSequenceNumber === undefined ? {} : { failedSequenceNumber: batch.failedSequenceNumber }),
  };
  const { logger, metric, onBatchSummary } = options;
  logger.info(`tidemark consumer ${name}: batch done`, { ...summary });
  const metrics: [Parameters<typeof metric>[0], number][] = [
    ['RecordsReceived', summary.records],
    ['EventsApplied', summary.applied],
    ['DuplicatesSkipped', summary.duplicates],
    ['EventsSkipped', summary.skipped],
    ['GapsHeld', summary.gapsHeld],
    ['GapsClosed', summary.gapsClosed],
    ['GapsExpired', summary.gapsExpired],
    ['RecordsParked', summary.parked],
    ['HandlerFailures', summary.handlerFailures],
    ['RecordsFailed', summary.failed],
    ['ConcurrentUpdates', summary.concurrentUpdates],
    ['ParkFailures', summary.parkFailures],
    ['VersionsSkipped', summary.firstContactSkips],
    ['HandlersNotCompleted', summary.handlersNotCompleted],
    ['EventsUnreadable', summary.unreadable],
    ['DynamoDbRequests', summary.dynamodbRequests],
  ];
  for (const [name, value] of metrics) metric(name, value);
  onBatchSummary?.(summary);
}
