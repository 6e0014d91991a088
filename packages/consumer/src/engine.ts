/**
 * The consumer engine: one instance behind `createConsumer` and the middy middleware.
 *
 * Per batch: read every record; park bad ones; read the checkpoints of the batch's aggregates in
 * one BatchGetItem (per 100); then per aggregate (`AggregateRun`), in version order, apply what is
 * next, skip what is done, hold what is beyond a gap; write the checkpoint once (conditionally).
 * Report the lowest record not completed to Lambda. Also: the dead-letter API, redrive, the gap sweep.
 */
import { randomUUID } from 'node:crypto';
import type { AnyEventDefinition } from '@tidemark/core';
import { describeError, forEachLimited } from '@tidemark/core/internal';
import { AggregateRun } from './aggregate-run';
import { heldSince } from './checkpoint-draft';
import { type DeadLetters, deadLetterAccess } from './dead-letters';
import {
  ConcurrentConsumerError,
  ConsumerStoreError,
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
} from './errors';
import { InFlightMarker, type PreviousRun } from './in-flight';
import type { ResolvedConsumerOptions } from './options';
import { errorInfo, parkRecord } from './park';
import {
  type EventRecord,
  type ReadRecord,
  readKinesisRecord,
  readStoredRecord,
  storedRecordOf,
} from './records';
import { gapExpiry } from './rules/gap-expiry';
import { skippedRangeOf } from './rules/skipped-ranges';
import { type AggregateContext, type AnyHandler, emptyStats, type ParkInput, type Run } from './run-context';
import { TableKeys } from './staged-commit';
import { CheckpointStore, CountingClient, DeadLetterStore, type RequestCounter } from './store';
import {
  type CheckpointState,
  type DeadLetterItem,
  emptyCheckpoint,
  type HeldRecord,
  toDeadLetter,
} from './table';
import type {
  BatchSummary,
  GapSweepResult,
  KinesisBatchResponse,
  KinesisEvent,
  LambdaContextLike,
  OpenGap,
  RedriveResult,
} from './types';

/** How long a gap sweep without a Lambda context claims an aggregate (ms). */
const SWEEP_CLAIM_MS = 15 * 60 * 1000;

/** The engine shared by the Lambda handler, the middleware and the dead-letter API. */
export class ConsumerEngine implements AggregateContext {
  /** What the consumer learned of the tables transactional handlers write to. */
  readonly tableKeys = new TableKeys();

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
    // A packed record becomes its events, each with the record's index (failures name the record).
    const records = event.Records.flatMap((record, index) =>
      readKinesisRecord(storedRecordOf(record), index),
    );

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

    // One marker per batch that may run handlers, so a delivery that dies under them is counted.
    const working = [...byAggregate].filter(([aggregateKey, list]) =>
      hasWork(states.get(aggregateKey), list, heldLoaded.has(aggregateKey)),
    );
    const marker =
      working.length > 0
        ? new InFlightMarker(
            new CountingClient(this.options.checkpointClient, run.counter),
            this.options.checkpointTable,
            this.name,
            event.Records[0]!,
            run.id,
          )
        : undefined;
    const previous = marker ? await marker.start(run.now) : undefined;
    if (previous?.died) {
      this.options.logger.warn(
        `tidemark consumer ${this.name}: the previous delivery of this batch did not answer (time-out, out of memory or crash); running its aggregates one at a time`,
        { ...(previous.isolated ? { isolated: previous.isolated } : {}) },
      );
    }
    const isolation =
      (previous?.died || previous?.isolating) && marker
        ? { marker, previous, deathUncounted: false }
        : undefined;

    const tasks: (() => Promise<void>)[] = [];
    for (const record of bad) tasks.push(() => this.parkBadRecord(run, record));
    for (const [aggregateKey, list] of byAggregate) {
      const working = hasWork(states.get(aggregateKey), list, heldLoaded.has(aggregateKey));
      tasks.push(() =>
        this.processAggregate(
          run,
          aggregateKey,
          list,
          states.get(aggregateKey),
          heldLoaded.has(aggregateKey) ? (held.get(aggregateKey) ?? new Map()) : undefined,
          working ? isolation : undefined,
        ),
      );
    }
    await forEachLimited(tasks, isolation ? 1 : this.options.concurrency, (task) => task());
    // A death that could not be counted stays on the marker (unfinished): the next delivery counts it.
    if (marker && run.notCompleted.size > 0 && !isolation?.deathUncounted) {
      try {
        await marker.finish(isolation !== undefined);
      } catch (error) {
        // The next delivery then runs in isolation: slower, never wrong.
        this.options.logger.warn(`tidemark consumer ${this.name}: could not mark the batch answered`, {
          error: describeError(error),
        });
      }
    }

