/**
 * One aggregate within one batch (or one redrive, or one gap sweep): its candidates in version
 * order, the checkpoint being built, and the writes that make it durable. The rules of DESIGN §4
 * live here: duplicates, next version, gaps held and expired, attempts and parking, transactions.
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type DomainEvent, type TidemarkError, UnsupportedSchemaVersionError } from '@tidemark/core';
import type { ConsumerEngine } from './engine';
import {
  ConcurrentConsumerError,
  describeCause,
  EventHandlerError,
  GapExpiredError,
  StagedWriteRejectedError,
} from './errors';
import { type EventRecord, readStoredRecord, recordSourceOf } from './records';
import type { CheckpointStore, DeadLetterStore, RequestCounter } from './store';
import {
  type CheckpointState,
  cloneCheckpoint,
  type DeadLetterItem,
  type HeldRecord,
  heldChunkCount,
} from './table';
import { StagedTransaction } from './transaction';
import type { DeadLetter, HandlerContext, LambdaContextLike, ParkReason } from './types';

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
}

/** Everything one batch (or one redrive) works with. */
export interface Run {
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterStore;
  readonly counter: RequestCounter;
  readonly stats: Stats;
  readonly lambdaContext: LambdaContextLike | undefined;
  /** Indexes of batch records not completed. */
  readonly notCompleted: Set<number>;
  readonly now: Date;
}

/** A candidate for application: a batch record or a held one. */
export interface Candidate {
  readonly record: EventRecord;
  readonly fromHeld: boolean;
}

/**
 * What handling one event ended in: `done` (applied, skipped or parked), or why the aggregate
 * stops for this batch: its handler failed, DynamoDB failed, another invocation changed the
 * checkpoint, or the invocation is about to time out.
 */
export type Step = 'done' | 'stop-handler' | 'stop-infra' | 'stop-concurrent' | 'stop-time';

/** The rules for one aggregate in one batch, redrive or sweep (see the file comment). */
export class AggregateRun {
  /** The checkpoint as it will be written. */
  private readonly state: CheckpointState;
  /** The revision and existence of the durable checkpoint (the condition of the next write). */
  private baseRevision: number;
  private baseExists: boolean;
  private durableVersion: number;
  /** Whether the durable checkpoint holds records (so the open-gap index has an entry for it). */
  private durableHeld: boolean;
  /** Whether `state` differs from the durable checkpoint. */
  private dirty = false;
  /** Batch records whose effect is not durable yet (all of them fail if the next write fails). */
  private pending: number[] = [];
  /** Held versions applied; their items are deleted once the checkpoint no longer needs them. */
  private consumedHeld: { version: number; chunks: number }[] = [];
  /** Set when a durable write emptied the held index: its open-gap entry goes. */
  private gapClosed = false;
  lastOutcome: 'applied' | 'skipped' | 'parked' | undefined;
  lastHandlerError: Error | undefined;
  lastInfraError: string | undefined;
  parkedAgain: DeadLetterItem | undefined;

  constructor(
    private readonly engine: ConsumerEngine,
    private readonly run: Run,
    private readonly aggregateKey: string,
    initial: CheckpointState,
    private readonly redriving: boolean,
  ) {
    this.state = cloneCheckpoint(initial);
    this.baseRevision = initial.revision;
    this.baseExists = initial.exists;
    this.durableVersion = initial.exists ? initial.version : 0;
    this.durableHeld = initial.held.size > 0;
  }

  private get options() {
    return this.engine.options;
  }

