/**
 * The checkpoint of one aggregate as a run builds it, and making it durable: one conditional
 * write on the revision read (which also opens or closes the aggregate's open-gap entry), then the
 * clean-ups that only a durable checkpoint allows (dead letters of events applied after all, held
 * items it no longer indexes). A failed write fails the batch records whose effect it carried.
 *
 * In transactional mode the writes the handlers staged wait in the draft and commit with the
 * checkpoint when it is written: one TransactWriteItems for all of the aggregate's events, cut
 * where DynamoDB's limits force it (`staged-commit.ts`), each request advancing the checkpoint to
 * its last event on condition of the revision the previous one wrote.
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describeError, describeErrorText, MAX_TRANSACTION_ACTIONS } from '@tidemark/core/internal';
import type { Candidate, Step } from './candidate';
import { type CheckpointState, cloneCheckpoint } from './checkpoint-item';
import { ConcurrentConsumerError, StagedWriteRejectedError } from './errors';
import type { GapChange } from './gap-item';
import type { AggregateContext, Run } from './run-context';
import { firstRequest, putTables, readRefusal, type StagedEvent, stagedBytes } from './staged-commit';

/** What the event step does when staged writes commit, or are refused. */
export interface StagedHooks {
  /** The event's writes are durable (with the checkpoint that marks it done). */
  committed(event: StagedEvent): void;
  /** DynamoDB refused the event's writes on their own: a handler failure of that event. */
  refused(event: StagedEvent, error: unknown): Promise<Step>;
  /** Marks an event done in the draft again (staged again after a refused event was parked). */
  redo(candidate: Candidate): void;
}

/** The checkpoint being built for one aggregate, and what making it durable needs. */
export class CheckpointDraft {
  /** The checkpoint as it will be written. */
  readonly state: CheckpointState;
  /** The revision and existence of the durable checkpoint (the condition of the next write). */
  baseRevision: number;
  baseExists: boolean;
  /** Whether the durable checkpoint holds records (so the open-gap index has an entry for it). */
  durableHeld: boolean;
  /** Whether `state` differs from the durable checkpoint. */
  dirty = false;
  /** Batch records whose effect is not durable yet (all of them fail if the next write fails). */
  pending: number[] = [];
  /** Held versions applied; their items are deleted once the checkpoint no longer needs them. */
  consumedHeld: { version: number; chunks: number }[] = [];
  /** An index entry left open by a transactional commit that emptied the held set. */
  gapLeftOpen = false;
  /** Dead letters of events applied after all: deleted once the checkpoint saying so is durable. */
  staleDeadLetters: string[] = [];
  /** Why DynamoDB last failed a write of this run. */
  lastInfraError: string | undefined;
  /** Transactional mode: events whose staged writes wait for the next write, in order. */
  staged: StagedEvent[] = [];
  /** Leading `pending` positions made durable by a request of staged writes since the last full write. */
  private pendingDropped = 0;
  /** Set by the event step (transactional mode). */
  hooks: StagedHooks | undefined;
  /** Whether a refusal dropped staged events since last asked (see {@link takeDropped}). */
  private dropped = false;
  /** The write in progress (writes never overlap). */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly consumer: AggregateContext,
    private readonly run: Run,
    private readonly aggregateKey: string,
    initial: CheckpointState,
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
   * Claims the aggregate for this run before any handler runs (when a gap sweep could run its
   * held records at the same time): a conditional checkpoint write. Returns false when another
   * invocation changed the checkpoint first (nothing was run). With `untilDone` (a gap sweep) the
   * claim stays on every write until {@link releaseClaim}: a claim found expired then means the
   * run died (or could not write) while it ran the aggregate.
   */
  async claim(owner: string, until: Date, untilDone = false): Promise<boolean> {
    this.state.claim = { owner, until: until.toISOString() };
    this.dirty = true;
    const claimed = await this.flush();
    if (untilDone && claimed) return true;
    delete this.state.claim;
    this.dirty ||= claimed;
    return claimed;
  }

  /** Drops a claim kept until the run is done (see {@link claim}); the next write clears it. */
  releaseClaim(): void {
    if (this.state.claim === undefined) return;
    delete this.state.claim;
    this.dirty = true;
  }

