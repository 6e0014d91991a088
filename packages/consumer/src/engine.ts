/**
 * The consumer engine: one instance behind `createConsumer` and the middy middleware.
 *
 * Per batch: read every record; park bad ones; read the checkpoints of the batch's aggregates in
 * one BatchGetItem (per 100); then per aggregate (`AggregateRun`), in version order, apply what is
 * next, skip what is done, hold what is beyond a gap; write the checkpoint once (conditionally).
 * Report the lowest record not completed to Lambda. The dead-letter API (`dead-letters.ts`), redrive
 * (`redrive.ts`) and the gap sweep (`gap-sweep.ts`) run over the same engine as its narrow
 * `AggregateContext`.
 */
import { randomUUID } from 'node:crypto';
import type { AnyEventDefinition } from '@tidemark/core';
import { describeError, forEachLimited } from '@tidemark/core/internal';
import { AggregateRun } from './aggregate-run';
import { reportBatch } from './batch-report';
import { heldSince } from './checkpoint-draft';
import { type CheckpointState, emptyCheckpoint } from './checkpoint-item';
import { CheckpointStore } from './checkpoint-store';
import { claimedByOther, claimUntil } from './claims';
import { CountingClient, type RequestCounter } from './counting-client';
import type { DeadLetterItem } from './dead-letter-item';
import { DeadLetterStore } from './dead-letter-store';
import { type DeadLetters, deadLetterAccess } from './dead-letters';
import { expireGaps, listOpenGaps } from './gap-sweep';
import type { HeldRecord } from './held-item';
import { InFlightMarker, type PreviousRun } from './in-flight';
import type { ResolvedConsumerOptions } from './options';
import { parkRecord } from './park';
import { type EventRecord, type ReadRecord, readKinesisRecord, storedRecordOf } from './records';
import { redrive } from './redrive';
import { skippedRangeOf } from './rules/skipped-ranges';
import { type AggregateContext, type AnyHandler, emptyStats, type ParkInput, type Run } from './run-context';
import { TableKeys } from './staged-commit';
import type {
  GapSweepResult,
  KinesisBatchResponse,
  KinesisEvent,
  LambdaContextLike,
  OpenGap,
  RedriveResult,
} from './types';

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
    reportBatch(this.name, this.options, run, {
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
  // Dead letters, redrive and the gap sweep (each in its own module)

  /** List, get and delete of this consumer's dead letters (redrive is {@link ConsumerEngine.redrive}). */
  deadLetters(): DeadLetters {
    return deadLetterAccess(this.name, () => this.newRun(undefined).deadLetters);
  }

  /** Lists the aggregates that hold records because of a gap (the open-gap index). */
  openGaps(): Promise<OpenGap[]> {
    return listOpenGaps(this.newRun(undefined).checkpoints);
  }

  /**
   * Evaluates every open gap as if a record of its aggregate had arrived: a gap open for
   * `gapTimeoutSeconds` is parked and skipped over and its held records applied. For aggregates
   * that get no further records; run it on a schedule.
   */
  expireGaps(lambdaContext?: LambdaContextLike): Promise<GapSweepResult> {
    return expireGaps(this, this.newRun(lambdaContext));
  }

  /**
   * Re-runs a parked record through the handlers with the idempotency rules: a parked version is
   * applied once (the checkpoint lists it in `parked` until then), then the dead letter is deleted.
   */
  redrive(id: string): Promise<RedriveResult> {
    return redrive(this, this.newRun(undefined), id);
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
    if (claimedByOther(run, initial, run.id) && initial.claim!.owner.startsWith('sweep#')) {
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
        !(await aggregate.claim(run.id, claimUntil(this, run)))
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