  /**
   * Applies what is next, holds what is beyond a gap, expires an old gap, then writes the
   * checkpoint. `heldRecords` is `undefined` when the batch cannot use them (they were not read).
   */
  async process(records: EventRecord[], heldRecords: Map<number, HeldRecord> | undefined): Promise<void> {
    const { state, run } = this;
    const versionOf = (record: EventRecord) => record.envelope.aggregateversion;

    if (!state.exists) {
      state.version =
        this.options.firstContact === 'require-first' ? 0 : Math.min(...records.map(versionOf)) - 1;
    }

    const candidates = new Map<number, Candidate>();
    for (const record of records) {
      const version = versionOf(record);
      if (version <= state.version || candidates.has(version) || state.held.has(version)) {
        run.stats.duplicates += 1;
        continue;
      }
      candidates.set(version, { record, fromHeld: false });
    }
    for (const version of heldRecords === undefined ? [] : [...state.held.keys()]) {
      const held = heldRecords!.get(version);
      const read = held ? readStoredRecord(held.record, -1) : undefined;
      if (!read || read.kind === 'bad') {
        this.options.logger.error(
          `tidemark consumer ${this.engine.name}: held record ${this.aggregateKey} v${version} is missing or unreadable; dropping it from the index`,
        );
        state.held.delete(version);
        this.dirty = true;
        continue;
      }
      candidates.set(version, { record: read, fromHeld: true });
    }

    let stop: Step | undefined;
    let failedCandidate: Candidate | undefined;
    for (;;) {
      for (let next = candidates.get(state.version + 1); next; next = candidates.get(state.version + 1)) {
        if (this.engine.outOfTime(run)) {
          stop = 'stop-time';
          failedCandidate = next;
          run.stats.deferred += [...candidates.values()].filter((candidate) => !candidate.fromHeld).length;
          break;
        }
        const step = await this.runEvent(next, this.attemptFor(state.version + 1));
        if (step !== 'done') {
          stop = step;
          failedCandidate = next;
          break;
        }
        candidates.delete(versionOf(next.record));
      }
      if (stop || candidates.size === 0) break;
      if (heldRecords === undefined && this.state.held.size > 0) break;
      if (!this.gapExpired(candidates)) break;
      if (!(await this.expireGap(candidates))) {
        stop = 'stop-infra';
        break;
      }
    }

    if (stop) {
      // The failed event and this aggregate's later records in the batch are not completed.
      const failedVersion = failedCandidate ? versionOf(failedCandidate.record) : state.version + 1;
      let marked = false;
      for (const [version, candidate] of candidates) {
        if (!candidate.fromHeld && version >= failedVersion) {
          run.notCompleted.add(candidate.record.index);
          marked = true;
        }
      }
      if (!marked && records.length > 0) {
        // The failing event was a held one: name this aggregate's last record so Lambda delivers
        // it again and the held event gets its next attempt.
        run.notCompleted.add(Math.max(...records.map((record) => record.index)));
      }
      if (stop === 'stop-concurrent') {
        for (const index of this.pending) run.notCompleted.add(index);
        return;
      }
    } else {
      await this.holdRemaining(candidates);
    }

    await this.flush();
  }

  /** Writes the checkpoint if it changed; returns false when the write failed (records marked). */
  async flush(): Promise<boolean> {
    if (this.dirty) {
      const next = this.nextState();
      try {
        await this.run.checkpoints.writeCheckpoint(next, this.baseRevision, this.baseExists);
        this.markDurable(next);
      } catch (error) {
        this.writeFailed(error);
        return false;
      }
    }
    await this.deleteConsumedHeld();
    return true;
  }

  attemptFor(version: number): number {
    return this.state.failure?.version === version ? this.state.failure.attempts + 1 : 1;
  }

  /** Applies, skips or parks one event that is next (or, in a redrive, parked). */
  async runEvent(candidate: Candidate, attempt: number): Promise<Step> {
    const { record } = candidate;
    const { envelope } = record;
    const handler = this.engine.handlerFor(envelope.type);
    const definition = this.engine.definitionFor(envelope.type);
    if (!handler || !definition) {
      this.options.logger.debug(
        `tidemark consumer ${this.engine.name}: skipped ${envelope.type} (no handler)`,
        {
          aggregate: this.aggregateKey,
          version: envelope.aggregateversion,
        },
      );
      this.run.stats.skipped += 1;
      this.lastOutcome = 'skipped';
      this.done(candidate);
      return 'done';
    }

    let event: DomainEvent;
    try {
      event = this.options.catalog.parse(envelope);
    } catch (error) {
      const reason: ParkReason =
        error instanceof UnsupportedSchemaVersionError ? 'unsupported-schema-version' : 'invalid-payload';
      const parked = await this.parkEvent(candidate, reason, error, 0);
      return parked ? 'done' : 'stop-infra';
    }

    const context: HandlerContext = {
      consumer: this.engine.name,
      lambdaContext: this.run.lambdaContext,
      logger: this.options.logger,
      record: recordSourceOf(record.stored),
      attempt,
      redrive: this.redriving,
    };

    let staged: TransactWriteItem[] = [];
    try {
      if (this.options.transactional) {
        const transaction = new StagedTransaction({
          aggregate: this.aggregateKey,
          version: envelope.aggregateversion,
        });
        await handler(event, Object.freeze({ ...context, transaction }));
        staged = transaction.items();
      } else {
        await handler(event, Object.freeze(context));
      }
    } catch (error) {
      return this.handlerFailed(candidate, attempt, error);
    }

    if (staged.length === 0) {
      this.run.stats.applied += 1;
      if (candidate.fromHeld) this.run.stats.gapsClosed += 1;
      this.lastOutcome = 'applied';
      this.done(candidate);
      return 'done';
    }
    return this.commit(candidate, attempt, staged);
  }

