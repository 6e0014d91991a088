/**
 * The consumer engine: one instance behind `createConsumer` and the middy middleware.
 *
 * Per batch: read every record; park bad ones; read the checkpoints of the batch's aggregates in
 * one BatchGetItem (per 100); then per aggregate (`AggregateRun`), in version order, apply what is
 * next, skip what is done, hold what is beyond a gap; write the checkpoint once (conditionally).
 * Report the lowest record not completed to Lambda. Also: the dead-letter API, redrive, the gap sweep.
 */
import type { AnyEventDefinition } from '@tidemark/core';
import { AggregateRun, type AnyHandler, errorInfo, heldSince, type Run } from './aggregate-run';
import {
  ConcurrentConsumerError,
  ConsumerStoreError,
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
  describeCause,
} from './errors';
import type { ResolvedConsumerOptions } from './options';
import {
  type EventRecord,
  type ReadRecord,
  readStoredRecord,
  storedRecordOf,
  truncatedForDeadLetter,
} from './records';
import { CheckpointStore, CountingClient, DeadLetterStore, type RequestCounter } from './store';
import {
  type CheckpointState,
  type DeadLetterItem,
  deadLetterId,
  emptyCheckpoint,
  type HeldRecord,
  type StoredRecord,
  toDeadLetter,
} from './table';
import type {
  BatchSummary,
  DeadLetter,
  DeadLetterPage,
  GapSweepResult,
  KinesisBatchResponse,
  KinesisEvent,
  LambdaContextLike,
  OpenGap,
  ParkReason,
  RedriveResult,
} from './types';

