/**
 * Running one event that is next for its aggregate (the version after the mark, a late arrival,
 * or a parked event being redriven): the decision core's verdict on it (`rules/event-verdict.ts`),
 * then skipping, parking or running its handler within the invocation's deadline — in
 * transactional mode staging its writes to commit with the checkpoint — and recording the outcome
 * in the aggregate's checkpoint draft.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { classifyEvent, type DomainEvent, type NotReadableYetEvent } from '@tidemark/core';
import { describeError, describeErrorText } from '@tidemark/core/internal';
import type { Candidate, Step } from './candidate';
import type { CheckpointDraft } from './checkpoint-draft';
import type { CheckpointState } from './checkpoint-item';
import { type DeadLetterItem, deadLetterId } from './dead-letter-item';
import { EarlierCommitError, EventHandlerError, HandlerDidNotCompleteError } from './errors';
import { settleBefore } from './handler-deadline';
import { MAX_FAILURE_TEXT_CHARS } from './limits';
import { errorInfo } from './park';
import { recordSourceOf } from './records';
import { isLastAttempt } from './rules/attempts';
import { eventVerdict, failureVerdict } from './rules/event-verdict';
import { removeSkipped } from './rules/skipped-ranges';
import type { AggregateContext, Run } from './run-context';
import { StagedTransaction } from './transaction';
import type { HandlerContext, ParkReason } from './types';

/** Runs the events of one aggregate, one at a time, into its checkpoint draft. */
export class EventStep {
  lastOutcome: 'applied' | 'skipped' | 'parked' | undefined;
  lastHandlerError: Error | undefined;
  parkedAgain: DeadLetterItem | undefined;

  constructor(
    private readonly consumer: AggregateContext,
    private readonly run: Run,
    private readonly aggregateKey: string,
    private readonly draft: CheckpointDraft,
    private readonly redriving: boolean,
  ) {
    draft.hooks = {
      committed: (event) => {
        this.run.stats.applied += 1;
        if (event.candidate.fromHeld) this.run.stats.gapsClosed += 1;
        this.lastOutcome = 'applied';
      },
      refused: (event, error) => this.handlerFailed(event.candidate, event.attempt, error),
      redo: (candidate) => this.done(candidate),
    };
  }

  private get state(): CheckpointState {
    return this.draft.state;
  }

  private get options() {
    return this.consumer.options;
  }

  private get name() {
    return this.consumer.name;
  }

  /** Applies, skips or parks one event that is next (or late, or in a redrive parked). */
  async runEvent(candidate: Candidate, attempt: number, waiting = 1): Promise<Step> {
    const { record } = candidate;
    const { envelope } = record;
    const version = envelope.aggregateversion;
    const handler = this.consumer.handlerFor(envelope.type);
    const read =
      handler && this.consumer.definitionFor(envelope.type)
        ? classifyEvent(this.options.catalog, envelope)
        : undefined;
    const verdict = eventVerdict({
      version,
      handled: read !== undefined && read.kind !== 'unknown-type',
      readability: read === undefined || read.kind === 'unknown-type' ? 'readable' : read.kind,
      redriving: this.redriving,
      late: candidate.late === true,
      failure: this.state.failure,
      maxAttempts: this.options.maxAttempts,
      unreadableEvents: this.options.unreadableEvents,
      waiting,
      maxHeldPerAggregate: this.options.maxHeldPerAggregate,
    });
    if (verdict.kind === 'skip') {
      this.options.logger.debug('tidemark consumer: skipped an event without a handler', {
        consumer: this.name,
        eventType: envelope.type,
        aggregate: this.aggregateKey,
        version,
      });
      this.run.stats.skipped += 1;
      this.lastOutcome = 'skipped';
      this.done(candidate);
      return 'done';
    }
    if (verdict.kind === 'park' && verdict.reason !== 'handler-failed') {
      const error = read !== undefined && read.kind !== 'readable' ? read.error : undefined;
      return (await this.parkEvent(candidate, verdict.reason, error, verdict.attempts))
        ? 'done'
        : 'stop-infra';
    }
    if (verdict.kind === 'park') {
      // Deliveries in which the handler did not complete used up the attempts: park, do not run.
      const failure = new HandlerDidNotCompleteError(
        envelope.type,
        this.aggregateKey,
        version,
        `${this.state.failure!.attempts} attempts did not complete (last: ${this.state.failure!.lastError})`,
      );
      return (await this.parkEvent(candidate, 'handler-failed', failure, verdict.attempts))
        ? 'done'
        : 'stop-infra';
    }
    if (verdict.kind === 'hold' && read?.kind === 'not-readable-yet') {
      this.unreadable(candidate, read, waiting);
      return 'held-unreadable';
    }
    if (verdict.kind === 'hold' || handler === undefined || read?.kind !== 'readable') {
      throw new Error('unreachable: only a readable event with a handler runs');
    }
    const event: DomainEvent = read.event;

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
    // Set when the handler asked to commit the earlier events and that failed: this event stops.
    let earlier: Step | undefined;
    try {
      if (this.options.transactional) {
        const where = { aggregate: this.aggregateKey, version };
        transaction = new StagedTransaction(where, async () => {
          if (earlier !== undefined) throw new EarlierCommitError(where);
          // Only staged writes change what a handler reads; the checkpoint's other news can wait.
          if (this.draft.staged.length === 0) return;
          const step = await this.draft.write();
          if (step === 'done' && !this.draft.takeDropped()) return;
          // An earlier event was not applied after all: this one must not run past it.
          earlier = step === 'done' || step === 'held-unreadable' ? 'stop-infra' : step;
          throw new EarlierCommitError({ ...where, outcome: step });
        });
        await this.settle(handler(event, Object.freeze({ ...context, transaction })), candidate);
        staged = transaction.seal();
      } else {
        await this.settle(handler(event, Object.freeze(context)), candidate);
      }
    } catch (error) {
      transaction?.seal();
      if (earlier !== undefined) return earlier;
      if (error instanceof HandlerDidNotCompleteError) {
        this.run.stats.handlersNotCompleted += 1;
      }
      return this.handlerFailed(candidate, attempt, error);
    }

    if (earlier !== undefined) return earlier;

    // Whether an earlier delivery may have parked this event and then failed to write the
    // checkpoint that says so: once this success is durable, that dead letter is stale. (With
    // maxAttempts 1 no failure is recorded before the park, so such a dead letter stays;
    // redriving it answers `duplicate` and deletes it.)
    const mayBeParked =
      !this.redriving &&
      this.state.failure?.version === version &&
      isLastAttempt(attempt, this.options.maxAttempts);
    const staleId = mayBeParked
      ? deadLetterId('handler-failed', { aggregateKey: this.aggregateKey, version, eventID: '' })
      : undefined;
    if (staged.length === 0) {
      if (staleId !== undefined) this.draft.staleDeadLetters.push(staleId);
      this.run.stats.applied += 1;
      if (candidate.fromHeld) this.run.stats.gapsClosed += 1;
      this.lastOutcome = 'applied';
      this.done(candidate);
      return 'done';
    }
    // Transactional mode: the writes wait in the draft and commit with the checkpoint that marks
    // this event done, together with the aggregate's other events (see `checkpoint-draft.ts`).
    this.draft.stage(
      { candidate, attempt, items: staged, ...(staleId === undefined ? {} : { staleDeadLetter: staleId }) },
      () => this.done(candidate),
    );
    // A redrive answers for this one event: it commits now.
    return this.redriving ? this.draft.write() : 'done';
  }

