/**
 * The engine shared by the Kinesis and DynamoDB Streams event sources: one poller per shard
 * (parents before children), one batch in flight per shard, Lambda's batching, checkpointing,
 * retry, bisect and discard rules (see `retry-policy.ts`), and `drain()`.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import {
  EventSourceConfigurationError,
  EventSourceDrainTimeoutError,
  EventSourceFailedError,
  EventSourceStateError,
  FunctionTimeoutError,
  HandlerResponseIgnoredError,
  type PendingShardWork,
  PendingWorkError,
} from '../errors';
import { fakeLambdaContext, lambdaFunctionArn } from '../lambda-context';
import type { ResolvedStreamSettings } from './options';
import { InvocationWork, idle, pendingAfterSettle, runTracked } from './pending-work';
import {
  type BatchWork,
  decideAfterInvocation,
  expiredPrefix,
  type InvocationOutcome,
  interpretResponse,
  retryDelayMs,
} from './retry-policy';
import type {
  DrainOptions,
  EventSourceInvocation,
  OnFailureCondition,
  OnFailureRecordBase,
  StreamBatchInfo,
  StreamEventSource,
  StreamHandler,
} from './types';

/** The longest an idle shard waits between reads (unless `pollIntervalMs` is longer). */
export const MAX_IDLE_POLL_MS = 500;
/** How often the shard list is read again to find new shards (resharding). */
export const SHARD_REFRESH_INTERVAL_MS = 2000;

/** Lambda's limit on a function's init phase (here: importing `handlerModule`), in ms. */
export const INIT_TIMEOUT_MS = 10_000;

/** Lambda's payload limit for a synchronous invocation, in bytes. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Where a shard iterator starts. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** A shard as the stream describes it. */
export interface ShardDescription {
  readonly shardId: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when present. */
  readonly parentShardIds: readonly string[];
  /** Whether the shard is closed (has an ending sequence number). */
  readonly closed: boolean;
}

/** One record read from a shard, converted to the shape Lambda delivers. */
export interface ConvertedRecord<TRecord> {
  readonly record: TRecord;
  readonly sequenceNumber: string;
  /** When the record arrived in the stream, epoch ms. */
  readonly arrivalMs: number;
}

/** How an AWS error is handled while reading. */
export type ReadErrorKind = 'transient' | 'expired-iterator' | 'trimmed' | 'fatal';

/** What the engine needs from a stream service. */
export interface StreamAdapter<TRaw, TRecord, TEvent, TFailure> {
  /** For messages: `Kinesis stream my-stream`. */
  readonly description: string;
  /** The most records one GetRecords call may return. */
  readonly maxRecordsPerRead: number;
  /** The region of the client, for ARNs and records. */
  region(): Promise<string>;
  /** The stream ARN and its shards. */
  describe(signal: AbortSignal): Promise<{ streamArn: string; shards: readonly ShardDescription[] }>;
  /** A shard iterator, or `undefined` if the shard has nothing at that position and is closed. */
  getIterator(shardId: string, position: ShardPosition, signal: AbortSignal): Promise<string | undefined>;
  /** One GetRecords call. `nextIterator` is `undefined` once a closed shard is read to its end. */
  getRecords(
    iterator: string,
    limit: number,
    signal: AbortSignal,
  ): Promise<{ records: readonly TRaw[]; nextIterator: string | undefined }>;
  /** Converts a raw record to the record Lambda delivers. */
  convert(raw: TRaw, shardId: string, streamArn: string, region: string): ConvertedRecord<TRecord>;
  /** Wraps records in the event Lambda delivers. */
  toEvent(records: TRecord[]): TEvent;
  /** Wraps the common on-failure fields and the batch info in the service's on-failure record. */
  toFailure(base: OnFailureRecordBase, batchInfo: StreamBatchInfo): TFailure;
  /** Formats an arrival time for the batch info. */
  formatArrival(ms: number): string;
  /** Releases clients the adapter created itself. */
  close(): void;
}

interface BufferedRecord<TRecord> extends ConvertedRecord<TRecord> {
  /** When the poller read it, epoch ms (for the batching window). */
  readonly readAtMs: number;
  /** Its share of the invocation payload, in bytes. */
  readonly payloadBytes: number;
}