  /** Writes the checkpoint if it changed; returns false when the write failed (records marked). */
  async flush(): Promise<boolean> {
    const outcome = await this.write();
    return outcome !== 'stop-infra' && outcome !== 'stop-concurrent';
  }

  /**
   * Makes the draft durable: first the staged writes with the checkpoint (transactional mode), then
   * whatever else changed. Returns `done`, or why the aggregate stops: a write failed (its records
   * are marked), or DynamoDB refused one event's staged writes (its handler failure is recorded).
   */
  write(): Promise<Step> {
    // One write at a time: a handler's commitEarlier can still be in flight when a handler that
    // ran out of time is given up on and the run writes its checkpoint.
    const next = this.writing.then(() => this.writeNow());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async writeNow(): Promise<Step> {
    let outcome: Step = 'done';
    if (this.staged.length > 0) {
      outcome = await this.commitStaged();
      if (outcome === 'stop-infra' || outcome === 'stop-concurrent') return outcome;
    }
    if (this.dirty || this.gapLeftOpen) {
      const next = this.nextState();
      const gap = this.gapChange(next);
      try {
        await this.run.checkpoints.writeCheckpoint(next, this.baseRevision, this.baseExists, gap);
        this.markDurable(next);
        this.gapLeftOpen = false;
      } catch (error) {
        this.writeFailed(error);
        return error instanceof ConcurrentConsumerError ? 'stop-concurrent' : 'stop-infra';
      }
    }
    await this.deleteStaleDeadLetters();
    await this.deleteConsumedHeld();
    return outcome;
  }

  /**
   * Stages an event's writes: `markDone` marks it done in the draft; the writes commit with the
   * checkpoint that says so.
   */
  stage(
    input: { candidate: Candidate; attempt: number; items: TransactWriteItem[]; staleDeadLetter?: string },
    markDone: () => void,
  ): void {
    const before = cloneCheckpoint(this.state);
    const pendingBefore = this.pendingDropped + this.pending.length;
    markDone();
    this.consumer.tableKeys.learn(input.items);
    this.staged.push({
      ...input,
      bytes: stagedBytes(input.items),
      before,
      after: cloneCheckpoint(this.state),
      pendingBefore,
      pendingAfter: this.pendingDropped + this.pending.length,
    });
  }

  /** Commits the staged writes, a request at a time (see the file comment). */
  private async commitStaged(): Promise<Step> {
    const keys = this.consumer.tableKeys;
    while (this.staged.length > 0) {
      const part = firstRequest(this.staged, keys);
      const items = part.flatMap((event) => event.items);
      let final = part.length === this.staged.length;
      let checkpoint = final ? this.nextState() : this.stateAt(part.at(-1)!.after);
      let gap = this.gapChange(checkpoint);
      if (gap !== undefined && items.length + 2 > MAX_TRANSACTION_ACTIONS) {
        if (final) {
          // No room for the open-gap entry: this request ends at the last event, and the rest of
          // the draft (with the entry) is written after it.
          final = false;
          checkpoint = this.stateAt(part.at(-1)!.after);
          gap = this.gapChange(checkpoint);
        }
        // An entry left open is closed by the next write (an event's completion never opens one).
        if (gap !== undefined && 'close' in gap) gap = undefined;
      }
      try {
        await this.run.checkpoints.transact(
          [
            ...items,
            this.run.checkpoints.checkpointPut(checkpoint, this.baseRevision, this.baseExists),
            ...(gap === undefined ? [] : [this.run.checkpoints.gapAction(gap)]),
          ],
          checkpoint.writeId!,
        );
      } catch (error) {
        const refusal = readRefusal(error, part, items.length);
        if (refusal.kind === 'concurrent') {
          this.abandonStaged(
            new ConcurrentConsumerError(this.name, this.aggregateKey, this.baseRevision, refusal.revision),
          );
          return 'stop-concurrent';
        }
        if (refusal.kind === 'waitable') {
          this.abandonStaged(error);
          return 'stop-infra';
        }
        if (refusal.kind === 'request') {
          // Refused as a whole without naming a write: with `Put`s whose key is unknown, they may
          // touch one item (remember their tables and cut again); else each event alone.
          if (!(refusal.sameItem && keys.putsClashedOn(putTables(part)))) {
            for (const event of part) event.alone = true;
          }
          this.options.logger.warn(
            `tidemark consumer ${this.name}: DynamoDB refused the staged writes of ${part.length} events in one transaction; committing them in smaller ones`,
            { aggregate: this.aggregateKey, error: describeError(error) },
          );
          continue;
        }
        if (part.length > 1) {
          // One event's writes were refused in a shared request: the events before it commit,
          // then it is tried alone (a refusal counts against an event only on its own).
          refusal.event.alone = true;
          continue;
        }
        const step = await this.refuse(
          refusal.event,
          refusal.reasons === undefined
            ? error
            : new StagedWriteRejectedError(refusal.reasons, { cause: error }),
        );
        if (step !== 'done') return step;
        continue;
      }
      this.partDurable(part, checkpoint, gap, final);
    }
    return 'done';
  }

  /** A request of staged writes is durable. */
  private partDurable(
    part: readonly StagedEvent[],
    checkpoint: CheckpointState,
    gap: GapChange | undefined,
    final: boolean,
  ): void {
    const closeWanted = this.gapChange(checkpoint);
    this.staged.splice(0, part.length);
    if (final) {
      this.markDurable(checkpoint);
    } else {
      const durable = part.at(-1)!.pendingAfter - this.pendingDropped;
      this.pending.splice(0, durable);
      this.pendingDropped += durable;
      this.baseRevision = checkpoint.revision;
      this.baseExists = true;
      this.durableHeld = checkpoint.held.size > 0;
      this.state.revision = checkpoint.revision;
      this.state.exists = true;
    }
    if (gap !== undefined) this.gapLeftOpen = false;
    else if (closeWanted !== undefined && 'close' in closeWanted) this.gapLeftOpen = true;
    for (const event of part) {
      if (event.staleDeadLetter !== undefined) this.staleDeadLetters.push(event.staleDeadLetter);
      this.hooks?.committed(event);
    }
  }

  /**
   * DynamoDB refused one event's staged writes on their own: the draft goes back to just before
   * that event and its handler failure is recorded (an attempt, or parked after `maxAttempts`).
   * When it is parked and nothing but the later staged events changed the draft after it, those
   * are staged again (their handlers ran; the park takes the refused event's place in the order);
   * otherwise the records from it on are delivered again.
   */
  private async refuse(event: StagedEvent, error: unknown): Promise<Step> {
    const chain = this.staged.slice(this.staged.indexOf(event));
    const later = chain.slice(1);
    const replayable =
      later.every((next, index) => sameCheckpoint(next.before, chain[index]!.after)) &&
      sameCheckpoint(this.state, chain.at(-1)!.after);
    const from = Math.max(0, event.pendingBefore - this.pendingDropped);
    const dropped = this.pending.slice(from);
    this.restoreTo(event.before);
    this.pending.length = Math.min(this.pending.length, from);
    this.staged = [];
    this.dirty = true;
    const step = await this.hooks!.refused(event, error);
    const own = event.candidate.record.index;
    if (step === 'done' && replayable) {
      for (const next of later) {
        this.stage(
          {
            candidate: next.candidate,
            attempt: next.attempt,
            items: [...next.items],
            ...(next.staleDeadLetter === undefined ? {} : { staleDeadLetter: next.staleDeadLetter }),
          },
          () => this.hooks!.redo(next.candidate),
        );
      }
      return 'done';
    }
    this.dropped = true;
    for (const index of dropped) if (index !== own) this.run.notCompleted.add(index);
    if (step !== 'done' && own >= 0) this.run.notCompleted.add(own);
    return step;
  }

  /** Whether a refused staged write made the draft go back since the last call (and resets it). */
  takeDropped(): boolean {
    const dropped = this.dropped;
    this.dropped = false;
    return dropped;
  }

  /** A request failed for every staged event left: none of them is applied, the draft goes back. */
  private abandonStaged(error: unknown): void {
    this.restoreTo(this.staged[0]!.before);
    this.staged = [];
    this.writeFailed(error);
  }

  /** Puts the draft back to a state it had (the durable revision stays). */
  private restoreTo(snapshot: CheckpointState): void {
    const state = this.state as unknown as Record<string, unknown>;
    for (const key of Object.keys(state)) {
      if (!(key in snapshot)) delete state[key];
    }
    Object.assign(this.state, cloneCheckpoint(snapshot));
    this.state.revision = this.baseRevision;
    this.state.exists = this.baseExists;
  }

  /** How the open-gap index changes with this checkpoint, if it does. */
  private gapChange(next: CheckpointState): GapChange | undefined {
    if (!this.durableHeld && next.held.size > 0) {
      return {
        open: {
          aggregateKey: this.aggregateKey,
          aggregate: this.state.aggregate,
          openSince: this.run.now.toISOString(),
        },
      };
    }
    if ((this.durableHeld || this.gapLeftOpen) && next.held.size === 0) return { close: this.aggregateKey };
    return undefined;
  }

  /** The checkpoint to write next: the draft at the next revision. */
  nextState(): CheckpointState {
    return this.stateAt(this.state);
  }

  /** A state of the draft at the next revision. */
  private stateAt(state: CheckpointState): CheckpointState {
    const next = cloneCheckpoint(state);
    next.revision = this.baseRevision + 1;
    next.writeId = randomUUID();
    next.updatedAt = this.run.now.toISOString();
    next.exists = true;
    return next;
  }

  /** Records that `next` is durable. */
  markDurable(next: CheckpointState): void {
    this.durableHeld = next.held.size > 0;
    this.baseRevision = next.revision;
    this.baseExists = true;
    this.state.revision = next.revision;
    this.state.exists = true;
    this.dirty = false;
    this.pending = [];
    this.pendingDropped = 0;
  }

  private writeFailed(error: unknown): void {
    for (const index of this.pending) this.run.notCompleted.add(index);
    this.pending = [];
    this.pendingDropped = 0;
    if (error instanceof ConcurrentConsumerError) {
      this.run.stats.concurrentUpdates += 1;
      this.options.logger.warn(`tidemark consumer ${this.name}: ${error.message}`, error.context);
    } else {
      this.lastInfraError = describeErrorText(error);
      this.options.logger.error(`tidemark consumer ${this.name}: checkpoint write failed`, {
        aggregate: this.aggregateKey,
        error: describeError(error),
      });
    }
  }

  /** Deletes dead letters of events that were applied after all (see `runEvent`); idempotent. */
  async deleteStaleDeadLetters(): Promise<void> {
    for (const id of this.staleDeadLetters.splice(0)) {
      try {
        await this.run.deadLetters.delete(id);
      } catch (error) {
        this.options.logger.warn(`tidemark consumer ${this.name}: could not delete a stale dead letter`, {
          deadLetterId: id,
          error: describeError(error),
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
    const done = [
      ...new Map(
        this.consumedHeld
          .filter(({ version }) => !this.state.held.has(version))
          .map((entry) => [entry.version, entry]),
      ).values(),
    ];
    if (done.length === 0) return;
    this.consumedHeld = this.consumedHeld.filter((entry) => this.state.held.has(entry.version));
    try {
      await this.run.checkpoints.deleteHeld(this.aggregateKey, done);
    } catch (error) {
      // Harmless leftovers: the checkpoint no longer indexes them.
      this.options.logger.warn(`tidemark consumer ${this.name}: could not delete applied held records`, {
        aggregate: this.aggregateKey,
        versions: done.map((entry) => entry.version),
        error: describeError(error),
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

/** Whether two states of a checkpoint say the same (revision, write id and time aside). */
function sameCheckpoint(a: CheckpointState, b: CheckpointState): boolean {
  const meaning = (state: CheckpointState) =>
    JSON.stringify([
      state.version,
      state.commandId,
      state.eventId,
      [...state.held],
      [...state.parked],
      state.skipped,
      state.failure,
      state.claim,
    ]);
  return meaning(a) === meaning(b);
}
