/**
 * The engine shared by the Kinesis and DynamoDB Streams event sources: the source's lifecycle
 * (`start`, `drain`, `stop`), shard discovery (parents before children, new shards after
 * resharding), one read loop per shard with one batch in flight, and carrying out the retry policy's
 * decisions (checkpoint, retry, bisect, give up). Invoking the function is `FunctionInvoker`'s job,
 * the shard's batching `shard-state.ts`'s, the decisions `retry-policy.ts`'s, on-failure records
 * `on-failure-record.ts`'s and drain accounting `drain-accounting.ts`'s.
 *
 * @internal
 */
import { EventSourceDrainTimeoutError, EventSourceFailedError, EventSourceStateError } from '../errors';
import { lambdaFunctionArn } from '../lambda-context';
import { isDrained, pendingWork } from './drain-accounting';
import { FunctionInvoker } from './function-invoker';
import { onFailureParts } from './on-failure-record';
import type { ResolvedStreamSettings } from './options';
import { classifyReadError } from './read-errors';
import { type BatchWork, decideAfterInvocation, expiredPrefix, retryDelayMs } from './retry-policy';
import { idleWaitMs, newShardState, nextStep, type ShardState } from './shard-state';
import type { ShardDescription, ShardPosition, StreamAdapter } from './stream-adapter';
import type { DrainOptions, EventSourceInvocation, OnFailureCondition, StreamEventSource } from './types';