  /** Transactional mode: the staged writes and the checkpoint advance in one TransactWriteItems. */
  private async commit(candidate: Candidate, attempt: number, staged: TransactWriteItem[]): Promise<Step> {
    const before = cloneCheckpoint(this.state);
    const beforeKeys = new Set(Object.keys(this.state));
    const beforeDirty = this.dirty;
    const beforePending = [...this.pending];
    const beforeConsumed = [...this.consumedHeld];
    this.done(candidate);
    const next = this.nextState();
    try {
      await this.run.checkpoints.transact(
        [...staged, this.run.checkpoints.checkpointPut(next, this.baseRevision, this.baseExists)],
        randomUUID(),
      );
    } catch (error) {
      for (const key of Object.keys(this.state)) {
        if (!beforeKeys.has(key)) delete (this.state as unknown as Record<string, unknown>)[key];
      }
      Object.assign(this.state, before);
      this.dirty = beforeDirty;
      this.pending = beforePending;
      this.consumedHeld = beforeConsumed;
      const reasons = cancellationReasons(error);
      if (reasons) {
        const checkpointReason = reasons[reasons.length - 1];
        if (checkpointReason?.code === 'ConditionalCheckFailed') {
          return this.concurrent(checkpointReason.revision);
        }
        const stagedReasons = reasons.slice(0, -1);
        if (stagedReasons.some((reason) => USER_CANCELLATION_CODES.has(reason.code))) {
          return this.handlerFailed(
            candidate,
            attempt,
            new StagedWriteRejectedError(stagedReasons, { cause: error }),
          );
        }
      } else if ((error as Error)?.name === 'ValidationException') {
        return this.handlerFailed(candidate, attempt, error);
      }
      this.lastInfraError = describeCause(error);
      this.options.logger.warn(
        `tidemark consumer ${this.engine.name}: transaction failed; will retry on redelivery`,
        {
          aggregate: this.aggregateKey,
          version: candidate.record.envelope.aggregateversion,
          error: describeCause(error),
        },
      );
      return 'stop-infra';
    }
    this.markDurable(next);
    this.run.stats.applied += 1;
    if (candidate.fromHeld) this.run.stats.gapsClosed += 1;
    this.lastOutcome = 'applied';
    return 'done';
  }

  private async handlerFailed(candidate: Candidate, attempt: number, error: unknown): Promise<Step> {
    const { envelope } = candidate.record;
    const failure = new EventHandlerError(
      envelope.type,
      this.aggregateKey,
      envelope.aggregateversion,
      attempt,
      error,
    );
    this.lastHandlerError = failure;
    this.run.stats.handlerFailures += 1;
    this.options.logger.warn(`tidemark consumer ${this.engine.name}: handler failed`, {
      aggregate: this.aggregateKey,
      version: envelope.aggregateversion,
      eventType: envelope.type,
      attempt,
      maxAttempts: this.options.maxAttempts,
      error: describeCause(error),
    });
    if (this.redriving) return 'stop-handler';
    if (attempt >= this.options.maxAttempts) {
      const parked = await this.parkEvent(candidate, 'handler-failed', failure, attempt);
      return parked ? 'done' : 'stop-infra';
    }
    this.state.failure = {
      version: envelope.aggregateversion,
      attempts: attempt,
      lastError: describeCause(error).slice(0, 1000),
      lastFailedAt: this.run.now.toISOString(),
    };
    this.dirty = true;
    return 'stop-handler';
  }

  private async parkEvent(
    candidate: Candidate,
    reason: ParkReason,
    error: unknown,
    attempts: number,
  ): Promise<boolean> {
    if (this.redriving) {
      // The dead letter exists already; the caller records the new failure on it.
      this.parkedAgain = {
        id: '',
        consumer: this.engine.name,
        reason,
        message: error instanceof Error ? error.message : describeCause(error),
        error: errorInfo(error),
        parkedAt: this.run.now.toISOString(),
        attempts,
        record: candidate.record.stored,
      };
      return true;
    }
    try {
      await this.engine.park(this.run, {
        reason,
        error,
        stored: candidate.record.stored,
        attempts,
        record: candidate.record,
      });
    } catch (parkError) {
      this.lastInfraError = describeCause(parkError);
      return false;
    }
    this.state.parked.add(candidate.record.envelope.aggregateversion);
    this.lastOutcome = 'parked';
    this.done(candidate);
    return true;
  }