interface LastInvocation {
  readonly awsRequestId: string;
  readonly functionError: boolean;
}

interface ShardRuntime<TRecord> {
  readonly shardId: string;
  parentShardIds: readonly string[];
  position: ShardPosition;
  iterator: string | undefined;
  /** Whether the iterator (or the decision that the shard has nothing) was taken. */
  positioned: boolean;
  /** GetRecords said the shard ends here. */
  closed: boolean;
  /** Closed and everything in it handled or given up on. */
  finished: boolean;
  buffer: BufferedRecord<TRecord>[];
  work: BatchWork[];
  notBeforeMs: number;
  inFlight: boolean;
  /** The tick of the last read that started after … and found nothing new. */
  caughtUpTick: number;
  lastInvocation: LastInvocation | undefined;
  lastReadError: unknown;
  readErrorStreak: number;
  /** Reads in a row that found nothing new (the idle poll interval grows with it). */
  emptyReadStreak: number;
  wake: (() => void) | undefined;
  loop: Promise<void> | undefined;
}

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
  readonly #shards = new Map<string, ShardRuntime<TRecord>>();
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
  #handlerInstance: Promise<StreamHandler<TEvent, TResponse>> | undefined;
  #handlerInstances = 0;

  constructor(
    adapter: StreamAdapter<TRaw, TRecord, TEvent, TFailure>,
    settings: ResolvedStreamSettings<TEvent, TResponse, TFailure, TRecord>,
    initialPosition: ShardPosition,
  ) {
    this.#adapter = adapter;
    this.#settings = settings;
    this.#initialPosition = initialPosition;
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
        } else if (this.#isDrained(ticket)) finish();
      };
      const timer = setTimeout(
        () =>
          finish(
            new EventSourceDrainTimeoutError(this.#adapter.description, timeoutMs, this.#pending(ticket)),
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

  #addShard(description: ShardDescription, position: ShardPosition): ShardRuntime<TRecord> {
    const shard: ShardRuntime<TRecord> = {
      shardId: description.shardId,
      parentShardIds: description.parentShardIds,
      position,
      iterator: undefined,
      positioned: false,
      closed: false,
      finished: false,
      buffer: [],
      work: [],
      notBeforeMs: 0,
      inFlight: false,
      caughtUpTick: 0,
      lastInvocation: undefined,
      lastReadError: undefined,
      readErrorStreak: 0,
      emptyReadStreak: 0,
      wake: undefined,
      loop: undefined,
    };
    // With LATEST, a shard that is already closed has nothing after "now".
    if (description.closed && position.type === 'LATEST') {
      shard.closed = true;
      shard.finished = true;
      shard.positioned = true;
    }
    this.#shards.set(shard.shardId, shard);
    return shard;
  }

  #parentsFinished(shard: ShardRuntime<TRecord>): boolean {
    return shard.parentShardIds.every((id) => this.#shards.get(id)?.finished ?? true);
  }

  async #runShard(shard: ShardRuntime<TRecord>): Promise<void> {
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
        const step = this.#nextStep(shard);
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
        const idle = this.#backoff(shard);
        await this.#sleep(shard, step === 'idle' ? idle : Math.min(idle, Math.max(1, step - Date.now())));
      }
    } catch (error) {
      this.#fail('processing', error, { shardId: shard.shardId });
    }
  }

  /**
   * How long an idle shard waits before reading again: `pollIntervalMs`, doubling while reads
   * keep finding nothing up to {@link MAX_IDLE_POLL_MS} (drain() and stop() wake it at once); after
   * read errors, 50 ms doubling up to 1 s.
   */
  #backoff(shard: ShardRuntime<TRecord>): number {
    const poll = this.#settings.pollIntervalMs;
    if (shard.readErrorStreak > 0) return Math.max(poll, Math.min(1000, 50 * 2 ** shard.readErrorStreak));
    const idle = poll * 2 ** Math.min(10, Math.max(0, shard.emptyReadStreak - 1));
    return Math.min(Math.max(poll, MAX_IDLE_POLL_MS), idle);
  }

  /** Reads once; returns how many records were added to the buffer. */
  async #read(shard: ShardRuntime<TRecord>): Promise<number> {
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

  /** `'invoke'`, `'idle'` (nothing to do), or the epoch ms to wait until. */
  #nextStep(shard: ShardRuntime<TRecord>): 'invoke' | 'idle' | number {
    const now = Date.now();
    if (shard.work.length === 0) {
      if (shard.buffer.length === 0) return 'idle';
      const size = this.#batchLimit(shard.buffer);
      const windowMs = this.#settings.maximumBatchingWindowInSeconds * 1000;
      const full = size >= this.#settings.batchSize || size < shard.buffer.length;
      const windowOver = windowMs === 0 || now - shard.buffer[0]!.readAtMs >= windowMs;
      if (!full && !windowOver && !shard.closed) return shard.buffer[0]!.readAtMs + windowMs;
      shard.work.push({ size, retries: 0, invocations: 0 });
    }
    return shard.notBeforeMs > now ? shard.notBeforeMs : 'invoke';
  }

  /** How many buffered records fit one invocation (batch size and payload limit). */
  #batchLimit(buffer: readonly BufferedRecord<TRecord>[]): number {
    let bytes = 16;
    let count = 0;
    for (const record of buffer) {
      if (count >= this.#settings.batchSize) break;
      if (count > 0 && bytes + record.payloadBytes > MAX_INVOCATION_PAYLOAD_BYTES) break;
      bytes += record.payloadBytes;
      count += 1;
    }
    return count;
  }

  /** Runs the batch at the head of the shard's work once, and applies the decision. */
  async #work(shard: ShardRuntime<TRecord>): Promise<void> {
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

  async #invoke(shard: ShardRuntime<TRecord>, work: BatchWork): Promise<InvocationOutcome> {
    const records = shard.buffer.slice(0, work.size);
    const sequenceNumbers = records.map((record) => record.sequenceNumber);
    const event = this.#adapter.toEvent(records.map((record) => structuredClone(record.record)));
    const recordedEvent = structuredClone(event);
    const context: Context = fakeLambdaContext({
      functionName: this.#settings.functionName,
      invokedFunctionArn: this.#functionArn,
      region: this.#region,
      memoryLimitInMB: this.#settings.memoryLimitInMB,
      timeoutSeconds: this.#settings.functionTimeoutSeconds,
    });
    const startedAt = new Date();
    const timeoutMs = this.#settings.functionTimeoutSeconds * 1000;
    shard.inFlight = true;
    let timer: NodeJS.Timeout | undefined;
    type Result =
      | { kind: 'returned'; response: unknown }
      | { kind: 'threw'; error: unknown }
      | { kind: 'pending-work'; response: unknown; error: PendingWorkError }
      | { kind: 'timeout' };
    const inFlight = new InvocationWork();
    const answered: { by?: 'promise' | 'callback' | 'return' } = {};
    // The handler module's import is Lambda's init phase: it does not count against the timeout.
    let handler: StreamHandler<TEvent, TResponse> | undefined = this.#settings.handler;
    let loadError: unknown;
    let initTimer: NodeJS.Timeout | undefined;
    if (handler === undefined) {
      try {
        handler = await Promise.race([
          this.#handler(),
          new Promise<never>((_, reject) => {
            initTimer = setTimeout(
              () => reject(new FunctionTimeoutError(INIT_TIMEOUT_MS / 1000, context.awsRequestId)),
              INIT_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (error) {
        loadError = error;
        // An import that never finishes is abandoned: the next invocation imports again.
        if (error instanceof FunctionTimeoutError) this.#handlerInstance = undefined;
      } finally {
        clearTimeout(initTimer);
      }
    }
    const call = handler;
    const settled = (
      call === undefined
        ? Promise.reject(loadError)
        : runTracked(inFlight, () => callHandler(call, event, context, answered))
    ).then(
      async (response): Promise<Result> => {
        // An async handler's invocation ends when its promise settles: Lambda freezes what is left.
        // A handler that answered through the callback (or returned nothing) ends, by default
        // (`callbackWaitsForEmptyEventLoop`), only when the work it started is done: wait for it.
        if (answered.by !== 'promise' && context.callbackWaitsForEmptyEventLoop !== false) {
          await idle(inFlight, startedAt.getTime() + timeoutMs);
        }
        const pending = await pendingAfterSettle(inFlight);
        if (pending.length === 0) return { kind: 'returned', response };
        return {
          kind: 'pending-work',
          response,
          error: new PendingWorkError(context.awsRequestId, pending),
        };
      },
      (error: unknown): Result => ({ kind: 'threw', error }),
    );
    const result: Result = await Promise.race([
      settled,
      new Promise<Result>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    let outcome: InvocationOutcome;
    let error: unknown;
    let response: unknown;
    if (result.kind === 'timeout') {
      error = new FunctionTimeoutError(this.#settings.functionTimeoutSeconds, context.awsRequestId);
      outcome = { kind: 'failure', reason: 'timeout' };
    } else if (result.kind === 'threw') {
      error = result.error;
      outcome = { kind: 'failure', reason: 'error' };
    } else if (result.kind === 'pending-work') {
      response = result.response;
      error = result.error;
      outcome = { kind: 'failure', reason: 'pending-work' };
    } else {
      response = result.response;
      outcome = interpretResponse(response, sequenceNumbers, this.#settings.reportBatchItemFailures);
    }
    const invocation: EventSourceInvocation<TEvent, TResponse> = {
      shardId: shard.shardId,
      awsRequestId: context.awsRequestId,
      event: recordedEvent,
      sequenceNumbers,
      attempt: work.invocations,
      outcome: outcome.kind,
      ...(result.kind === 'returned' ? { response: response as TResponse } : { error }),
      timedOut: result.kind === 'timeout',
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
    };
    this.invocations.push(invocation);
    shard.lastInvocation = { awsRequestId: context.awsRequestId, functionError: result.kind !== 'returned' };
    if (result.kind === 'threw' && result.error instanceof HandlerResponseIgnoredError) {
      this.#fail('invoking the handler', result.error, { shardId: shard.shardId });
    }
    if (result.kind === 'timeout') {
      // Lambda ends a timed-out invocation and retries in a new execution environment. A promise
      // cannot be ended: it is abandoned (what it does later is not recorded) and the shard goes
      // on. With `handlerModule`, the next invocation runs in a freshly imported module.
      this.#handlerInstance = undefined;
    }
    shard.inFlight = false;
    return outcome;
  }

  /** The handler: the given one, or the current instance of `handlerModule` (imported when needed). */
  #handler(): Promise<StreamHandler<TEvent, TResponse>> {
    const { handler, handlerModule, handlerExport } = this.#settings;
    if (handler) return Promise.resolve(handler);
    if (this.#handlerInstance) return this.#handlerInstance;
    const instance = ++this.#handlerInstances;
    const loading = (async () => {
      const loaded = (await handlerModule!(instance)) as Record<string, unknown> | undefined;
      const exported = loaded?.[handlerExport];
      if (typeof exported !== 'function') {
        throw new EventSourceConfigurationError(
          `handlerModule's module has no function export "${handlerExport}" (exports: ${Object.keys(loaded ?? {}).join(', ') || 'none'})`,
          { handlerExport, instance },
        );
      }
      return exported as StreamHandler<TEvent, TResponse>;
    })();
    this.#handlerInstance = loading;
    // A failed import fails the invocation (as an init error does on Lambda); the next one imports again.
    loading.catch(() => {
      if (this.#handlerInstance === loading) this.#handlerInstance = undefined;
    });
    return loading;
  }

  /** Gives up on the first `count` buffered records: on-failure destination, then checkpoint. */
  async #discard(
    shard: ShardRuntime<TRecord>,
    count: number,
    invocations: number,
    condition: OnFailureCondition,
  ): Promise<void> {
    const records = shard.buffer.slice(0, count);
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const invoked = invocations > 0 && shard.lastInvocation !== undefined;
    const base: OnFailureRecordBase = {
      requestContext: {
        requestId: invoked ? shard.lastInvocation!.awsRequestId : randomUUID(),
        functionArn: this.#functionArn,
        condition,
        approximateInvokeCount: invocations,
      },
      responseContext: invoked
        ? {
            statusCode: 200,
            executedVersion: '$LATEST',
            functionError: shard.lastInvocation!.functionError ? 'Unhandled' : null,
          }
        : { statusCode: 0, executedVersion: '$LATEST', functionError: null },
      version: '1.0',
      timestamp: new Date().toISOString(),
    };
    const failure = this.#adapter.toFailure(base, {
      shardId: shard.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: this.#adapter.formatArrival(first.arrivalMs),
      approximateArrivalOfLastRecord: this.#adapter.formatArrival(last.arrivalMs),
      batchSize: records.length,
      streamArn: this.streamArn ?? '',
    });
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

  #isDrained(ticket: number): boolean {
    if (this.#refreshedTick <= ticket) return false;
    for (const shard of this.#shards.values()) {
      if (shard.finished) continue;
      if (shard.inFlight || shard.buffer.length > 0 || shard.work.length > 0) return false;
      if (shard.caughtUpTick <= ticket) return false;
    }
    return true;
  }

  #pending(ticket: number): PendingShardWork[] {
    const pending: PendingShardWork[] = [];
    for (const shard of this.#shards.values()) {
      if (shard.finished) continue;
      const caughtUp = shard.caughtUpTick > ticket;
      if (caughtUp && !shard.inFlight && shard.buffer.length === 0 && shard.work.length === 0) continue;
      pending.push({
        shardId: shard.shardId,
        bufferedRecords: shard.buffer.length,
        ...(shard.buffer[0] ? { firstPendingSequenceNumber: shard.buffer[0].sequenceNumber } : {}),
        invocationInFlight: shard.inFlight,
        retryingBatchInvocations: shard.work[0]?.invocations ?? 0,
        caughtUp,
        waitingForParent: !this.#parentsFinished(shard),
        ...(shard.lastReadError !== undefined ? { lastReadError: describeError(shard.lastReadError) } : {}),
      });
    }
    return pending;
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

  #sleep(shard: ShardRuntime<TRecord>, ms: number): Promise<void> {
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

/**
 * Calls a handler the way the Node.js runtime does: a returned promise is awaited; a handler that
 * declares the callback parameter and returns no promise answers through the callback; otherwise
 * what it returned is its answer. A synchronous throw is a failure like a rejection.
 */
export function callHandler<TEvent, TResponse>(
  handler: StreamHandler<TEvent, TResponse>,
  event: TEvent,
  context: Context,
  answered: { by?: 'promise' | 'callback' | 'return' } = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error?: Error | string | null, result?: unknown) => {
      answered.by ??= 'callback';
      if (error !== undefined && error !== null) reject(typeof error === 'string' ? new Error(error) : error);
      else resolve(result);
    };
    let returned: unknown;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      reject(error);
      return;
    }
    if (isThenable(returned)) {
      answered.by ??= 'promise';
      returned.then(resolve, reject);
    } else if (handler.length < 3) {
      answered.by ??= 'return';
      // Lambda's Node.js runtime ignores what a non-async handler returns; honouring it here would
      // let a test pass that fails on Lambda, so such a handler is refused.
      if (returned === undefined) resolve(undefined);
      else reject(new HandlerResponseIgnoredError(describeValue(returned)));
    }
  });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 80)})`;
  if (typeof value === 'object') return `an object (${JSON.stringify(value).slice(0, 80)})`;
  return `a ${typeof value} (${String(value).slice(0, 80)})`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'KMSThrottlingException',
  'InternalFailure',
  'InternalServerError',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
]);

/** Decides whether a read error is retried, re-positions the iterator, or stops the source. */
export function classifyReadError(error: unknown): ReadErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const { name, message, code, $fault, $retryable } = error as {
    name?: string;
    message?: string;
    code?: unknown;
    $fault?: string;
    $retryable?: unknown;
  };
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  // DynamoDB Local answers an iterator it no longer knows with ResourceNotFound.
  if (name === 'ResourceNotFoundException' && /iterator/i.test(message ?? '')) return 'expired-iterator';
  if (name === 'TrimmedDataAccessException') return 'trimmed';
  if (name !== undefined && TRANSIENT_ERRORS.has(name)) return 'transient';
  if ($fault === 'server' || $retryable) return 'transient';
  if (typeof code === 'string' && /^E[A-Z]{3,}/.test(code)) return 'transient';
  return 'fatal';
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
