/**
 * Errors thrown by `@tidemark/consumer`. Every error is a {@link TidemarkError} from
 * `@tidemark/core`: a stable `code`, a `context` object and the underlying `cause`.
 */
import { TidemarkError, type TidemarkErrorOptions } from '@tidemark/core';
import { describeErrorText } from '@tidemark/core/internal';

/** The base class of the consumer's errors. */
export class ConsumerError extends TidemarkError {
  constructor(code: string, message: string, options: TidemarkErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ConsumerError';
  }
}

/**
 * The checkpoint of an aggregate changed between this consumer's read and its conditional write:
 * another invocation (a concurrent consumer with the same name) advanced it. Nothing of this
 * aggregate is reported as done; Lambda redelivers it and the checkpoint decides what is left.
 */
export class ConcurrentConsumerError extends ConsumerError {
  constructor(consumer: string, aggregateKey: string, expectedRevision: number, actualRevision?: number) {
    super(
      'CONSUMER_CONCURRENT_UPDATE',
      `Checkpoint of ${aggregateKey} for consumer ${consumer} was changed by another invocation (expected revision ${expectedRevision}, found ${actualRevision ?? 'a different item'})`,
      { context: { consumer, aggregateKey, expectedRevision, actualRevision } },
    );
    this.name = 'ConcurrentConsumerError';
  }
}

/** Reading or writing the consumer table failed (after the SDK's own retries). Retried by redelivery. */
export class ConsumerStoreError extends ConsumerError {
  constructor(
    operation: string,
    message: string,
    context: Record<string, unknown>,
    options: ErrorOptions = {},
  ) {
    super('CONSUMER_STORE_FAILED', `${operation} failed: ${message}`, {
      ...options,
      context: { operation, ...context },
    });
    this.name = 'ConsumerStoreError';
  }
}

/** A handler threw (or its staged transaction was refused). Kept as the reason of a parked record. */
export class EventHandlerError extends ConsumerError {
  constructor(eventType: string, aggregateKey: string, version: number, attempt: number, cause: unknown) {
    super(
      'HANDLER_FAILED',
      `Handler for ${eventType} failed on ${aggregateKey} version ${version} (attempt ${attempt}): ${describeErrorText(cause)}`,
      { cause, context: { eventType, aggregateKey, version, attempt } },
    );
    this.name = 'EventHandlerError';
  }
}

/** A transactional handler staged more writes than one TransactWriteItems call allows. */
export class TransactionLimitError extends ConsumerError {
  /** The most writes a handler may stage: 100 per transaction, minus the checkpoint. */
  readonly limit: number;

  constructor(limit: number, context: Record<string, unknown> = {}) {
    super(
      'TRANSACTION_TOO_LARGE',
      `A handler may stage at most ${limit} writes: TransactWriteItems takes 100 items and the checkpoint is one of them`,
      { context: { ...context, limit } },
    );
    this.name = 'TransactionLimitError';
    this.limit = limit;
  }
}

/** DynamoDB refused the transaction because of a staged write (its condition failed, or it was invalid). */
export class StagedWriteRejectedError extends ConsumerError {
  /** One entry per staged write: DynamoDB's cancellation code (`None` for the ones that were fine). */
  readonly reasons: readonly { readonly code: string; readonly message?: string }[];

  constructor(reasons: readonly { code: string; message?: string }[], options: ErrorOptions = {}) {
    super(
      'TRANSACTION_REJECTED',
      `DynamoDB cancelled the handler's transaction: ${reasons
        .map((reason, index) => (reason.code === 'None' ? '' : `write ${index}: ${reason.code}`))
        .filter(Boolean)
        .join(', ')}`,
      { ...options, context: { reasons } },
    );
    this.name = 'StagedWriteRejectedError';
    this.reasons = reasons;
  }
}

/** A gap stayed open longer than `gapTimeoutSeconds` (or held too many records) and was given up on. */
export class GapExpiredError extends ConsumerError {
  constructor(
    aggregateKey: string,
    missingFrom: number,
    missingTo: number,
    openSince: string,
    reason: string,
  ) {
    super(
      'GAP_EXPIRED',
      `Versions ${missingFrom}${missingTo > missingFrom ? `-${missingTo}` : ''} of ${aggregateKey} never arrived (gap open since ${openSince}); ${reason}`,
      { context: { aggregateKey, missingFrom, missingTo, openSince } },
    );
    this.name = 'GapExpiredError';
  }
}

/**
 * A handler did not complete: the invocation ended (time-out, out of memory, a crash) or the
 * handler was still running when the invocation had to answer. Counts as an attempt.
 */