  /** Marks an event done in the checkpoint being built. */
  private done(candidate: Candidate): void {
    const { envelope } = candidate.record;
    const version = envelope.aggregateversion;
    if (this.redriving) {
      this.state.parked.delete(version);
    } else {
      this.state.version = version;
      this.state.commandId = envelope.commandid;
      this.state.eventId = envelope.id;
    }
    if (this.state.failure && this.state.failure.version <= version) this.state.failure = undefined;
    if (candidate.fromHeld) {
      this.consumedHeld.push({ version, chunks: this.state.held.get(version)?.chunks ?? 1 });
      this.state.held.delete(version);
    } else if (candidate.record.index >= 0) {
      this.pending.push(candidate.record.index);
    }
    this.dirty = true;
  }

  private gapExpired(candidates: Map<number, Candidate>): boolean {
    if (this.heldCount(candidates) > this.options.maxHeldPerAggregate) return true;
    const timeoutMs = this.options.gapTimeoutSeconds * 1000;
    return this.run.now.getTime() - this.gapOpenSince().getTime() >= timeoutMs;
  }

  /** Records waiting behind the gap: held ones and this batch's. */
  private heldCount(candidates: Map<number, Candidate>): number {
    return new Set([...candidates.keys(), ...this.state.held.keys()]).size;
  }

  /** When the oldest record still held was set aside (now, for a gap opened by this batch). */
  private gapOpenSince(): Date {
    return new Date(Math.min(this.run.now.getTime(), heldSince(this.state)));
  }

  /** Gives up on the missing versions: reports them as a dead letter and jumps the checkpoint past them. */
  private async expireGap(candidates: Map<number, Candidate>): Promise<boolean> {
    const first = Math.min(...candidates.keys());
    const missing = { from: this.state.version + 1, to: first - 1 };
    const openSince = this.gapOpenSince().toISOString();
    const reason =
      this.heldCount(candidates) > this.options.maxHeldPerAggregate
        ? `more than ${this.options.maxHeldPerAggregate} records held`
        : `open longer than ${this.options.gapTimeoutSeconds} s`;
    const error = new GapExpiredError(this.aggregateKey, missing.from, missing.to, openSince, reason);
    const candidate = candidates.get(first)!;
    try {
      await this.engine.park(this.run, {
        reason: 'gap-expired',
        error,
        stored: candidate.record.stored,
        attempts: 0,
        record: candidate.record,
        missing,
      });
    } catch (parkError) {
      this.lastInfraError = describeCause(parkError);
      return false;
    }
    // The dead letter counts as a gap, not a parked record.
    this.run.stats.parked -= 1;
    this.run.stats.gapsExpired += 1;
    this.state.version = missing.to;
    delete this.state.commandId;
    delete this.state.eventId;
    if (this.state.failure && this.state.failure.version <= missing.to) this.state.failure = undefined;
    this.dirty = true;
    return true;
  }

  /** Sets aside the batch records beyond the gap: held items first, then the index in the checkpoint. */
  private async holdRemaining(candidates: Map<number, Candidate>): Promise<void> {
    const toHold = [...candidates].filter(([, candidate]) => !candidate.fromHeld);
    if (toHold.length === 0) return;
    const heldAt = this.run.now.toISOString();
    const records: HeldRecord[] = toHold.map(([version, candidate]) => ({
      version,
      heldAt,
      record: candidate.record.stored,
    }));
    const newGap =
      this.state.held.size === 0
        ? { aggregateKey: this.aggregateKey, aggregate: this.state.aggregate, openSince: heldAt }
        : undefined;
    try {
      await this.run.checkpoints.putHeld(this.aggregateKey, records, newGap);
    } catch (error) {
      this.options.logger.warn(`tidemark consumer ${this.engine.name}: could not hold records`, {
        aggregate: this.aggregateKey,
        error: describeCause(error),
      });
      for (const [, candidate] of toHold) this.run.notCompleted.add(candidate.record.index);
      return;
    }
    for (const [version, candidate] of toHold) {
      const chunks = heldChunkCount(candidate.record.stored);
      this.state.held.set(version, {
        heldAt,
        sequenceNumber: candidate.record.stored.sequenceNumber,
        eventId: candidate.record.envelope.id,
        ...(chunks > 1 ? { chunks } : {}),
      });
      this.pending.push(candidate.record.index);
      this.run.stats.gapsHeld += 1;
    }
    this.dirty = true;
    this.options.logger.warn(`tidemark consumer ${this.engine.name}: gap; records held`, {
      aggregate: this.aggregateKey,
      checkpoint: this.state.version,
      held: toHold.map(([version]) => version),
    });
  }

