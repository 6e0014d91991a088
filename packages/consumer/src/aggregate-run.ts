import { describeError } from '@tidemark/core/internal';
import type { Candidate, Step } from './candidate';
import { CheckpointDraft, heldSince } from './checkpoint-draft';
import type { CheckpointState } from './checkpoint-item';
import type { DeadLetterItem } from './dead-letter-item';
import { GapExpiredError, HeldRecordLostError } from './errors';
import { EventStep } from './event-step';
import { type HeldRecord, heldChunkCount } from './held-item';
import { parkVerdictError } from './park';
import { type EventRecord, readStoredRecord } from './records';
import { attemptFor } from './rules/attempts';
import { nextStep, notCompletedOnStop, type StepOutcome } from './rules/next-step';
import { type AggregatePlan, type ParkVerdict, planAggregate } from './rules/plan';
import { addSkipped, removeSkipped, type SkippedRange } from './rules/skipped-ranges';
import type { AggregateContext, Run } from './run-context';
import type { StoredRecord } from './stored-record';

const NONE: readonly number[] = Object.freeze([]);

/**
 * The I/O layer for one aggregate within one batch (or one redrive, or one gap sweep). It carries
 * out the decision core's steps: the plan of the batch's records (`rules/plan.ts`), then, one step
 * at a time, what `rules/next-step.ts` names — run a late arrival or the version after the mark
 * (through {@link EventStep}), expire a gap, hold what waits — and makes the outcome durable with
 * bounded, conditional writes ({@link CheckpointDraft}). It sees the consumer only through the
 * narrow {@link AggregateContext}.
 */ interface Planned {
  readonly version: number;
  readonly partitionKey: string;
  readonly aggregateKey: string;
  readonly record: EventRecord;
}

/** Runs the rules for one aggregate in one batch, redrive or sweep (see the file comment). */
export class AggregateRun {
  /** The checkpoint as it will be written, and what making it durable needs. */
  private readonly draft: CheckpointDraft;
  /** Write the checkpoint after every event (a delivery run in isolation after one died). */
  flushEachEvent = false;
  /** Runs each event into the draft. */
  private readonly events: EventStep;

  constructor(
    private readonly consumer: AggregateContext,
    private readonly run: Run,
    private readonly aggregateKey: string,
    initial: CheckpointState,
    readonly redriving: boolean,
  ) {
    this.draft = new CheckpointDraft(consumer, run, aggregateKey, initial);
    this.events = new EventStep(consumer, run, aggregateKey, this.draft, redriving);
  }

  /** What the last event run ended in (for a redrive's answer). */
  get lastOutcome(): EventStep['lastOutcome'] {
    return this.events.lastOutcome;
  }

  /** The last handler failure (for a redrive's dead letter). */
  get lastHandlerError(): Error | undefined {
    return this.events.lastHandlerError;
  }

  /** The dead letter a redriven event would be parked with again. */
  get parkedAgain(): DeadLetterItem | undefined {
    return this.events.parkedAgain;
  }

  /** Applies, skips or parks one event that is next (or late, or in a redrive parked). */
  runEvent(candidate: Candidate, attempt: number, waiting?: number): Promise<Step> {
    return this.events.runEvent(candidate, attempt, waiting);
  }

  private get state(): CheckpointState {
    return this.draft.state;
  }

  /** Why DynamoDB last failed this run (for a redrive's error). */
  get lastInfraError(): string | undefined {
    return this.draft.lastInfraError;
  }

  /**
   * Claims the aggregate for this run before any handler runs (see {@link CheckpointDraft.claim}).
   */
  claim(owner: string, until: Date, untilDone = false): Promise<boolean> {
    return this.draft.claim(owner, until, untilDone);
  }

  /** Writes the checkpoint if it changed; returns false when the write failed (records marked). */
  flush(): Promise<boolean> {
    return this.draft.flush();
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
    const late = [...plan.lateArrivals];
    if (heldRecords !== undefined && !(await this.readHeldInto(candidates, heldRecords))) {
      for (const candidate of candidates.values()) {
        if (!candidate.fromHeld) run.notCompleted.add(candidate.record.index);
      }
      for (const planned of late) run.notCompleted.add(planned.record.index);
      this.draft.releaseClaim();
      await this.flush();
      return;
    }

    // Carry out the decision core's steps (rules/next-step.ts) until it finishes or stops.
    let last: StepOutcome = 'done';
    let failedVersion = state.version + 1;
    for (;;) {
      // The maps themselves are the view's sets (their keys): nothing is copied per event.
      const step = nextStep(
        {
          mark: state.version,
          late: late.length === 0 ? NONE : late.map((planned) => planned.version),
          candidates,
          held: state.held,
          heldRead: heldRecords !== undefined,
          gapOpenSinceMs: this.gapOpenSinceMs(),
          nowMs: run.now.getTime(),
          gapTimeoutSeconds: this.options.gapTimeoutSeconds,
          maxHeldPerAggregate: this.options.maxHeldPerAggregate,
        },
        last,
      );
      if (step.kind === 'apply-late') {
        last = await this.runNext({ record: late[0]!.record, fromHeld: false, late: true });
        if (last === 'done') late.shift();
      } else if (step.kind === 'apply') {
        failedVersion = step.version;
        last = await this.runNext(candidates.get(step.version)!, this.waitingCount(candidates));
        if (last === 'done') candidates.delete(step.version);
      } else if (step.kind === 'expire-gap') {
        last = (await this.expireGap(candidates, step.range, step.why)) ? 'done' : 'stop-infra';
        // Written at once when each event's completion is (after a death): a later death is then
        // pinned on the event after the new mark, not on a version the expiry skipped.
        if (last === 'done' && this.flushEachEvent && !(await this.flush())) last = 'stop-infra';
        failedVersion = state.version + 1;
      } else if (step.kind === 'hold') {
        await this.holdRemaining(
          candidates,
          last === 'held-unreadable' ? 'the next event cannot be read yet' : 'gap',
        );
        break;
      } else if (step.kind === 'finish') {
        break;
      } else {
        if (step.outcome === 'stop-time' && late.length === 0) {
          run.stats.deferred += [...candidates.values()].filter((candidate) => !candidate.fromHeld).length;
        }
        const unrun = (list: Candidate[]) =>
          list
            .filter((candidate) => !candidate.fromHeld)
            .map((candidate) => ({
              version: candidate.record.envelope.aggregateversion,
              index: candidate.record.index,
            }));
        const failed = notCompletedOnStop({
          outcome: step.outcome,
          failedVersion,
          lateLeft: late.map((planned) => ({ version: planned.version, index: planned.record.index })),
          candidates: unrun([...candidates.values()]),
          batchIndexes: records.map((record) => record.index),
          pending: this.draft.pending,
        });
        for (const index of failed) run.notCompleted.add(index);
        if (step.outcome === 'stop-concurrent') return;
        break;
      }
    }
    this.draft.releaseClaim();
    await this.flush();
  }

