/**
 * The consumer engine: one instance behind `createConsumer` and the middy middleware.
 *
 * Per batch: read every record; park bad ones; read the checkpoints of the batch's aggregates in
 * one BatchGetItem (per 100); then per aggregate, in version order, apply what is next, skip what
 * is done, hold what is beyond a gap; write the checkpoint once (conditionally). Report the lowest
 * record not completed to Lambda.
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  type AnyEventDefinition,
  type DomainEvent,
  type TidemarkError,
  UnsupportedSchemaVersionError,
} from '@tidemark/core';
import {
  ConcurrentConsumerError,
  ConsumerStoreError,
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
  describeCause,
  EventHandlerError,
  GapExpiredError,
  StagedWriteRejectedError,
} from './errors';
import type { ResolvedConsumerOptions } from './options';
import {
  type EventRecord,
  type ReadRecord,
  readStoredRecord,
  recordSourceOf,
  storedRecordOf,
  truncatedForDeadLetter,
} from './records';
import { CheckpointStore, CountingClient, DeadLetterStore, type RequestCounter } from './store';
import {
  type CheckpointState,
  cloneCheckpoint,
  type DeadLetterItem,
  deadLetterId,
  emptyCheckpoint,
  type HeldRecord,
  heldChunkCount,
  type StoredRecord,
  toDeadLetter,
} from './table';
import { StagedTransaction } from './transaction';
import type {
  BatchSummary,
  DeadLetter,
  DeadLetterPage,
  GapSweepResult,
  HandlerContext,
  KinesisBatchResponse,
  KinesisEvent,
  LambdaContextLike,
  OpenGap,
  ParkReason,
  RedriveResult,
} from './types';

type AnyHandler = (event: DomainEvent, context: HandlerContext) => unknown;

/** Counts of one batch (mutable while it runs). */
interface Stats {
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
interface Run {
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
interface Candidate {
  readonly record: EventRecord;
  readonly fromHeld: boolean;
}

type Step = 'done' | 'stop-handler' | 'stop-infra' | 'stop-concurrent' | 'stop-time';

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

/**
 * One aggregate within one batch (or one redrive): the candidates, the checkpoint being built, and
 * the writes that make it durable.
 */
class AggregateRun {
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
function heldSince(state: CheckpointState): number {
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

function errorInfo(error: unknown): DeadLetter['error'] {
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
