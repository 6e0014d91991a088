/**
 * What one batch (or redrive, or gap sweep) works with, and the narrow view of the consumer that
 * an aggregate's run gets: its handlers, catalog, options, the park operation and the deadline.
 */
import type { AnyEventDefinition, DomainEvent } from '@tidemark/core';
import type { CheckpointStore } from './checkpoint-store';
import type { RequestCounter } from './counting-client';
import type { DeadLetterItem } from './dead-letter-item';
import type { DeadLetterStore } from './dead-letter-store';
import type { ResolvedConsumerOptions } from './options';
import type { EventRecord } from './records';
import type { TableKeys } from './staged-commit';
import type { StoredRecord } from './stored-record';
import type { HandlerContext, LambdaContextLike, ParkReason } from './types';

/** A handler as the engine calls it (typed per event type at the API). */
export type AnyHandler = (event: DomainEvent, context: HandlerContext) => unknown;

/** Counts of one batch (mutable while it runs). */
export interface Stats {
  applied: number;
  duplicates: number;
  skipped: number;
  gapsHeld: number;
  gapsClosed: number;
  gapsExpired: number;
  parked: number;
  handlerFailures: number;
  concurrentUpdates: number;
  deferred: number;
  /** Dead-letter writes refused for a reason that would repeat (a minimal dead letter was tried). */
  parkFailures: number;
  /** Versions a mid-stream start (`firstContact: 'any-version'`) skipped. */
  firstContactSkips: number;
  /** Handlers still running when the invocation had to answer (counted as attempts). */
  handlersNotCompleted: number;
  /** Times an event that cannot be read yet held its aggregate. */
  unreadable: number;
}

/** Everything one batch (or one redrive, or one sweep) works with. */
export interface Run {
  /** Identifies this invocation (as the owner of a claim). */
  readonly id: string;
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterStore;
  readonly counter: RequestCounter;
  readonly stats: Stats;
  readonly lambdaContext: LambdaContextLike | undefined;
  /** Indexes of batch records not completed. */
  readonly notCompleted: Set<number>;
  readonly now: Date;
}

/** What parking one record needs. */
export interface ParkInput {
  readonly reason: ParkReason;
  readonly error: unknown;
  readonly stored: StoredRecord;
  readonly attempts: number;
  readonly record?: EventRecord;
  readonly missing?: { from: number; to: number };
  /** The aggregate and version, for a record known only by its held-index entry. */
  readonly version?: number;
  readonly aggregate?: { readonly key: string; readonly type: string; readonly id: string };
}

/** The consumer as one aggregate's run sees it. */
export interface AggregateContext {
  readonly name: string;
  readonly options: Pick<
    ResolvedConsumerOptions,
    | 'catalog'
    | 'logger'
    | 'firstContact'
    | 'unreadableEvents'
    | 'maxAttempts'
    | 'gapTimeoutSeconds'
    | 'maxHeldPerAggregate'
    | 'maxVersionsAhead'
    | 'transactional'
    | 'timeoutMarginMs'
  >;
  /** What the consumer learned of the tables transactional handlers write to (for as long as it lives). */
  readonly tableKeys: TableKeys;
  handlerFor(type: string): AnyHandler | undefined;
  definitionFor(type: string): AnyEventDefinition | undefined;
  /** Parks a record; throws when even a minimal dead letter could not be written. */
  park(run: Run, input: ParkInput): Promise<DeadLetterItem>;
  /** Milliseconds left before the invocation must answer (Infinity without a Lambda context). */
  timeLeft(run: Run): number;
}

/** Empty counts. */
export function emptyStats(): Stats {
  return {
    applied: 0,
    duplicates: 0,
    skipped: 0,
    gapsHeld: 0,
    gapsClosed: 0,
    gapsExpired: 0,
    parked: 0,
    handlerFailures: 0,
    concurrentUpdates: 0,
    deferred: 0,
    parkFailures: 0,
    firstContactSkips: 0,
    handlersNotCompleted: 0,
    unreadable: 0,
  };
}