export class HandlerDidNotCompleteError extends ConsumerError {
  constructor(eventType: string, aggregateKey: string, version: number, how: string) {
    super(
      'HANDLER_DID_NOT_COMPLETE',
      `Handler for ${eventType} did not complete on ${aggregateKey} version ${version}: ${how}`,
      { context: { eventType, aggregateKey, version } },
    );
    this.name = 'HandlerDidNotCompleteError';
  }
}

/** A transactional handler staged a write after it returned (from an un-awaited callback). */
export class StagedAfterReturnError extends ConsumerError {
  constructor(context: Record<string, unknown>) {
    super(
      'STAGED_AFTER_RETURN',
      'A write was staged after the handler returned; await every write before returning (it was not committed)',
      { context },
    );
    this.name = 'StagedAfterReturnError';
  }
}

/**
 * `transaction.commitEarlier()` could not make the earlier events' writes durable (DynamoDB failed,
 * another invocation changed the checkpoint, or an earlier event's writes were refused). The event
 * whose handler asked is not run now and not counted as failed: it is delivered again.
 */
export class EarlierCommitError extends ConsumerError {
  constructor(context: Record<string, unknown>, options: ErrorOptions = {}) {
    super(
      'EARLIER_COMMIT_FAILED',
      "The writes staged by this aggregate's earlier events could not be committed; this event is delivered again",
      { ...options, context },
    );
    this.name = 'EarlierCommitError';
  }
}

/**
 * A record is not what the consumer can accept as an event of its aggregate: its partition key
 * is not its envelope's aggregate, or its version is further ahead than the consumer would ever
 * hold. Kept as the reason of a parked record.
 */
export class ImplausibleRecordError extends ConsumerError {
  constructor(
    code: 'RECORD_MISROUTED' | 'VERSION_IMPLAUSIBLE',
    message: string,
    context: Record<string, unknown>,
  ) {
    super(code, message, { context });
    this.name = 'ImplausibleRecordError';
  }
}

/**
 * An event arrived for a version the consumer had skipped (its gap expired, or it was before the
 * first version a mid-stream consumer saw) after a later version was applied. Parked, never dropped.
 */
export class ArrivedAfterSkipError extends ConsumerError {
  constructor(aggregateKey: string, version: number, appliedAfter: number, cause: string) {
    super(
      'ARRIVED_AFTER_SKIP',
      `Version ${version} of ${aggregateKey} arrived after it was skipped (${cause}) and version ${appliedAfter} was applied; redrive it to apply it out of order, or delete it`,
      { context: { aggregateKey, version, appliedAfter, skippedBecause: cause } },
    );
    this.name = 'ArrivedAfterSkipError';
  }
}

/** A held record could not be read back (missing or incomplete): reported, never dropped silently. */
export class HeldRecordLostError extends ConsumerError {
  constructor(aggregateKey: string, version: number, context: Record<string, unknown>) {
    super(
      'HELD_RECORD_LOST',
      `Held record ${aggregateKey} version ${version} is missing or incomplete in the consumer table`,
      { context: { aggregateKey, version, ...context } },
    );
    this.name = 'HeldRecordLostError';
  }
}

/** No dead letter with this id exists for this consumer. */
export class DeadLetterNotFoundError extends ConsumerError {
  constructor(consumer: string, id: string) {
    super('DEAD_LETTER_NOT_FOUND', `Consumer ${consumer} has no dead letter ${JSON.stringify(id)}`, {
      context: { consumer, id },
    });
    this.name = 'DeadLetterNotFoundError';
  }
}

/** The dead letter cannot be redriven (a gap report carries no event to re-run). */
export class DeadLetterNotRedrivableError extends ConsumerError {
  constructor(consumer: string, id: string, reason: string) {
    super(
      'DEAD_LETTER_NOT_REDRIVABLE',
      `Dead letter ${id} of consumer ${consumer} cannot be redriven: ${reason}`,
      {
        context: { consumer, id },
      },
    );
    this.name = 'DeadLetterNotRedrivableError';
  }
}

/**
 * The dead-letter CLI could not get a consumer from `--module`: the module could not be loaded (a
 * TypeScript module without a way to load it, a missing file), or it exports no consumer made by
 * `createConsumer` (or several, and `--export` does not pick one).
 */
export class ConsumerModuleError extends ConsumerError {
  constructor(
    modulePath: string,
    message: string,
    context: Record<string, unknown> = {},
    options: ErrorOptions = {},
  ) {
    super('CONSUMER_MODULE_UNUSABLE', message, { ...options, context: { ...context, modulePath } });
    this.name = 'ConsumerModuleError';
  }
}
