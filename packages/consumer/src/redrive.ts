/** Redrive: a parked record run again through the handlers, applied at most once. */
import { AggregateRun } from './aggregate-run';
import { type DeadLetterItem, toDeadLetter } from './dead-letter-item';
import {
  ConcurrentConsumerError,
  ConsumerStoreError,
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
} from './errors';
import { errorInfo } from './park';
import { readStoredRecord } from './records';
import type { AggregateContext, Run } from './run-context';
import type { RedriveResult } from './types';

/**
 * Re-runs a parked record through the handlers with the idempotency rules: a parked version is
 * applied once (the checkpoint lists it in `parked` until then), then the dead letter is deleted.
 */
export async function redrive(consumer: AggregateContext, run: Run, id: string): Promise<RedriveResult> {
  const letter = await run.deadLetters.get(id);
  if (!letter) throw new DeadLetterNotFoundError(consumer.name, id);
  if (letter.reason === 'gap-expired') {
    throw new DeadLetterNotRedrivableError(
      consumer.name,
      id,
      'it reports versions that never arrived; the held records after them were applied when the gap expired. Publish the missing events again if they matter, then delete this dead letter',
    );
  }
  if (letter.minimal || letter.record.dataTruncated || letter.reason === 'held-record-lost') {
    throw new DeadLetterNotRedrivableError(
      consumer.name,
      id,
      'it does not hold the record data (find the record by its sequence number and publish it again, then delete this dead letter)',
    );
  }
  const read = readStoredRecord(letter.record, -1);
  if (!read || read.kind === 'bad') {
    const again: DeadLetterItem = { ...letter, redriveAttempts: (letter.redriveAttempts ?? 0) + 1 };
    await run.deadLetters.put(again);
    return { id, outcome: 'parked', deadLetter: toDeadLetter(again) };
  }
  const version = read.envelope.aggregateversion;
  const state = await run.checkpoints.readCheckpoint(read.aggregateKey);
  if (!state?.parked.has(version)) {
    if (state && version <= state.version) {
      await run.deadLetters.delete(id);
      return { id, outcome: 'duplicate' };
    }
    throw new DeadLetterNotRedrivableError(
      consumer.name,
      id,
      `the checkpoint of ${read.aggregateKey} is at version ${state?.version ?? 'none'}, below the parked version ${version}`,
    );
  }
  const aggregate = new AggregateRun(consumer, run, read.aggregateKey, state, true);
  const step = await aggregate.runEvent({ record: read, fromHeld: false }, (letter.attempts ?? 0) + 1);
  if (step === 'done' && aggregate.parkedAgain === undefined) {
    const written = await aggregate.flush();
    if (!written) {
      if (aggregate.lastInfraError !== undefined) {
        throw new ConsumerStoreError('redrive', aggregate.lastInfraError, { id });
      }
      throw new ConcurrentConsumerError(consumer.name, read.aggregateKey, state.revision);
    }
    await run.deadLetters.delete(id);
    return { id, outcome: aggregate.lastOutcome === 'skipped' ? 'skipped' : 'applied' };
  }
  if (step === 'stop-concurrent')
    throw new ConcurrentConsumerError(consumer.name, read.aggregateKey, state.revision);
  if (step === 'stop-infra') {
    throw new ConsumerStoreError('redrive', aggregate.lastInfraError ?? 'DynamoDB failed', { id });
  }
  // It failed again: the dead letter stays, with the new reason.
  const again = aggregate.parkedAgain;
  const handlerError = aggregate.lastHandlerError;
  const updated: DeadLetterItem = {
    ...letter,
    redriveAttempts: (letter.redriveAttempts ?? 0) + 1,
    ...(again !== undefined
      ? { reason: again.reason, message: again.message, error: again.error }
      : handlerError !== undefined
        ? {
            reason: 'handler-failed' as const,
            message: handlerError.message,
            error: errorInfo(handlerError),
            attempts: (letter.attempts ?? 0) + 1,
          }
        : {}),
  };
  await run.deadLetters.put(updated);
  return { id, outcome: 'parked', deadLetter: toDeadLetter(updated) };
}