    const firstFailed = run.notCompleted.size > 0 ? Math.min(...run.notCompleted) : undefined;
    const failedSequenceNumber =
      firstFailed === undefined ? undefined : event.Records[firstFailed]!.kinesis.sequenceNumber;
    this.report(run, {
      records: event.Records.length,
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

  /** List, get and delete of this consumer's dead letters (redrive is {@link ConsumerEngine.redrive}). */
  deadLetters(): DeadLetters {
    return deadLetterAccess(this.name, () => this.newRun(undefined).deadLetters);
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
    const owner = `sweep#${randomUUID()}`;
    let cursor: string | undefined;
    do {
      const page = await run.checkpoints.listGaps(cursor);
      for (const gap of page.items) {
        if (this.timeLeft(run) < this.options.timeoutMarginMs) break;
        const state = await run.checkpoints.readCheckpoint(gap.aggregateKey);
        if (!state || state.held.size === 0) {
          // Conditional on the revision read: a batch opening a new gap meanwhile keeps its entry.
          if (await run.checkpoints.deleteStaleGap(gap.aggregateKey, state?.revision)) result.stale += 1;
          continue;
        }
        if (!this.sweepDue(run, state) || this.claimedByOther(run, state, owner)) {
          result.open += 1;
          continue;
        }
        const aggregate = new AggregateRun(this, run, gap.aggregateKey, state, false);
        // A sweep's claim left behind (expired: see `claimedByOther`) means that sweep died, or
        // could not write, while it ran this aggregate's held events. Count it against the event
        // it would run first, as a batch counts a death through its in-flight marker, so a held
        // event that kills every invocation is parked after `maxAttempts` sweeps. From then on
        // each event's completion is written before the next runs, so a later death is pinned on
        // the event that died.
        if (state.claim?.owner.startsWith('sweep#') && state.claim.owner !== owner) {
          aggregate.countDeath(0, []);
          aggregate.flushEachEvent = true;
        }
        // Claim first (the claim write also makes a counted death durable): a batch of this
        // aggregate that read the same revision can no longer run handlers, and one that started
        // earlier holds its own claim.
        if (!(await aggregate.claim(owner, this.claimUntil(run), true))) {
          result.open += 1;
          continue;
        }
        const held = await run.checkpoints.readHeld([
          { aggregateKey: gap.aggregateKey, versions: [...state.held.keys()] },
        ]);
        const expiredBefore = run.stats.gapsExpired;
        await aggregate.process([], held.get(gap.aggregateKey) ?? new Map());
        if (run.stats.gapsExpired > expiredBefore) result.expired += 1;
        else result.open += 1;
      }
      cursor = page.cursor;
    } while (cursor !== undefined && this.timeLeft(run) >= this.options.timeoutMarginMs);
    this.options.logger.info(`tidemark consumer ${this.name}: gap sweep done`, {
      ...result,
      applied: run.stats.applied,
      dynamodbRequests: run.counter.requests,
    });
    return { ...result, applied: run.stats.applied };
  }

  /** Whether a sweep would run anything for this aggregate (its next version is held, or its gap expired). */
  private sweepDue(run: Run, state: CheckpointState): boolean {
    if (state.held.has(state.version + 1)) return true;
    return gapExpiry({
      waiting: state.held.size,
      openSinceMs: heldSince(state),
      nowMs: run.now.getTime(),
      gapTimeoutSeconds: this.options.gapTimeoutSeconds,
      maxHeldPerAggregate: this.options.maxHeldPerAggregate,
    }).expired;
  }

  /** Whether another invocation holds a live claim on the aggregate. */
  private claimedByOther(run: Run, state: CheckpointState, owner: string): boolean {
    return (
      state.claim !== undefined &&
      state.claim.owner !== owner &&
      Date.parse(state.claim.until) > run.now.getTime()
    );
  }

  /** Until when this run may claim an aggregate: its deadline. */
  private claimUntil(run: Run): Date {
    const left = this.timeLeft(run);
    return new Date(run.now.getTime() + (Number.isFinite(left) ? left : SWEEP_CLAIM_MS));
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
    if (letter.minimal || letter.record.dataTruncated || letter.reason === 'held-record-lost') {
      throw new DeadLetterNotRedrivableError(
        this.name,
        id,
        'it does not hold the record data (find the record by its sequence number and publish it again, then delete this dead letter)',
      );
    }
    const read = readStoredRecord(letter.record, -1);
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
  // The consumer as an aggregate's run sees it (AggregateContext)

  /** @internal Whether a batch may apply an aggregate's held records (so they must be read). */
  mayUseHeld(run: Run, state: CheckpointState, records: readonly EventRecord[]): boolean {
    const versions = new Set(records.map((record) => record.envelope.aggregateversion));
    // The next version arrives now, or is held itself (a held event that failed and is retried).
    if (versions.has(state.version + 1) || state.held.has(state.version + 1)) return true;
    if (state.held.size + versions.size > this.options.maxHeldPerAggregate) return true;
    return run.now.getTime() - heldSince(state) >= this.options.gapTimeoutSeconds * 1000;
  }

  /** @internal Milliseconds left before the invocation must answer (Infinity without a context). */
  timeLeft(run: Run): number {
    const remaining = run.lambdaContext?.getRemainingTimeInMillis?.();
    return typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : Number.POSITIVE_INFINITY;
  }

  /** @internal */
  handlerFor(type: string): AnyHandler | undefined {
    return this.options.handlers[type] as AnyHandler | undefined;
  }

  /** @internal */
  definitionFor(type: string): AnyEventDefinition | undefined {
    return this.options.catalog.find(type);
  }

  /** @internal Parks a record (idempotent: the id is stable per record); see `park.ts`. */
  park(run: Run, input: ParkInput): Promise<DeadLetterItem> {
    return parkRecord(this.name, this.options.logger, run, input);
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
      run.stats.parkFailures += 1;
      this.options.logger.error(
        `tidemark consumer ${this.name}: could not park a bad record; it will be delivered again`,
        {
          reason: record.reason,
          sequenceNumber: record.stored.sequenceNumber,
          eventID: record.stored.eventID,
          dataBytes: record.stored.dataBytes,
          error: describeError(error),
        },
      );
      run.notCompleted.add(record.index);
    }
  }

  private async processAggregate(
    run: Run,
    aggregateKey: string,
    records: EventRecord[],
    state: CheckpointState | undefined,
    held: Map<number, HeldRecord> | undefined,
    isolation?: { marker: InFlightMarker; previous: PreviousRun; deathUncounted: boolean },
  ): Promise<void> {
    const initial = state ?? emptyCheckpoint(aggregateKey, records[0]!.aggregate);
    if (this.claimedByOther(run, initial, run.id) && initial.claim!.owner.startsWith('sweep#')) {
      // A gap sweep runs this aggregate's held records right now: leave it for the redelivery.
      // (A claim left by another batch only keeps sweeps away: batches of one shard take turns,
      // and their conditional checkpoint writes settle any overlap.)
      for (const record of records) run.notCompleted.add(record.index);
      run.stats.deferred += records.length;
      this.options.logger.warn(
        `tidemark consumer ${this.name}: a gap sweep is running ${aggregateKey}; its records are left for redelivery`,
        { aggregate: aggregateKey, claimedUntil: initial.claim!.until },
      );
      return;
    }
    const aggregate = new AggregateRun(this, run, aggregateKey, initial, false);
    try {
      if (
        held !== undefined &&
        initial.held.size > 0 &&
        !(await aggregate.claim(run.id, this.claimUntil(run)))
      ) {
        for (const record of records) run.notCompleted.add(record.index);
        return;
      }
      if (isolation) {
        const died = isolation.previous.isolated;
        if (
          died?.aggregateKey === aggregateKey &&
          aggregate.countDeath(died.from, records) &&
          !(await aggregate.flush())
        ) {
          // The count must be durable before the event runs again.
          isolation.deathUncounted = true;
          for (const record of records) run.notCompleted.add(record.index);
          return;
        }
        await isolation.marker.isolate(aggregateKey, aggregate.firstToRun(records));
        aggregate.flushEachEvent = true;
      }
      await aggregate.process(records, held);
    } catch (error) {
      // Unexpected (a bug or a broken store): do not report anything of this aggregate as done.
      this.options.logger.error(`tidemark consumer ${this.name}: processing ${aggregateKey} failed`, {
        error: describeError(error),
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
      id: `batch#${randomUUID()}`,
      stats: emptyStats(),
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
    logger.info(`tidemark consumer ${this.name}: batch done`, { ...summary });
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
      ['ParkFailures', summary.parkFailures],
      ['VersionsSkipped', summary.firstContactSkips],
      ['HandlersNotCompleted', summary.handlersNotCompleted],
      ['EventsUnreadable', summary.unreadable],
      ['DynamoDbRequests', summary.dynamodbRequests],
    ];
    for (const [name, value] of metrics) metric(name, value);
    onBatchSummary?.(summary);
  }
}

/** Whether a batch may run handlers for an aggregate (anything beyond or skipped below its mark). */
function hasWork(
  state: CheckpointState | undefined,
  records: readonly EventRecord[],
  heldLoaded: boolean,
): boolean {
  if (state === undefined || heldLoaded) return true;
  return records.some((record) => {
    const version = record.envelope.aggregateversion;
    return version > state.version || skippedRangeOf(state.skipped, version) !== undefined;
  });
}
