/**
 * Parking: writing a dead letter that fits DynamoDB's limits whatever the input, and falling back
 * to a minimal one (reason, coordinates, sizes) when the full one is refused for a reason that
 * would repeat — so a park never blocks a shard for good.
 */
import type { TidemarkError, TidemarkLogger } from '@tidemark/core';
import { describeError, describeErrorText } from '@tidemark/core/internal';
import { type DeadLetterItem, deadLetterId, minimalDeadLetter } from './dead-letter-item';
import { ArrivedAfterSkipError, ImplausibleRecordError } from './errors';
import type { EventRecord } from './records';
import { isWaitableFailure } from './rules/failure-kind';
import type { ParkVerdict } from './rules/plan';
import type { ParkInput, Run } from './run-context';
import type { DeadLetter } from './types';

/**
 * Parks a record (idempotent: the id is stable per record). A refusal that passes by waiting
 * (throttling, a server error) is thrown: the record is delivered again. Any other refusal is
 * logged at error level with the record's coordinates, counted (`parkFailures`), and a minimal
 * dead letter is written instead; if that fails too, the error is thrown.
 */
export async function parkRecord(
  consumer: string,
  logger: TidemarkLogger,
  run: Run,
  input: ParkInput,
): Promise<DeadLetterItem> {
  const { reason, error, stored, record } = input;
  const envelope = record?.envelope;
  const version = input.version ?? envelope?.aggregateversion;
  const aggregateKey = record?.aggregateKey ?? input.aggregate?.key;
  const id = deadLetterId(reason, {
    eventID: stored.eventID,
    ...(aggregateKey !== undefined && version !== undefined ? { aggregateKey, version } : {}),
    ...(input.missing ? { missing: input.missing } : {}),
    ...(stored.batch ? { batchPosition: stored.batch.position } : {}),
  });
  const coordinates = {
    consumer,
    deadLetterId: id,
    reason,
    sequenceNumber: stored.sequenceNumber,
    eventID: stored.eventID,
    partitionKey: stored.partitionKey,
    dataBytes: stored.dataBytes,
    ...(stored.batch ? { batch: stored.batch } : {}),
    ...(aggregateKey !== undefined ? { aggregate: aggregateKey, version } : {}),
  };
  let letter: DeadLetterItem = {
    id,
    consumer,
    reason,
    message: error instanceof Error ? error.message : describeErrorText(error),
    error: errorInfo(error),
    parkedAt: run.now.toISOString(),
    attempts: input.attempts,
    record: stored,
    ...(record && envelope
      ? {
          aggregate: record.aggregate,
          version: version!,
          eventType: envelope.type,
          eventId: envelope.id,
        }
      : input.aggregate && version !== undefined
        ? { aggregate: { type: input.aggregate.type, id: input.aggregate.id }, version }
        : {}),
    ...(input.missing ? { missing: input.missing } : {}),
  };
  try {
    await run.deadLetters.put(letter);
  } catch (refusal) {
    if (isWaitableFailure(refusal)) throw refusal;
    run.stats.parkFailures += 1;
    logger.error(`tidemark consumer ${consumer}: the dead letter was refused; writing a minimal one`, {
      ...coordinates,
      error: describeError(refusal),
    });
    letter = minimalDeadLetter(letter, describeErrorText(refusal).slice(0, 500));
    await run.deadLetters.put(letter);
  }
  run.stats.parked += 1;
  logger.error(`tidemark consumer ${consumer}: parked a record (${reason})`, {
    ...coordinates,
    error: letter.message.slice(0, 2000),
  });
  return letter;
}

/** The error of a dead letter: name, code and context of a Tidemark error. */
export function errorInfo(error: unknown): DeadLetter['error'] {
  if (error instanceof Error) {
    const tidemark = error as Partial<TidemarkError>;
    return {
      name: error.name,
      ...(typeof tidemark.code === 'string' ? { code: tidemark.code } : {}),
      ...(tidemark.context && Object.keys(tidemark.context).length > 0
        ? { context: { ...tidemark.context } }
        : {}),
    };
  }
  return { name: typeof error };
}

/** The typed error a bad record the plan found is parked with (see `rules/plan.ts`). */
export function parkVerdictError(
  verdict: ParkVerdict<{ readonly record: EventRecord }>,
  maxVersionsAhead: number,
  mark: number,
): ImplausibleRecordError | ArrivedAfterSkipError {
  const { record } = verdict.record;
  const version = record.envelope.aggregateversion;
  if (verdict.reason === 'misrouted') {
    return new ImplausibleRecordError(
      'RECORD_MISROUTED',
      `Record ${record.stored.sequenceNumber} has partition key ${JSON.stringify(record.stored.partitionKey.slice(0, 256))}, not its aggregate ${record.aggregateKey}`,
      { aggregateKey: record.aggregateKey, version, partitionKey: record.stored.partitionKey.slice(0, 256) },
    );
  }
  if (verdict.reason === 'implausible-version') {
    return new ImplausibleRecordError(
      'VERSION_IMPLAUSIBLE',
      `Version ${version} of ${record.aggregateKey} is more than ${maxVersionsAhead} versions ahead of version ${verdict.reach}, the highest the aggregate can reach`,
      { aggregateKey: record.aggregateKey, version, reach: verdict.reach, maxVersionsAhead },
    );
  }
  return new ArrivedAfterSkipError(
    record.aggregateKey,
    version,
    verdict.appliedAfter ?? mark,
    verdict.reason === 'arrived-before-first-contact'
      ? 'the consumer started this aggregate mid-stream'
      : 'its gap expired',
  );
}
