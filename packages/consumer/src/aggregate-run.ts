/**
 * The I/O layer for one aggregate within one batch (or one redrive, or one gap sweep): it runs the
 * decision core's plan (`rules/plan.ts`) — late arrivals first, then candidates in version order,
 * holding what is beyond a gap and expiring an old gap — and makes it durable with bounded,
 * conditional writes. It sees the consumer only through the narrow {@link AggregateContext}.
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type DomainEvent, UnsupportedSchemaVersionError } from '@tidemark/core';
import {
  ArrivedAfterSkipError,
  ConcurrentConsumerError,
  describeCause,
  EventHandlerError,
  GapExpiredError,
  HandlerDidNotCompleteError,
  HeldRecordLostError,
  ImplausibleRecordError,
  StagedWriteRejectedError,
} from './errors';
import { MAX_FAILURE_TEXT_CHARS } from './limits';
import { errorInfo } from './park';
import { type EventRecord, readStoredRecord, recordSourceOf } from './records';
import { attemptFor, attemptsExhausted, isLastAttempt } from './rules/attempts';
import { isWaitableFailure } from './rules/failure-kind';
import { expiredRange, gapExpiry } from './rules/gap-expiry';
import { type AggregatePlan, type ParkVerdict, planAggregate } from './rules/plan';
import { addSkipped, removeSkipped } from './rules/skipped-ranges';
import type { AggregateContext, Run } from './run-context';
import type { GapChange } from './store';
import {
  type CheckpointState,
  cloneCheckpoint,
  type DeadLetterItem,
  deadLetterId,
  type HeldRecord,
  heldChunkCount,
  type StoredRecord,
} from './table';
import { StagedTransaction } from './transaction';
import type { HandlerContext, ParkReason } from './types';

/** A candidate for application: a batch record or a held one. */
export interface Candidate {
  readonly record: EventRecord;
  readonly fromHeld: boolean;
  /** A skipped version that arrived while nothing after it was applied: applied below the mark. */
  readonly late?: boolean;
}

/**
 * What handling one event ended in: `done` (applied, skipped or parked), or why the aggregate
 * stops for this batch: its handler failed, DynamoDB failed, another invocation changed the
 * checkpoint, or the invocation is about to time out.
 */
export type Step = 'done' | 'stop-handler' | 'stop-infra' | 'stop-concurrent' | 'stop-time';

/** A planned record: the plan's view of an {@link EventRecord}. */
interface Planned {
  readonly version: number;
  readonly partitionKey: string;
  readonly aggregateKey: string;
  readonly record: EventRecord;
}

/** Runs the rules for one aggregate in one batch, redrive or sweep (see the file comment). */
export class AggregateRun {
  /** The checkpoint as it will be written. */
  private readonly state: CheckpointState;
  /** The revision and existence of the durable checkpoint (the condition of the next write). */
  private baseRevision: number;
  private baseExists: boolean;
  /** Whether the durable checkpoint holds records (so the open-gap index has an entry for it). */
  private durableHeld: boolean;
  /** Whether `state` differs from the durable checkpoint. */
  private dirty = false;
  /** Batch records whose effect is not durable yet (all of them fail if the next write fails). */
  private pending: number[] = [];
  /** Held versions applied; their items are deleted once the checkpoint no longer needs them. */
  private consumedHeld: { version: number; chunks: number }[] = [];
  /** An index entry left open by a transactional commit that emptied the held set. */
  private gapLeftOpen = false;
  /** Dead letters of events applied after all: deleted once the checkpoint saying so is durable. */
  private staleDeadLetters: string[] = [];
  /** Write the checkpoint after every event (a delivery run in isolation after one died). */
  flushEachEvent = false;
  lastOutcome: 'applied' | 'skipped' | 'parked' | undefined;
  lastHandlerError: Error | undefined;
  lastInfraError: string | undefined;
  parkedAgain: DeadLetterItem | undefined;

  constructor(
    private readonly consumer: AggregateContext,
    private readonly run: Run,
    private readonly aggregateKey: string,
    initial: CheckpointState,
    private readonly redriving: boolean,
  ) {
    this.state = cloneCheckpoint(initial);
    this.baseRevision = initial.revision;
    this.baseExists = initial.exists;
    this.durableHeld = initial.held.size > 0;
  }