  /** Runs one event that is next (or late, or in a redrive parked), unless out of time. */
  private async runNext(candidate: Candidate, waiting?: number): Promise<Step> {
    if (this.consumer.timeLeft(this.run) < this.options.timeoutMarginMs) return 'stop-time';
    const step = await this.runEvent(
      candidate,
      attemptFor(this.state.failure, candidate.record.envelope.aggregateversion),
      waiting,
    );
    if (step !== 'done' || !this.flushEachEvent) return step;
    // Each event's completion durable before the next starts (with its staged writes, if any).
    return this.draft.write();
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
    this.draft.dirty = true;
    this.options.logger.warn(`tidemark consumer ${this.name}: a delivery died while this event ran`, {
      aggregate: this.aggregateKey,
      version,
      attempts,
      maxAttempts: this.options.maxAttempts,
    });
    return true;
  }

  /** Parks bad input the plan found; the mark does not move. */
  private async parkVerdict(verdict: ParkVerdict<Planned>): Promise<boolean> {
    const { record } = verdict.record;
    const version = record.envelope.aggregateversion;
    const error = parkVerdictError(verdict, this.options.maxVersionsAhead, this.state.version);
    if (
      !(await this.events.tryPark({
        reason: verdict.reason,
        error,
        stored: record.stored,
        attempts: 0,
        record,
      }))
    ) {
      return false;
    }
    if (verdict.reason === 'arrived-after-gap-expired' || verdict.reason === 'arrived-before-first-contact') {
      // Redrivable: the checkpoint lists it as parked, no longer as skipped.
      this.state.parked.add(version);
      this.state.skipped = removeSkipped(this.state.skipped, version);
      this.draft.pending.push(record.index);
      this.draft.dirty = true;
    }
    return true;
  }

  /** Starts a new aggregate where the first-contact rule says; reports a mid-stream start's skips. */
  private startFirstContact(plan: AggregatePlan<Planned>): void {
    if (this.state.exists) return;
    this.state.version = plan.mark;
    const skip = plan.firstContactSkip;
    if (skip === undefined) return;
    this.state.skipped = addSkipped(this.state.skipped, skip);
    this.run.stats.firstContactSkips += skip.to - skip.from + 1;
    this.draft.dirty = true;
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
        !(await this.events.tryPark({
          reason: 'held-record-lost',
          error,
          stored,
          attempts: 0,
          version,
          aggregate,
        }))
      ) {
        return false;
      }
      this.state.held.delete(version);
      this.draft.consumedHeld.push({ version, chunks: entry.chunks ?? 1 });
      this.draft.dirty = true;
    }
    return true;
  }

  /** Records that wait behind the version after the mark: this batch's and the held ones. */
  private waitingCount(candidates: Map<number, Candidate>): number {
    let waiting = candidates.size;
    for (const version of this.state.held.keys()) if (!candidates.has(version)) waiting += 1;
    return waiting;
  }

  /** When the oldest record still held was set aside, epoch ms (now, for a gap opened by this batch). */
  private gapOpenSinceMs(): number {
    const now = this.run.now.getTime();
    return this.state.held.size === 0 ? now : Math.min(now, heldSince(this.state));
  }

  /**
   * Gives up on the missing versions: reports them as a dead letter, remembers them as a skipped
   * range, and moves the checkpoint past them.
   */
  private async expireGap(
    candidates: Map<number, Candidate>,
    range: SkippedRange,
    why: string,
  ): Promise<boolean> {
    const missing = { from: range.from, to: range.to };
    const openSince = new Date(this.gapOpenSinceMs()).toISOString();
    const error = new GapExpiredError(this.aggregateKey, missing.from, missing.to, openSince, why);
    const candidate = candidates.get(range.to + 1)!;
    if (
      !(await this.events.tryPark({
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
    this.draft.dirty = true;
    return true;
  }

  /**
   * Sets aside the batch records beyond the gap, or behind an event that cannot be read yet: held
   * items first, then the index in the checkpoint.
   */
  private async holdRemaining(candidates: Map<number, Candidate>, why: string): Promise<void> {
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
        error: describeError(error),
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
      this.draft.pending.push(candidate.record.index);
      this.run.stats.gapsHeld += 1;
    }
    this.draft.dirty = true;
    this.options.logger.warn(`tidemark consumer ${this.name}: ${why}; records held`, {
      aggregate: this.aggregateKey,
      checkpoint: this.state.version,
      held: toHold.map(([version]) => version),
    });
  }
}