/** The engine shared by the Lambda handler, the middleware and the dead-letter API. */
export class ConsumerEngine {
  constructor(readonly options: ResolvedConsumerOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Processes one Kinesis batch and returns the partial-failure answer for Lambda. */
  async processBatch(event: KinesisEvent, lambdaContext?: LambdaContextLike): Promise<KinesisBatchResponse> {
    if (typeof event !== 'object' || event === null || !Array.isArray(event.Records)) {
      throw new TypeError(`Consumer ${this.name}: expected a Kinesis event ({ Records: [...] })`);
    }
    const run = this.newRun(lambdaContext);
    const records = event.Records.map((record, index) => readStoredRecord(storedRecordOf(record), index));

    const byAggregate = new Map<string, EventRecord[]>();
    const bad: ReadRecord[] = [];
    for (const record of records) {
      if (record.kind === 'bad') {
        bad.push(record);
        continue;
      }
      const list = byAggregate.get(record.aggregateKey);
      if (list) list.push(record);
      else byAggregate.set(record.aggregateKey, [record]);
    }

    const aggregates = new Map([...byAggregate].map(([key, list]) => [key, list[0]!.aggregate]));
    const states = aggregates.size > 0 ? await run.checkpoints.readCheckpoints(aggregates) : new Map();
    // Held records are read only where this batch may apply them: the missing version is in the
    // batch, or the gap is due to expire (by age or size). Otherwise the index is enough.
    const heldWanted = [...states.values()]
      .filter(
        (state) => state.held.size > 0 && this.mayUseHeld(run, state, byAggregate.get(state.aggregateKey)!),
      )
      .map((state) => ({ aggregateKey: state.aggregateKey, versions: [...state.held.keys()] }));
    const held = heldWanted.length > 0 ? await run.checkpoints.readHeld(heldWanted) : new Map();
    const heldLoaded = new Set(heldWanted.map((wanted) => wanted.aggregateKey));

    const tasks: (() => Promise<void>)[] = [];
    for (const record of bad) tasks.push(() => this.parkBadRecord(run, record));
    for (const [aggregateKey, list] of byAggregate) {
      tasks.push(() =>
        this.processAggregate(
          run,
          aggregateKey,
          list,
          states.get(aggregateKey),
          heldLoaded.has(aggregateKey) ? (held.get(aggregateKey) ?? new Map()) : undefined,
        ),
      );
    }
    await runLimited(tasks, this.options.concurrency);

    const firstFailed = run.notCompleted.size > 0 ? Math.min(...run.notCompleted) : undefined;
    const failedSequenceNumber =
      firstFailed === undefined ? undefined : event.Records[firstFailed]!.kinesis.sequenceNumber;
    this.report(run, {
      records: records.length,
      aggregates: byAggregate.size,
      failed: run.notCompleted.size,
      failedSequenceNumber,
    });
    return {
      batchItemFailures: failedSequenceNumber === undefined ? [] : [{ itemIdentifier: failedSequenceNumber }],
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Dead letters

  /** Lists dead letters, a page at a time. */
  async listDeadLetters(options: { limit?: number; cursor?: string } = {}): Promise<DeadLetterPage> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new TypeError('listDeadLetters: limit must be an integer from 1 to 1000');
    }
    const page = await this.newRun(undefined).deadLetters.list(limit, options.cursor);
    return page.cursor === undefined
      ? { items: page.items.map(toDeadLetter) }
      : { items: page.items.map(toDeadLetter), cursor: page.cursor };
  }

  /** Reads one dead letter; throws {@link DeadLetterNotFoundError} when there is none. */
  async getDeadLetter(id: string): Promise<DeadLetter> {
    const item = await this.newRun(undefined).deadLetters.get(id);
    if (!item) throw new DeadLetterNotFoundError(this.name, id);
    return toDeadLetter(item);
  }

  /** Deletes a dead letter; throws {@link DeadLetterNotFoundError} when there is none. */
  async deleteDeadLetter(id: string): Promise<void> {
    const existed = await this.newRun(undefined).deadLetters.delete(id);
    if (!existed) throw new DeadLetterNotFoundError(this.name, id);
  }

  /** Lists the aggregates that hold records because of a gap (the open-gap index). */
  async openGaps(): Promise<OpenGap[]> {
    const run = this.newRun(undefined);
    const gaps: OpenGap[] = [];
    let cursor: string | undefined;
    do {
      const page = await run.checkpoints.listGaps(cursor);
      for (const item of page.items) gaps.push({ aggregate: item.aggregate, openSince: item.openSince });
      cursor = page.cursor;
    } while (cursor !== undefined);
    return gaps;
  }

  /**
   * Evaluates every open gap as if a record of its aggregate had arrived: a gap open for
   * `gapTimeoutSeconds` is parked and skipped over and its held records applied. For aggregates
   * that get no further records; run it on a schedule.
   */
  async expireGaps(lambdaContext?: LambdaContextLike): Promise<GapSweepResult> {
    const run = this.newRun(lambdaContext);
    const result = { open: 0, expired: 0, stale: 0 };
    let cursor: string | undefined;
    do {
      const page = await run.checkpoints.listGaps(cursor);
      for (const gap of page.items) {
        const state = await run.checkpoints.readCheckpoint(gap.aggregateKey);
        if (!state || state.held.size === 0) {
          await run.checkpoints.deleteGap(gap.aggregateKey);
          result.stale += 1;
          continue;
        }
        const held = await run.checkpoints.readHeld([
          { aggregateKey: gap.aggregateKey, versions: [...state.held.keys()] },
        ]);
        const expiredBefore = run.stats.gapsExpired;
        const aggregate = new AggregateRun(this, run, gap.aggregateKey, state, false);
        await aggregate.process([], held.get(gap.aggregateKey) ?? new Map());
        if (run.stats.gapsExpired > expiredBefore) result.expired += 1;
        else result.open += 1;
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    this.options.logger.info(`tidemark consumer ${this.name}: gap sweep done`, {
      ...result,
      applied: run.stats.applied,
      dynamodbRequests: run.counter.requests,
    });
    return { ...result, applied: run.stats.applied };
  }

  /**
   * Re-runs a parked record through the handlers with the idempotency rules: a parked version is
   * applied once (the checkpoint lists it in `parked` until then), then the dead letter is deleted.
   */
  async redrive(id: string): Promise<RedriveResult> {
    const run = this.newRun(undefined);
    const letter = await run.deadLetters.get(id);
    if (!letter) throw new DeadLetterNotFoundError(this.name, id);
    if (letter.reason === 'gap-expired') {
      throw new DeadLetterNotRedrivableError(
        this.name,
        id,
        'it reports versions that never arrived; the held records after them were applied when the gap expired. Publish the missing events again if they matter, then delete this dead letter',
      );
    }
    const read = letter.record.dataTruncated ? undefined : readStoredRecord(letter.record, -1);
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
        this.name,
        id,
        `the checkpoint of ${read.aggregateKey} is at version ${state?.version ?? 'none'}, below the parked version ${version}`,
      );
    }
    const aggregate = new AggregateRun(this, run, read.aggregateKey, state, true);
    const step = await aggregate.runEvent({ record: read, fromHeld: false }, (letter.attempts ?? 0) + 1);
    if (step === 'done' && aggregate.parkedAgain === undefined) {
      const written = await aggregate.flush();
      if (!written) {
        if (aggregate.lastInfraError !== undefined) {
          throw new ConsumerStoreError('redrive', aggregate.lastInfraError, { id });
        }
        throw new ConcurrentConsumerError(this.name, read.aggregateKey, state.revision);
      }
      await run.deadLetters.delete(id);
      return { id, outcome: aggregate.lastOutcome === 'skipped' ? 'skipped' : 'applied' };
    }
    if (step === 'stop-concurrent')
      throw new ConcurrentConsumerError(this.name, read.aggregateKey, state.revision);
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

  // ---------------------------------------------------------------------------------------------
  // Internals (used by AggregateRun)

  /** @internal Whether a batch may apply an aggregate's held records (so they must be read). */
  mayUseHeld(run: Run, state: CheckpointState, records: readonly EventRecord[]): boolean {
    const versions = new Set(records.map((record) => record.envelope.aggregateversion));
    // The next version arrives now, or is held itself (a held event that failed and is retried).
    if (versions.has(state.version + 1) || state.held.has(state.version + 1)) return true;
    if (state.held.size + versions.size > this.options.maxHeldPerAggregate) return true;
    return run.now.getTime() - heldSince(state) >= this.options.gapTimeoutSeconds * 1000;
  }

  /** @internal Whether the invocation is too close to its timeout to start another event. */
  outOfTime(run: Run): boolean {
    const remaining = run.lambdaContext?.getRemainingTimeInMillis?.();
    return typeof remaining === 'number' && remaining < this.options.timeoutMarginMs;
  }

  /** @internal */
  handlerFor(type: string): AnyHandler | undefined {
    return this.options.handlers[type] as AnyHandler | undefined;
  }

  /** @internal */
  definitionFor(type: string): AnyEventDefinition | undefined {
    return this.options.catalog.find(type);
  }

  /** @internal Parks a record (idempotent: the id is stable per record). */
  async park(
    run: Run,
    input: {
      reason: ParkReason;
      error: unknown;
      stored: StoredRecord;
      attempts: number;
      record?: EventRecord;
      missing?: { from: number; to: number };
    },
  ): Promise<DeadLetterItem> {
    const { reason, error, stored, record } = input;
    const envelope = record?.envelope;
    const id = deadLetterId(reason, {
      eventID: stored.eventID,
      ...(record ? { aggregateKey: record.aggregateKey, version: envelope!.aggregateversion } : {}),
      ...(input.missing ? { missing: input.missing } : {}),
    });
    const letter: DeadLetterItem = {
      id,
      consumer: this.name,
      reason,
      message: error instanceof Error ? error.message : describeCause(error),
      error: errorInfo(error),
      parkedAt: run.now.toISOString(),
      attempts: input.attempts,
      record: truncatedForDeadLetter(stored),
      ...(record && envelope
        ? {
            aggregate: record.aggregate,
            version: envelope.aggregateversion,
            eventType: envelope.type,
            eventId: envelope.id,
          }
        : {}),
      ...(input.missing ? { missing: input.missing } : {}),
    };
    await run.deadLetters.put(letter);
    run.stats.parked += 1;
    this.options.logger.error(`tidemark consumer ${this.name}: parked a record (${reason})`, {
      consumer: this.name,
      deadLetterId: id,
      reason,
      error: letter.message,
      sequenceNumber: stored.sequenceNumber,
      ...(record ? { aggregate: record.aggregateKey, version: envelope!.aggregateversion } : {}),
    });
    return letter;
  }

  private async parkBadRecord(run: Run, record: ReadRecord): Promise<void> {
    if (record.kind !== 'bad') return;
    try {
      await this.park(run, {
        reason: record.reason,
        error: record.error,
        stored: record.stored,
        attempts: 0,
      });
    } catch (error) {
      this.options.logger.error(`tidemark consumer ${this.name}: could not park a bad record`, {
        sequenceNumber: record.stored.sequenceNumber,
        error: describeCause(error),
      });
      run.notCompleted.add(record.index);
    }
  }

  private async processAggregate(
    run: Run,
    aggregateKey: string,
    records: EventRecord[],
    state: CheckpointState | undefined,
    held: Map<number, HeldRecord> | undefined,
  ): Promise<void> {
    const aggregate = new AggregateRun(
      this,
      run,
      aggregateKey,
      state ?? emptyCheckpoint(aggregateKey, records[0]!.aggregate),
      false,
    );
    try {
      await aggregate.process(records, held);
    } catch (error) {
      // Unexpected (a bug or a broken store): do not report anything of this aggregate as done.
      this.options.logger.error(`tidemark consumer ${this.name}: processing ${aggregateKey} failed`, {
        error: describeCause(error),
      });
      for (const record of records) run.notCompleted.add(record.index);
    }
  }

  private newRun(lambdaContext: LambdaContextLike | undefined): Run {
    const counter: RequestCounter = { requests: 0 };
    const { options } = this;
    return {
      counter,
      checkpoints: new CheckpointStore(
        new CountingClient(options.checkpointClient, counter),
        options.checkpointTable,
        options.name,
      ),
      deadLetters: new DeadLetterStore(
        new CountingClient(options.deadLetterClient, counter),
        options.deadLetterTable,
        options.name,
      ),
      stats: {
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
      },
      lambdaContext,
      notCompleted: new Set(),
      now: options.clock(),
    };
  }

  private report(
    run: Run,
    batch: { records: number; aggregates: number; failed: number; failedSequenceNumber: string | undefined },
  ): void {
    const summary: BatchSummary = {
      consumer: this.name,
      records: batch.records,
      aggregates: batch.aggregates,
      ...run.stats,
      failed: batch.failed,
      dynamodbRequests: run.counter.requests,
      ...(batch.failedSequenceNumber === undefined
        ? {}
        : { failedSequenceNumber: batch.failedSequenceNumber }),
    };
    const { logger, metric, onBatchSummary } = this.options;
    logger.info(`tidemark consumer ${this.name}: batch done`, summary);
    const metrics: [Parameters<typeof metric>[0], number][] = [
      ['RecordsReceived', summary.records],
      ['EventsApplied', summary.applied],
      ['DuplicatesSkipped', summary.duplicates],
      ['EventsSkipped', summary.skipped],
      ['GapsHeld', summary.gapsHeld],
      ['GapsClosed', summary.gapsClosed],
      ['GapsExpired', summary.gapsExpired],
      ['RecordsParked', summary.parked],
      ['HandlerFailures', summary.handlerFailures],
      ['RecordsFailed', summary.failed],
      ['ConcurrentUpdates', summary.concurrentUpdates],
      ['DynamoDbRequests', summary.dynamodbRequests],
    ];
    for (const [name, value] of metrics) {
      try {
        metric(name, value);
      } catch (error) {
        logger.warn(`tidemark consumer ${this.name}: the metrics hook threw`, {
          metric: name,
          error: describeCause(error),
        });
      }
    }
    onBatchSummary?.(summary);
  }
}

/** Runs tasks with at most `limit` at once. */
async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