  /** Reports an event that cannot be read yet and holds its aggregate (no attempt is counted). */
  private unreadable(candidate: Candidate, read: NotReadableYetEvent, waiting: number): void {
    const { envelope } = candidate.record;
    this.run.stats.unreadable += 1;
    this.options.logger.error(
      `tidemark consumer ${this.name}: cannot read ${envelope.type} at schema version ${read.schemaVersion} yet; its aggregate is held until a definition that reads it is deployed`,
      {
        aggregate: this.aggregateKey,
        version: envelope.aggregateversion,
        eventType: envelope.type,
        schemaVersion: read.schemaVersion,
        readerSchemaVersion: read.readerSchemaVersion,
        readableFrom: read.readableFrom,
        waiting,
        maxHeldPerAggregate: this.options.maxHeldPerAggregate,
        error: read.error.message.slice(0, MAX_FAILURE_TEXT_CHARS),
      },
    );
  }

  /**
   * Waits for a handler, but not past the point where the invocation must answer: a handler
   * still running then counts as an attempt that did not complete.
   */
  private settle(result: unknown, candidate: Candidate): Promise<void> {
    const { envelope } = candidate.record;
    return settleBefore(
      result,
      this.consumer.timeLeft(this.run) - this.options.timeoutMarginMs / 2,
      () =>
        new HandlerDidNotCompleteError(
          envelope.type,
          this.aggregateKey,
          envelope.aggregateversion,
          'still running when the invocation had to answer',
        ),
    );
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
      error: describeError(error),
    });
    const next = failureVerdict({
      redriving: this.redriving,
      attempt,
      maxAttempts: this.options.maxAttempts,
    });
    if (next === 'report') return 'stop-handler';
    if (next === 'park') {
      return (await this.parkEvent(candidate, 'handler-failed', failure, attempt)) ? 'done' : 'stop-infra';
    }
    this.state.failure = {
      version: envelope.aggregateversion,
      attempts: attempt,
      lastError: describeErrorText(error).slice(0, MAX_FAILURE_TEXT_CHARS),
      lastFailedAt: this.run.now.toISOString(),
    };
    this.draft.dirty = true;
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
        message: error instanceof Error ? error.message : describeErrorText(error),
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

  /** Parks through the consumer; logs and counts a park that failed (the record is retried). */
  async tryPark(input: Parameters<AggregateContext['park']>[1]): Promise<boolean> {
    try {
      await this.consumer.park(this.run, input);
      return true;
    } catch (parkError) {
      this.draft.lastInfraError = describeErrorText(parkError);
      this.run.stats.parkFailures += 1;
      this.options.logger.error(
        `tidemark consumer ${this.name}: could not park a record; it will be delivered again`,
        {
          aggregate: this.aggregateKey,
          reason: input.reason,
          sequenceNumber: input.stored.sequenceNumber,
          version: input.version ?? input.record?.envelope.aggregateversion,
          error: describeError(parkError),
        },
      );
      return false;
    }
  }

  /** Marks an event done in the checkpoint being built. */
  done(candidate: Candidate): void {
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
      this.draft.consumedHeld.push({ version, chunks: heldEntry.chunks ?? 1 });
      this.state.held.delete(version);
    }
    if (!candidate.fromHeld && candidate.record.index >= 0) this.draft.pending.push(candidate.record.index);
    this.draft.dirty = true;
  }
}