  private get options() {
    return this.consumer.options;
  }

  private get name() {
    return this.consumer.name;
  }

  /**
   * Runs the plan for this aggregate's batch records, then writes the checkpoint.
   * `heldRecords` is `undefined` when the batch cannot use them (they were not read).
   */
  async process(records: EventRecord[], heldRecords: Map<number, HeldRecord> | undefined): Promise<void> {
    const { state, run } = this;
    const plan = planAggregate<Planned>(
      {
        exists: state.exists,
        mark: state.version,
        held: new Set(state.held.keys()),
        skipped: state.skipped,
      },
      records.map((record) => ({
        version: record.envelope.aggregateversion,
        partitionKey: record.stored.partitionKey,
        aggregateKey: record.aggregateKey,
        record,
      })),
      this.options,
    );
    this.startFirstContact(plan);
    run.stats.duplicates += plan.duplicates.length;
    for (const verdict of plan.parks) {
      if (!(await this.parkVerdict(verdict))) run.notCompleted.add(verdict.record.record.index);
    }

    const candidates = new Map<number, Candidate>();
    for (const [version, planned] of plan.candidates) {
      candidates.set(version, { record: planned.record, fromHeld: false });
    }
    if (heldRecords !== undefined && !(await this.readHeldInto(candidates, heldRecords))) {
      for (const candidate of candidates.values()) {
        if (!candidate.fromHeld) run.notCompleted.add(candidate.record.index);
      }
      for (const planned of plan.lateArrivals) run.notCompleted.add(planned.record.index);
      await this.flush();
      return;
    }

    // Late arrivals first: nothing after them may be applied before them.
    for (const [position, planned] of plan.lateArrivals.entries()) {
      const step = await this.runNext({ record: planned.record, fromHeld: false, late: true });
      if (step !== 'done') {
        for (const rest of plan.lateArrivals.slice(position)) run.notCompleted.add(rest.record.index);
        for (const candidate of candidates.values()) {
          if (!candidate.fromHeld) run.notCompleted.add(candidate.record.index);
        }
        if (step === 'stop-concurrent') {
          for (const index of this.pending) run.notCompleted.add(index);
          return;
        }
        await this.flush();
        return;
      }
    }

    let stop: Step | undefined;
    let failedCandidate: Candidate | undefined;
    for (;;) {
      for (let next = candidates.get(state.version + 1); next; next = candidates.get(state.version + 1)) {
        const step = await this.runNext(next);
        if (step !== 'done') {
          stop = step;
          failedCandidate = next;
          if (step === 'stop-time') {
            run.stats.deferred += [...candidates.values()].filter((candidate) => !candidate.fromHeld).length;
          }
          break;
        }
        candidates.delete(next.record.envelope.aggregateversion);
      }
      if (stop || candidates.size === 0) break;
      if (heldRecords === undefined && this.state.held.size > 0) break;
      const expiry = gapExpiry({
        waiting: this.waitingCount(candidates),
        openSinceMs: this.gapOpenSince().getTime(),
        nowMs: run.now.getTime(),
        gapTimeoutSeconds: this.options.gapTimeoutSeconds,
        maxHeldPerAggregate: this.options.maxHeldPerAggregate,
      });
      if (!expiry.expired) break;
      if (!(await this.expireGap(candidates, expiry.why))) {
        stop = 'stop-infra';
        break;
      }
    }

    if (stop) {
      // The failed event and this aggregate's later records in the batch are not completed.
      const failedVersion = failedCandidate
        ? failedCandidate.record.envelope.aggregateversion
        : state.version + 1;
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

  /**
   * Claims the aggregate for this run before any handler runs (when a gap sweep could run its
   * held records at the same time): a conditional checkpoint write. Returns false when another
   * invocation changed the checkpoint first (nothing was run).
   */
  async claim(owner: string, until: Date): Promise<boolean> {
    this.state.claim = { owner, until: until.toISOString() };
    this.dirty = true;
    const claimed = await this.flush();
    delete this.state.claim;
    this.dirty ||= claimed;
    return claimed;
  }

  /** Writes the checkpoint if it changed; returns false when the write failed (records marked). */
  async flush(): Promise<boolean> {
    if (this.dirty || this.gapLeftOpen) {
      const next = this.nextState();
      const gap: GapChange | undefined =
        !this.durableHeld && next.held.size > 0
          ? {
              open: {
                aggregateKey: this.aggregateKey,
                aggregate: this.state.aggregate,
                openSince: this.run.now.toISOString(),
              },
            }
          : (this.durableHeld || this.gapLeftOpen) && next.held.size === 0
            ? { close: this.aggregateKey }
            : undefined;
      try {
        await this.run.checkpoints.writeCheckpoint(next, this.baseRevision, this.baseExists, gap);
        this.markDurable(next);
        this.gapLeftOpen = false;
        await this.deleteStaleDeadLetters();
      } catch (error) {
        this.writeFailed(error);
        return false;
      }
    }
    await this.deleteConsumedHeld();
    return true;
  }

  /** Runs one event that is next (or late, or in a redrive parked), unless out of time. */
  private async runNext(candidate: Candidate): Promise<Step> {
    if (this.consumer.timeLeft(this.run) < this.options.timeoutMarginMs) return 'stop-time';
    const step = await this.runEvent(
      candidate,
      attemptFor(this.state.failure, candidate.record.envelope.aggregateversion),
    );
    if (step === 'done' && this.flushEachEvent && !(await this.flush())) return 'stop-infra';
    return step;
  }

  /**
   * The version this run would execute first for these records: the lowest skipped version that
   * arrived while nothing after it was applied, else the one after the mark.
   */
  firstToRun(records: readonly EventRecord[]): number {
    const plan = planAggregate<Planned>(
      {
        exists: this.state.exists,
        mark: this.state.version,
        held: new Set(this.state.held.keys()),
        skipped: this.state.skipped,
      },
      records.map((record) => ({
        version: record.envelope.aggregateversion,
        partitionKey: record.stored.partitionKey,
        aggregateKey: record.aggregateKey,
        record,
      })),
      this.options,
    );
    return plan.lateArrivals[0]?.version ?? plan.mark + 1;
  }

  /**
   * Counts the death of the previous delivery against the event it was running: the first this
   * run would execute (each event's completion was durable before the next started), when it is
   * at or after the first version that delivery ran for this aggregate. Returns whether it counted
   * (the caller then makes the count durable before running).
   */
  countDeath(from: number, records: readonly EventRecord[]): boolean {
    const version = this.firstToRun(records);
    if (version < from) return false;
    const attempts = attemptFor(this.state.failure, version);
    this.state.failure = {
      version,
      attempts,
      lastError: 'the invocation ended while the handler ran (time-out, out of memory or crash)',
      lastFailedAt: this.run.now.toISOString(),
    };
    this.run.stats.handlersNotCompleted += 1;
    this.dirty = true;
    this.options.logger.warn(`tidemark consumer ${this.name}: a delivery died while this event ran`, {
      aggregate: this.aggregateKey,
      version,
      attempts,
      maxAttempts: this.options.maxAttempts,
    });
    return true;
  }

  /** Applies, skips or parks one event that is next (or late, or in a redrive parked). */
  async runEvent(candidate: Candidate, attempt: number): Promise<Step> {
    const { record } = candidate;
    const { envelope } = record;
    const version = envelope.aggregateversion;
    const handler = this.consumer.handlerFor(envelope.type);
    const definition = this.consumer.definitionFor(envelope.type);
    if (!handler || !definition) {
      this.options.logger.debug(`tidemark consumer ${this.name}: skipped ${envelope.type} (no handler)`, {
        aggregate: this.aggregateKey,
        version,
      });
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
      return (await this.parkEvent(candidate, reason, error, 0)) ? 'done' : 'stop-infra';
    }

    if (!this.redriving && attemptsExhausted(this.state.failure, version, this.options.maxAttempts)) {
      // Deliveries in which the handler did not complete used up the attempts: park, do not run.
      const failure = new HandlerDidNotCompleteError(
        envelope.type,
        this.aggregateKey,
        version,
        `${this.state.failure!.attempts} attempts did not complete (last: ${this.state.failure!.lastError})`,
      );
      return (await this.parkEvent(candidate, 'handler-failed', failure, this.state.failure!.attempts))
        ? 'done'
        : 'stop-infra';
    }

    const context: HandlerContext = {
      consumer: this.name,
      lambdaContext: this.run.lambdaContext,
      logger: this.options.logger,
      record: recordSourceOf(record.stored),
      attempt,
      redrive: this.redriving,
    };

    let staged: TransactWriteItem[] = [];
    let transaction: StagedTransaction | undefined;
    try {
      if (this.options.transactional) {
        transaction = new StagedTransaction({ aggregate: this.aggregateKey, version });
        await this.withDeadline(handler(event, Object.freeze({ ...context, transaction })), candidate);
        staged = transaction.seal();
      } else {
        await this.withDeadline(handler(event, Object.freeze(context)), candidate);
      }
    } catch (error) {
      transaction?.seal();
      if (error instanceof HandlerDidNotCompleteError) {
        this.run.stats.handlersNotCompleted += 1;
      }
      return this.handlerFailed(candidate, attempt, error);
    }

    // Whether an earlier delivery may have parked this event and then failed to write the
    // checkpoint that says so: once this success is durable, that dead letter is stale. (With
    // maxAttempts 1 no failure is recorded before the park, so such a dead letter stays;
    // redriving it answers `duplicate` and deletes it.)
    const mayBeParked =
      !this.redriving &&
      this.state.failure?.version === version &&
      isLastAttempt(attempt, this.options.maxAttempts);
    const staleId = deadLetterId('handler-failed', { aggregateKey: this.aggregateKey, version, eventID: '' });
    if (staged.length === 0) {
      if (mayBeParked) this.staleDeadLetters.push(staleId);
      this.run.stats.applied += 1;
      if (candidate.fromHeld) this.run.stats.gapsClosed += 1;
      this.lastOutcome = 'applied';
      this.done(candidate);
      return 'done';
    }
    const step = await this.commit(candidate, attempt, staged);
    if (step === 'done' && mayBeParked && this.lastOutcome === 'applied') {
      this.staleDeadLetters.push(staleId);
      await this.deleteStaleDeadLetters();
    }
    return step;
  }

  /**
   * Waits for a handler, but not past the point where the invocation must answer: a handler
   * still running then counts as an attempt that did not complete (it keeps running unobserved;
   * in transactional mode nothing it stages afterwards is committed).
   */
  private async withDeadline(result: unknown, candidate: Candidate): Promise<void> {
    const budget = this.consumer.timeLeft(this.run) - this.options.timeoutMarginMs / 2;
    if (!Number.isFinite(budget)) {
      await result;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const { envelope } = candidate.record;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HandlerDidNotCompleteError(
              envelope.type,
              this.aggregateKey,
              envelope.aggregateversion,
              'still running when the invocation had to answer',
            ),
          ),
        Math.max(0, budget),
      );
    });
    const settled = Promise.resolve(result);
    // A handler that settles after the deadline is not observed any more.
    settled.catch(() => undefined);
    try {
      await Promise.race([settled, deadline]);
    } finally {
      clearTimeout(timer);
    }
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
        if (!isWaitableFailure(error)) {
          return this.handlerFailed(
            candidate,
            attempt,
            new StagedWriteRejectedError(stagedReasons, { cause: error }),
          );
        }
      } else if (!isWaitableFailure(error)) {
        // A missing table, a denied action, an invalid or oversized request: it would fail on
        // every delivery, so it counts as an attempt.
        return this.handlerFailed(candidate, attempt, error);
      }
      this.lastInfraError = describeCause(error);
      this.options.logger.warn(
        `tidemark consumer ${this.name}: transaction failed; will retry on redelivery`,
        {
          aggregate: this.aggregateKey,
          version: candidate.record.envelope.aggregateversion,
          error: describeCause(error),
        },
      );
      return 'stop-infra';
    }
    if (this.durableHeld && next.held.size === 0) this.gapLeftOpen = true;
    this.markDurable(next);
    this.run.stats.applied += 1;
    if (candidate.fromHeld) this.run.stats.gapsClosed += 1;
    this.lastOutcome = 'applied';
    return 'done';
  }

  private async handlerFailed(candidate: Candidate, attempt: number, error: unknown): Promise<Step> {
    const { envelope } = candidate.record;
    const failure =
      error instanceof HandlerDidNotCompleteError
        ? error
        : new EventHandlerError(envelope.type, this.aggregateKey, envelope.aggregateversion, attempt, error);
    this.lastHandlerError = failure;
    this.run.stats.handlerFailures += 1;
    this.options.logger.warn(`tidemark consumer ${this.name}: handler failed`, {
      aggregate: this.aggregateKey,
      version: envelope.aggregateversion,
      eventType: envelope.type,
      attempt,
      maxAttempts: this.options.maxAttempts,
      error: describeCause(error).slice(0, MAX_FAILURE_TEXT_CHARS),
    });
    if (this.redriving) return 'stop-handler';
    if (isLastAttempt(attempt, this.options.maxAttempts)) {
      return (await this.parkEvent(candidate, 'handler-failed', failure, attempt)) ? 'done' : 'stop-infra';
    }
    this.state.failure = {
      version: envelope.aggregateversion,
      attempts: attempt,
      lastError: describeCause(error).slice(0, MAX_FAILURE_TEXT_CHARS),
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
        consumer: this.name,
        reason,
        message: error instanceof Error ? error.message : describeCause(error),
        error: errorInfo(error),
        parkedAt: this.run.now.toISOString(),
        attempts,
        record: candidate.record.stored,
      };
      return true;
    }
    if (
      !(await this.tryPark({
        reason,
        error,
        stored: candidate.record.stored,
        attempts,
        record: candidate.record,
      }))
    ) {
      return false;
    }
    this.state.parked.add(candidate.record.envelope.aggregateversion);
    this.lastOutcome = 'parked';
    this.done(candidate);
    return true;
  }

  /** Parks bad input the plan found; the mark does not move. */
  private async parkVerdict(verdict: ParkVerdict<Planned>): Promise<boolean> {
    const { record } = verdict.record;
    const version = record.envelope.aggregateversion;
    const error =
      verdict.reason === 'misrouted'
        ? new ImplausibleRecordError(
            'RECORD_MISROUTED',
            `Record ${record.stored.sequenceNumber} has partition key ${JSON.stringify(record.stored.partitionKey.slice(0, 256))}, not its aggregate ${record.aggregateKey}`,
            {
              aggregateKey: record.aggregateKey,
              version,
              partitionKey: record.stored.partitionKey.slice(0, 256),
            },
          )
        : verdict.reason === 'implausible-version'
          ? new ImplausibleRecordError(
              'VERSION_IMPLAUSIBLE',
              `Version ${version} of ${record.aggregateKey} is more than ${this.options.maxVersionsAhead} versions ahead of version ${verdict.reach}, the highest the aggregate can reach`,
              {
                aggregateKey: record.aggregateKey,
                version,
                reach: verdict.reach,
                maxVersionsAhead: this.options.maxVersionsAhead,
              },
            )
          : new ArrivedAfterSkipError(
              record.aggregateKey,
              version,
              verdict.appliedAfter ?? this.state.version,
              verdict.reason === 'arrived-before-first-contact'
                ? 'the consumer started this aggregate mid-stream'
                : 'its gap expired',
            );
    if (
      !(await this.tryPark({ reason: verdict.reason, error, stored: record.stored, attempts: 0, record }))
    ) {
      return false;
    }
    if (verdict.reason === 'arrived-after-gap-expired' || verdict.reason === 'arrived-before-first-contact') {
      // Redrivable: the checkpoint lists it as parked, no longer as skipped.
      this.state.parked.add(version);
      this.state.skipped = removeSkipped(this.state.skipped, version);
      this.pending.push(record.index);
      this.dirty = true;
    }
    return true;
  }

  /** Parks through the consumer; logs and counts a park that failed (the record is retried). */
  private async tryPark(input: Parameters<AggregateContext['park']>[1]): Promise<boolean> {
    try {
      await this.consumer.park(this.run, input);
      return true;
    } catch (parkError) {
      this.lastInfraError = describeCause(parkError);
      this.run.stats.parkFailures += 1;
      this.options.logger.error(
        `tidemark consumer ${this.name}: could not park a record; it will be delivered again`,
        {
          aggregate: this.aggregateKey,
          reason: input.reason,
          sequenceNumber: input.stored.sequenceNumber,
          version: input.version ?? input.record?.envelope.aggregateversion,
          error: describeCause(parkError).slice(0, MAX_FAILURE_TEXT_CHARS),
        },
      );
      return false;
    }
  }

  /** Starts a new aggregate where the first-contact rule says; reports a mid-stream start's skips. */
  private startFirstContact(plan: AggregatePlan<Planned>): void {
    if (this.state.exists) return;
    this.state.version = plan.mark;
    const skip = plan.firstContactSkip;
    if (skip === undefined) return;
    this.state.skipped = addSkipped(this.state.skipped, skip);
    this.run.stats.firstContactSkips += skip.to - skip.from + 1;
    this.dirty = true;
    this.options.logger.warn(
      `tidemark consumer ${this.name}: started ${this.aggregateKey} mid-stream at version ${skip.to + 1}; versions ${skip.from}-${skip.to} are skipped (reported if they arrive)`,
      { aggregate: this.aggregateKey, skippedFrom: skip.from, skippedTo: skip.to },
    );
  }

  /**
   * Adds the held records to the candidates (a batch copy of a held version wins: it is the same
   * event). A held record that cannot be read back is reported (`held-record-lost`) and leaves the
   * index, so its version is missing again: a copy delivered later is applied, or its gap expires.
   * Returns false when a report could not be written.
   */
  private async readHeldInto(
    candidates: Map<number, Candidate>,
    heldRecords: Map<number, HeldRecord>,
  ): Promise<boolean> {
    for (const [version, entry] of [...this.state.held]) {
      if (candidates.has(version)) continue;
      const held = heldRecords.get(version);
      const read = held ? readStoredRecord(held.record, -1) : undefined;
      if (read?.kind === 'event') {
        candidates.set(version, { record: read, fromHeld: true });
        continue;
      }
      const stored: StoredRecord = held?.record ?? {
        data: new Uint8Array(),
        dataTruncated: true,
        dataBytes: 0,
        sequenceNumber: entry.sequenceNumber,
        eventID: entry.eventId,
        eventSourceARN: '',
        partitionKey: this.aggregateKey,
        arrivedAt: entry.heldAt,
      };
      const error = new HeldRecordLostError(this.aggregateKey, version, {
        sequenceNumber: entry.sequenceNumber,
        eventId: entry.eventId,
        found: held !== undefined,
        ...(read?.kind === 'bad' ? { unreadable: read.reason } : {}),
      });
      const aggregate = { key: this.aggregateKey, ...this.state.aggregate };
      if (
        !(await this.tryPark({ reason: 'held-record-lost', error, stored, attempts: 0, version, aggregate }))
      ) {
        return false;
      }
      this.state.held.delete(version);
      this.consumedHeld.push({ version, chunks: entry.chunks ?? 1 });
      this.dirty = true;
    }
    return true;
  }

  /** Marks an event done in the checkpoint being built. */
  private done(candidate: Candidate): void {
    const { envelope } = candidate.record;
    const version = envelope.aggregateversion;
    if (this.redriving) {
      this.state.parked.delete(version);
    } else if (candidate.late) {
      this.state.skipped = removeSkipped(this.state.skipped, version);
    } else {
      this.state.version = version;
      this.state.commandId = envelope.commandid;
      this.state.eventId = envelope.id;
    }
    const failure = this.state.failure;
    if (failure && (candidate.late ? failure.version === version : failure.version <= version)) {
      this.state.failure = undefined;
    }
    const heldEntry = this.state.held.get(version);
    if (heldEntry !== undefined && !candidate.late) {
      this.consumedHeld.push({ version, chunks: heldEntry.chunks ?? 1 });
      this.state.held.delete(version);
    }
    if (!candidate.fromHeld && candidate.record.index >= 0) this.pending.push(candidate.record.index);
    this.dirty = true;
  }

  /** Records waiting behind the gap: held ones and this batch's. */
  private waitingCount(candidates: Map<number, Candidate>): number {
    return new Set([...candidates.keys(), ...this.state.held.keys()]).size;
  }

  /** When the oldest record still held was set aside (now, for a gap opened by this batch). */
  private gapOpenSince(): Date {
    return new Date(Math.min(this.run.now.getTime(), heldSince(this.state)));
  }

  /**
   * Gives up on the missing versions: reports them as a dead letter, remembers them as a skipped
   * range, and moves the checkpoint past them.
   */
  private async expireGap(candidates: Map<number, Candidate>, why: string): Promise<boolean> {
    const first = Math.min(...candidates.keys());
    const range = expiredRange(this.state.version, first);
    const missing = { from: range.from, to: range.to };
    const openSince = this.gapOpenSince().toISOString();
    const error = new GapExpiredError(this.aggregateKey, missing.from, missing.to, openSince, why);
    const candidate = candidates.get(first)!;
    if (
      !(await this.tryPark({
        reason: 'gap-expired',
        error,
        stored: candidate.record.stored,
        attempts: 0,
        record: candidate.record,
        missing,
      }))
    ) {
      return false;
    }
    // The dead letter counts as a gap, not a parked record.
    this.run.stats.parked -= 1;
    this.run.stats.gapsExpired += 1;
    this.state.skipped = addSkipped(this.state.skipped, range);
    this.state.version = missing.to;
    delete this.state.commandId;
    delete this.state.eventId;
    if (this.state.failure && this.state.failure.version <= missing.to) this.state.failure = undefined;
    this.dirty = true;
    return true;
  }

  /** Sets aside the batch records beyond the gap: held items first, then the index in the checkpoint. */
  private async holdRemaining(candidates: Map<number, Candidate>): Promise<void> {
    const toHold: [number, Candidate][] = [];
    for (const [version, candidate] of candidates) {
      if (candidate.fromHeld) continue;
      if (this.state.held.has(version)) {
        // Delivered again while held: it is durable already.
        this.run.stats.duplicates += 1;
        continue;
      }
      toHold.push([version, candidate]);
    }
    if (toHold.length === 0) return;
    const heldAt = this.run.now.toISOString();
    const records: HeldRecord[] = toHold.map(([version, candidate]) => ({
      version,
      heldAt,
      record: candidate.record.stored,
    }));
    try {
      await this.run.checkpoints.putHeld(this.aggregateKey, records);
    } catch (error) {
      this.options.logger.warn(`tidemark consumer ${this.name}: could not hold records`, {
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
    this.options.logger.warn(`tidemark consumer ${this.name}: gap; records held`, {
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
    this.durableHeld = next.held.size > 0;
    this.baseRevision = next.revision;
    this.baseExists = true;
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
      this.options.logger.warn(`tidemark consumer ${this.name}: ${error.message}`, error.context);
    } else {
      this.lastInfraError = describeCause(error);
      this.options.logger.error(`tidemark consumer ${this.name}: checkpoint write failed`, {
        aggregate: this.aggregateKey,
        error: describeCause(error),
      });
    }
  }

  private concurrent(actualRevision: number | undefined): Step {
    const error = new ConcurrentConsumerError(
      this.name,
      this.aggregateKey,
      this.baseRevision,
      actualRevision,
    );
    this.run.stats.concurrentUpdates += 1;
    this.options.logger.warn(`tidemark consumer ${this.name}: ${error.message}`, error.context);
    return 'stop-concurrent';
  }

  /** Deletes dead letters of events that were applied after all (see `runEvent`); idempotent. */
  private async deleteStaleDeadLetters(): Promise<void> {
    for (const id of this.staleDeadLetters.splice(0)) {
      try {
        await this.run.deadLetters.delete(id);
      } catch (error) {
        this.options.logger.warn(`tidemark consumer ${this.name}: could not delete a stale dead letter`, {
          deadLetterId: id,
          error: describeCause(error),
        });
      }
    }
  }

  /**
   * Deletes held items the durable checkpoint no longer needs (versions at or below its mark, or
   * reported lost). Safe without a condition: once the mark passed a version, nothing holds it again.
   */
  private async deleteConsumedHeld(): Promise<void> {
    if (this.dirty) return;
    const done = this.consumedHeld.filter(({ version }) => !this.state.held.has(version));
    if (done.length === 0) return;
    this.consumedHeld = this.consumedHeld.filter((entry) => !done.includes(entry));
    try {
      await this.run.checkpoints.deleteHeld(this.aggregateKey, done);
    } catch (error) {
      // Harmless leftovers: the checkpoint no longer indexes them.
      this.options.logger.warn(`tidemark consumer ${this.name}: could not delete applied held records`, {
        aggregate: this.aggregateKey,
        versions: done.map((entry) => entry.version),
        error: describeCause(error),
      });
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