  private nextState(): CheckpointState {
    const next = cloneCheckpoint(this.state);
    next.revision = this.baseRevision + 1;
    next.writeId = randomUUID();
    next.updatedAt = this.run.now.toISOString();
    next.exists = true;
    return next;
  }

  private markDurable(next: CheckpointState): void {
    this.gapClosed ||= this.durableHeld && next.held.size === 0;
    this.durableHeld = next.held.size > 0;
    this.baseRevision = next.revision;
    this.baseExists = true;
    this.durableVersion = next.version;
    this.state.revision = next.revision;
    this.state.exists = true;
    this.dirty = false;
    this.pending = [];
  }

  private writeFailed(error: unknown): void {
    for (const index of this.pending) this.run.notCompleted.add(index);
    this.pending = [];
    if (error instanceof ConcurrentConsumerError) {
      this.run.stats.concurrentUpdates += 1;
      this.options.logger.warn(`tidemark consumer ${this.engine.name}: ${error.message}`, error.context);
    } else {
      this.lastInfraError = describeCause(error);
      this.options.logger.error(`tidemark consumer ${this.engine.name}: checkpoint write failed`, {
        aggregate: this.aggregateKey,
        error: describeCause(error),
      });
    }
  }

  private concurrent(actualRevision: number | undefined): Step {
    const error = new ConcurrentConsumerError(
      this.engine.name,
      this.aggregateKey,
      this.baseRevision,
      actualRevision,
    );
    this.run.stats.concurrentUpdates += 1;
    this.options.logger.warn(`tidemark consumer ${this.engine.name}: ${error.message}`, error.context);
    return 'stop-concurrent';
  }

  private async deleteConsumedHeld(): Promise<void> {
    const done = this.consumedHeld.filter(({ version }) => version <= this.durableVersion || this.redriving);
    const gapClosed = this.gapClosed && !this.durableHeld;
    if (done.length === 0 && !gapClosed) return;
    this.consumedHeld = this.consumedHeld.filter((entry) => !done.includes(entry));
    this.gapClosed = false;
    try {
      await this.run.checkpoints.deleteHeld(this.aggregateKey, done, gapClosed);
    } catch (error) {
      // Harmless leftovers: the checkpoint no longer indexes them.
      this.options.logger.warn(
        `tidemark consumer ${this.engine.name}: could not delete applied held records`,
        {
          aggregate: this.aggregateKey,
          versions: done.map((entry) => entry.version),
          error: describeCause(error),
        },
      );
    }
  }
}

/** When the oldest entry of a checkpoint's held index was set aside (epoch ms; Infinity if none). */
export function heldSince(state: CheckpointState): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const entry of state.held.values()) {
    const heldAt = Date.parse(entry.heldAt);
    if (Number.isFinite(heldAt)) oldest = Math.min(oldest, heldAt);
  }
  return oldest;
}

const USER_CANCELLATION_CODES = new Set([
  'ConditionalCheckFailed',
  'ValidationError',
  'ItemCollectionSizeLimitExceeded',
]);

function cancellationReasons(
  error: unknown,
): { code: string; message?: string; revision?: number }[] | undefined {
  if ((error as Error)?.name !== 'TransactionCanceledException') return undefined;
  const reasons = (
    error as {
      CancellationReasons?: { Code?: string; Message?: string; Item?: Record<string, { N?: string }> }[];
    }
  ).CancellationReasons;
  if (!Array.isArray(reasons)) return undefined;
  return reasons.map((reason) => ({
    code: reason.Code ?? 'None',
    ...(reason.Message === undefined ? {} : { message: reason.Message }),
    ...(reason.Item?.revision?.N === undefined ? {} : { revision: Number(reason.Item.revision.N) }),
  }));
}

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
