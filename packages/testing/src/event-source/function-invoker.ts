/**
 * One Lambda function as the event sources invoke it: the handler (or the current instance of
 * `handlerModule`, imported again after a time-out, as Lambda starts a fresh execution environment),
 * a fresh fake context per invocation, the function timeout, the init-phase limit, and the HTTP
 * requests a handler leaves in flight when it settles. It knows nothing of shards or batches: it
 * gets an event and answers with the invocation record and the outcome.
 *
 * @internal
 */
import type { Context } from 'aws-lambda';
import {
  EventSourceConfigurationError,
  FunctionTimeoutError,
  HandlerResponseIgnoredError,
  PendingWorkError,
} from '../errors';
import { fakeLambdaContext } from '../lambda-context';
import { callHandler } from './call-handler';
import type { ResolvedStreamSettings } from './options';
import { InvocationWork, idle, pendingAfterSettle, runTracked } from './pending-work';
import { type InvocationOutcome, interpretResponse } from './retry-policy';
import type { EventSourceInvocation, StreamHandler } from './types';

/** Lambda's limit on a function's init phase (here: importing `handlerModule`), in ms. */
export const INIT_TIMEOUT_MS = 10_000;

/** The settings an invocation depends on. */
export type InvokerSettings<TEvent, TResponse> = Pick<
  ResolvedStreamSettings<TEvent, TResponse, unknown, unknown>,
  | 'handler'
  | 'handlerModule'
  | 'handlerExport'
  | 'functionName'
  | 'memoryLimitInMB'
  | 'functionTimeoutSeconds'
  | 'reportBatchItemFailures'
>;

/** One invocation to make. */
export interface InvocationRequest<TEvent> {
  /** The shard the records come from (recorded on the invocation). */
  readonly shardId: string;
  /** The event, as the handler gets it (a copy is recorded). */
  readonly event: TEvent;
  /** The sequence numbers of the event's records, in order (for `batchItemFailures`). */
  readonly sequenceNumbers: readonly string[];
  /** 1 for the first invocation of these records, then 2, 3, … */
  readonly attempt: number;
  /** The function's ARN, for the context. */
  readonly functionArn: string;
  /** The region, for the context. */
  readonly region: string;
}

/** What one invocation did. */
export interface InvocationResult<TEvent, TResponse> {
  /** The record of the invocation, as `source.invocations` shows it. */
  readonly invocation: EventSourceInvocation<TEvent, TResponse>;
  /** Success, partial failure (which records) or failure (why), for the retry decision. */
  readonly outcome: InvocationOutcome;
  /** Whether the function errored (threw, timed out, left work running), for on-failure records. */
  readonly functionError: boolean;
  /** Set when a non-async handler returned a value Lambda would ignore: the source must stop. */
  readonly responseIgnored?: HandlerResponseIgnoredError;
}

/** Invokes one function, as Lambda does. */
export class FunctionInvoker<TEvent, TResponse> {
  readonly #settings: InvokerSettings<TEvent, TResponse>;
  #handlerInstance: Promise<StreamHandler<TEvent, TResponse>> | undefined;
  #handlerInstances = 0;

  constructor(settings: InvokerSettings<TEvent, TResponse>) {
    this.#settings = settings;
  }

  /**
   * Invokes the function once with `event`: a fresh context, the handler (imported first with
   * `handlerModule`, as Lambda's init phase), the timeout, and the work it leaves running.
   */
  async invoke(request: InvocationRequest<TEvent>): Promise<InvocationResult<TEvent, TResponse>> {
    const { event, sequenceNumbers } = request;
    const recordedEvent = structuredClone(event);
    const context: Context = fakeLambdaContext({
      functionName: this.#settings.functionName,
      invokedFunctionArn: request.functionArn,
      region: request.region,
      memoryLimitInMB: this.#settings.memoryLimitInMB,
      timeoutSeconds: this.#settings.functionTimeoutSeconds,
    });
    const startedAt = new Date();
    const timeoutMs = this.#settings.functionTimeoutSeconds * 1000;
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
      shardId: request.shardId,
      awsRequestId: context.awsRequestId,
      event: recordedEvent,
      sequenceNumbers,
      attempt: request.attempt,
      outcome: outcome.kind,
      ...(result.kind === 'returned' ? { response: response as TResponse } : { error }),
      timedOut: result.kind === 'timeout',
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
    };
    if (result.kind === 'timeout') {
      // Lambda ends a timed-out invocation and retries in a new execution environment. A promise
      // cannot be ended: it is abandoned (what it does later is not recorded) and the batch goes
      // on. With `handlerModule`, the next invocation runs in a freshly imported module.
      this.#handlerInstance = undefined;
    }
    return {
      invocation,
      outcome,
      functionError: result.kind !== 'returned',
      ...(result.kind === 'threw' && result.error instanceof HandlerResponseIgnoredError
        ? { responseIgnored: result.error }
        : {}),
    };
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
}
