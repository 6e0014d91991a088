/**
 * The checkpoint of one aggregate as a run builds it, and making it durable: one conditional
 * write on the revision read (which also opens or closes the aggregate's open-gap entry), then the
 * clean-ups that only a durable checkpoint allows (dead letters of events applied after all, held
 * items it no longer indexes). A failed write fails the batch records whose effect it carried.
 */
import { randomUUID } from 'node:crypto';
import { describeError, describeErrorText } from '@tidemark/core/internal';
import { ConcurrentConsumerError } from './errors';
import type { AggregateContext, Run } from './run-context';
import type { GapChange } from './store';
import { type CheckpointState, cloneCheckpoint } from './table';

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

  /** The checkpoint to write next: the draft at the next revision. */
  nextState(): CheckpointState {
    const next = cloneCheckpoint(this.state);
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
  }

  private writeFailed(error: unknown): void {
    for (const index of this.pending) this.run.notCompleted.add(index);
    this.pending = [];
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

  /**
   * Saves the draft before an attempt to make it durable in another way (a transaction with the
   * handler's writes); the returned function puts it back when that attempt failed.
   */
  save(): () => void {
    const before = cloneCheckpoint(this.state);
    const beforeKeys = new Set(Object.keys(this.state));
    const { dirty, pending, consumedHeld } = this;
    const savedPending = [...pending];
    const savedConsumed = [...consumedHeld];
    return () => {
      for (const key of Object.keys(this.state)) {
        if (!beforeKeys.has(key)) delete (this.state as unknown as Record<string, unknown>)[key];
      }
      Object.assign(this.state, before);
      this.dirty = dirty;
      this.pending = savedPending;
      this.consumedHeld = savedConsumed;
    };
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