/** How often the shard list is read again to find new shards (resharding). */
export const SHARD_REFRESH_INTERVAL_MS = 2000;

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** The event source engine. */
export class StreamEventSourceEngine<TRaw, TRecord, TEvent, TResponse, TFailure>
  implements StreamEventSource<TEvent, TResponse, TFailure>
{
  readonly invocations: EventSourceInvocation<TEvent, TResponse>[] = [];
  readonly onFailure: TFailure[] = [];
  streamArn: string | undefined;

  readonly #adapter: StreamAdapter<TRaw, TRecord, TEvent, TFailure>;
  readonly #settings: ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord>;
  readonly #initialPosition: ShardPosition;
  readonly #shards = new Map<string, ShardState<TRecord>>();
  readonly #listeners = new Set<() => void>();
  readonly #abort = new AbortController();
  #state: State = 'created';
  #fatal: EventSourceFailedError | undefined;
  #tick = 0;
  #refreshedTick = 0;
  #refreshWake: (() => void) | undefined;
  #refreshLoop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #region = 'us-east-1';
  #functionArn = '';
  readonly #invoker: FunctionInvoker<TEvent, TResponse>;

  constructor(
    adapter: StreamAdapter<TRaw, TRecord, TEvent, TFailure>,
    settings: ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord>,
    initialPosition: ShardPosition,
  ) {
    this.#adapter = adapter;
    this.#settings = settings;
    this.#initialPosition = initialPosition;
    this.#invoker = new FunctionInvoker(settings);
  }

  async start(): Promise<void> {
    if (this.#state !== 'created') {
      throw new EventSourceStateError(
        `${this.#adapter.description}: start() can be called once, before stop()`,
        {
          state: this.#state,
        },
      );
    }
    this.#state = 'starting';
    try {
      this.#region = await this.#adapter.region();
      const tick = ++this.#tick;
      const { streamArn, shards } = await this.#retryTransient(() =>
        this.#adapter.describe(this.#abort.signal),
      );
      this.streamArn = streamArn;
      const accountId = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(streamArn)?.[1] ?? '000000000000';
      this.#functionArn = lambdaFunctionArn(this.#settings.functionName, this.#region, accountId);
      for (const shard of shards) this.#addShard(shard, this.#initialPosition);
      if (this.#initialPosition.type === 'LATEST') {
        // LATEST is "now": take the positions of the open shards before start() resolves.
        for (const shard of this.#shards.values()) {
          if (shard.closed) continue;
          shard.iterator = await this.#retryTransient(() =>
            this.#adapter.getIterator(shard.shardId, shard.position, this.#abort.signal),
          );
          shard.positioned = true;
          if (shard.iterator === undefined) shard.closed = true;
        }
      }
      this.#refreshedTick = tick;
    } catch (error) {
      if (this.#state === 'starting') {
        this.#state = 'stopped';
        this.#adapter.close();
      }
      throw error instanceof EventSourceFailedError
        ? error
        : new EventSourceFailedError(this.#adapter.description, 'starting', error);
    }
    if (this.#state !== 'starting') {
      throw new EventSourceStateError(`${this.#adapter.description}: stopped while starting`, {
        state: this.#state,
      });
    }
    this.#state = 'running';
    for (const shard of this.#shards.values()) shard.loop = this.#runShard(shard);
    this.#refreshLoop = this.#runRefresh();
  }

  async drain(options: DrainOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.#fatal) throw this.#fatal;
    if (this.#state !== 'running') {
      throw new EventSourceStateError(
        `${this.#adapter.description}: drain() needs a started, running source`,
        {
          state: this.#state,
        },
      );
    }
    const ticket = ++this.#tick;
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (this.#fatal) finish(this.#fatal);
        else if (this.#state !== 'running') {
          finish(new EventSourceStateError(`${this.#adapter.description}: stopped while draining`, {}));
        } else if (isDrained(this.#drainView(), ticket)) finish();
      };
      const timer = setTimeout(
        () =>
          finish(
            new EventSourceDrainTimeoutError(
              this.#adapter.description,
              timeoutMs,
              pendingWork(this.#drainView(), ticket),
            ),
          ),
        timeoutMs,
      );
      this.#listeners.add(check);
      this.#refreshWake?.();
      this.#wakeShards();
      check();
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    this.#abort.abort();
    this.#refreshWake?.();
    this.#wakeShards();
    if (wasRunning) {
      await Promise.allSettled([this.#refreshLoop, ...[...this.#shards.values()].map((shard) => shard.loop)]);
    }
    this.#state = 'stopped';
    this.#notify();
    this.#adapter.close();
  }

  /** Runs a call of `start()`, retrying errors that retrying can fix (throttling) for up to 30 s. */
  async #retryTransient<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        const kind = classifyReadError(error);
        if (kind === 'fatal' || this.#state !== 'starting' || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  get #running(): boolean {
    return this.#state === 'running' && this.#fatal === undefined;
  }

  #addShard(description: ShardDescription, position: ShardPosition): ShardState<TRecord> {
    const shard = newShardState<TRecord>(description, position);
    this.#shards.set(shard.shardId, shard);
    return shard;
  }

  #parentsFinished(shard: ShardState<unknown>): boolean {
    return shard.parentShardIds.every((id) => this.#shards.get(id)?.finished ?? true);
  }

  async #runShard(shard: ShardState<TRecord>): Promise<void> {
    try {
      while (this.#running && !shard.finished) {
        if (!this.#parentsFinished(shard)) {
          await this.#sleep(shard, 60_000);
          continue;
        }
        let read = 0;
        if (!shard.closed && shard.buffer.length < this.#settings.batchSize) {
          read = await this.#read(shard);
          if (!this.#running) break;
        }
        const step = nextStep(shard, this.#settings, Date.now());
        if (step === 'invoke') {
          await this.#work(shard);
          continue;
        }
        if (shard.closed && shard.buffer.length === 0 && shard.work.length === 0) {
          shard.finished = true;
          this.#notify();
          this.#wakeShards();
          this.#refreshWake?.();
          break;
        }
        if (read > 0) continue;
        const idle = idleWaitMs(shard, this.#settings.pollIntervalMs);
        await this.#sleep(shard, step === 'idle' ? idle : Math.min(idle, Math.max(1, step - Date.now())));
      }
    } catch (error) {
      this.#fail('processing', error, { shardId: shard.shardId });
    }
  }

  /** Reads once; returns how many records were added to the buffer. */
  async #read(shard: ShardState<TRecord>): Promise<number> {
    const tick = ++this.#tick;
    try {
      if (!shard.positioned) {
        shard.iterator = await this.#adapter.getIterator(shard.shardId, shard.position, this.#abort.signal);
        shard.positioned = true;
        if (shard.iterator === undefined) {
          shard.closed = true;
          shard.caughtUpTick = tick;
          return 0;
        }
      }
      if (shard.iterator === undefined) return 0;
      const limit = Math.min(this.#settings.batchSize - shard.buffer.length, this.#adapter.maxRecordsPerRead);
      const result = await this.#adapter.getRecords(shard.iterator, limit, this.#abort.signal);
      shard.readErrorStreak = 0;
      shard.lastReadError = undefined;
      const now = Date.now();
      for (const raw of result.records) {
        const converted = this.#adapter.convert(raw, shard.shardId, this.streamArn ?? '', this.#region);
        shard.buffer.push({
          ...converted,
          readAtMs: now,
          payloadBytes: Buffer.byteLength(JSON.stringify(converted.record)) + 1,
        });
        shard.position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: converted.sequenceNumber };
      }
      shard.iterator = result.nextIterator;
      if (result.nextIterator === undefined) shard.closed = true;
      if (result.records.length === 0 || shard.closed) shard.caughtUpTick = tick;
      shard.emptyReadStreak = result.records.length === 0 ? shard.emptyReadStreak + 1 : 0;
      this.#notify();
      return result.records.length;
    } catch (error) {
      if (!this.#running) return 0;
      const kind = classifyReadError(error);
      if (kind === 'fatal') {
        this.#fail('reading the stream', error, { shardId: shard.shardId });
        return 0;
      }
      shard.lastReadError = error;
      shard.readErrorStreak += 1;
      if (kind === 'expired-iterator') shard.positioned = false;
      if (kind === 'trimmed') {
        shard.position = { type: 'TRIM_HORIZON' };
        shard.positioned = false;
      }
      return 0;
    }
  }

  /** Runs the batch at the head of the shard's work once, and applies the decision. */
  async #work(shard: ShardState<TRecord>): Promise<void> {
    const work = shard.work[0]!;
    const expired = expiredPrefix(
      shard.buffer.slice(0, work.size).map((record) => record.arrivalMs),
      this.#settings.clock(),
      this.#settings.maximumRecordAgeInSeconds,
    );
    if (expired > 0) {
      await this.#discard(shard, expired, work.invocations, 'RecordAgeExceeded');
      if (work.size === expired) shard.work.shift();
      else shard.work[0] = { ...work, size: work.size - expired };
      this.#notify();
      return;
    }
    const outcome = await this.#invoke(shard, { ...work, invocations: work.invocations + 1 });
    const invoked: BatchWork = { ...work, invocations: work.invocations + 1 };
    const decision = decideAfterInvocation(invoked, outcome, this.#settings);
    switch (decision.type) {
      case 'checkpoint':
        shard.buffer.splice(0, decision.checkpoint);
        shard.work.shift();
        break;
      case 'retry':
        shard.buffer.splice(0, decision.checkpoint);
        shard.work[0] = decision.work;
        // A partial failure that moved the checkpoint made progress: retry the rest at once. A
        // retry of the same records waits (50 ms, doubling up to 1 s), so a failing handler is not
        // hammered. Either way the retry counts against maximumRetryAttempts.
        shard.notBeforeMs = decision.checkpoint > 0 ? 0 : Date.now() + retryDelayMs(decision.work.retries);
        break;
      case 'split':
        shard.work.splice(0, 1, ...decision.halves);
        break;
      case 'discard':
        shard.buffer.splice(0, decision.checkpoint);
        await this.#discard(shard, decision.discard, decision.work.invocations, 'RetryAttemptsExhausted');
        shard.work.shift();
        break;
    }
    this.#notify();
  }

  /** Invokes the function with the batch `work` at the head of the shard's buffer. */
  async #invoke(shard: ShardState<TRecord>, work: BatchWork) {
    const records = shard.buffer.slice(0, work.size);
    shard.inFlight = true;
    try {
      const result = await this.#invoker.invoke({
        shardId: shard.shardId,
        event: this.#adapter.toEvent(records.map((record) => structuredClone(record.record))),
        sequenceNumbers: records.map((record) => record.sequenceNumber),
        attempt: work.invocations,
        functionArn: this.#functionArn,
        region: this.#region,
      });
      this.invocations.push(result.invocation);
      shard.lastInvocation = {
        awsRequestId: result.invocation.awsRequestId,
        functionError: result.functionError,
      };
      if (result.responseIgnored) {
        this.#fail('invoking the handler', result.responseIgnored, { shardId: shard.shardId });
      }
      return result.outcome;
    } finally {
      shard.inFlight = false;
    }
  }

  /** Gives up on the first `count` buffered records: on-failure destination, then checkpoint. */
  async #discard(
    shard: ShardState<TRecord>,
    count: number,
    invocations: number,
    condition: OnFailureCondition,
  ): Promise<void> {
    const records = shard.buffer.slice(0, count);
    const { base, batchInfo } = onFailureParts({
      shardId: shard.shardId,
      streamArn: this.streamArn ?? '',
      functionArn: this.#functionArn,
      records,
      invocations,
      lastInvocation: shard.lastInvocation,
      condition,
      formatArrival: (ms) => this.#adapter.formatArrival(ms),
    });
    const failure = this.#adapter.toFailure(base, batchInfo);
    this.onFailure.push(failure);
    shard.buffer.splice(0, count);
    if (this.#settings.onFailure) {
      try {
        await this.#settings.onFailure(
          failure,
          records.map((record) => structuredClone(record.record)),
        );
      } catch (error) {
        this.#fail('the onFailure callback', error, { shardId: shard.shardId });
      }
    }
  }

  async #runRefresh(): Promise<void> {
    while (this.#running) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, SHARD_REFRESH_INTERVAL_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#refreshWake = done;
      });
      this.#refreshWake = undefined;
      if (!this.#running) break;
      const tick = ++this.#tick;
      try {
        const { shards } = await this.#adapter.describe(this.#abort.signal);
        for (const description of shards) {
          const known = this.#shards.get(description.shardId);
          if (known) {
            known.parentShardIds = description.parentShardIds;
            continue;
          }
          // A shard that appears after start (a child after resharding) is read from its start.
          const shard = this.#addShard(description, { type: 'TRIM_HORIZON' });
          if (this.#running) shard.loop = this.#runShard(shard);
        }
        this.#refreshedTick = tick;
        this.#notify();
      } catch (error) {
        if (!this.#running) break;
        if (classifyReadError(error) === 'fatal') this.#fail('listing shards', error);
      }
    }
  }

  #drainView() {
    return {
      shards: this.#shards.values(),
      refreshedTick: this.#refreshedTick,
      parentsFinished: (shard: ShardState<unknown>) => this.#parentsFinished(shard),
    };
  }

  #fail(operation: string, error: unknown, context: Record<string, unknown> = {}): void {
    if (this.#fatal || this.#state !== 'running') return;
    this.#fatal = new EventSourceFailedError(this.#adapter.description, operation, error, context);
    this.#wakeShards();
    this.#refreshWake?.();
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #wakeShards(): void {
    for (const shard of this.#shards.values()) {
      shard.emptyReadStreak = 0;
      shard.wake?.();
    }
  }

  #sleep(shard: ShardState<TRecord>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        shard.wake = undefined;
        resolve();
      }
      shard.wake = done;
    });
  }
}
