/**
 * Public types of the Lambda event-source emulation.
 */
import type { Callback, Context } from 'aws-lambda';

/**
 * A Lambda handler for a stream event source, compatible with `@types/aws-lambda`'s
 * `KinesisStreamHandler` / `DynamoDBStreamHandler` (and middy handlers): it returns a promise (or
 * its response), or, declaring a third parameter, answers through the Node.js runtime's callback.
 */
export type StreamHandler<TEvent, TResponse> = (
  event: TEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: Lambda handlers may answer nothing
  callback: Callback<TResponse | void>,
  // biome-ignore lint/suspicious/noConfusingVoidType: Lambda handlers may return nothing
) => Promise<TResponse | void> | TResponse | void;

/**
 * The settings shared by the Kinesis and the DynamoDB Streams event sources: the same settings,
 * names and defaults as Lambda's `CreateEventSourceMapping`, plus what the emulation needs.
 */
export interface StreamEventSourceOptions<TEvent, TResponse, TFailure, TRecord> {
  /**
   * The function to invoke with each batch. Give either `handler` or `handlerModule`.
   *
   * A handler that is not `async` (and declares no callback) and returns something other than a
   * promise is refused (`HandlerResponseIgnoredError`): Lambda's Node.js runtime ignores that value.
   * An invocation whose async handler settles while HTTP requests it started (AWS SDK calls,
   * `fetch`) are still in flight fails with `PendingWorkError` (a missing `await`: Lambda freezes
   * that work); a handler that answers through the callback is waited for, as on Lambda.
   */
  readonly handler?: StreamHandler<TEvent, TResponse>;
  /**
   * Instead of `handler`: imports the handler's module, so that the module's state is reset where
   * Lambda resets it. Called before the first invocation and again before the first invocation
   * after a time-out (Lambda retries in a new execution environment), with the instance number
   * (1, 2, …). In Vitest: `async () => { vi.resetModules(); return import('../src/listener'); }`;
   * in plain Node.js ESM: `(n) => import(`../src/listener.js?instance=${n}`)`. Default: none.
   */
  readonly handlerModule?: (instance: number) => Promise<unknown>;
  /**
   * The export of `handlerModule`'s module that is the handler.
   *
   * @default 'handler' (`EVENT_SOURCE_DEFAULTS.handlerExport`)
   */
  readonly handlerExport?: string;
  /**
   * `BatchSize`: the most records in one invocation. 1 to 10,000.
   * An invocation also stays under Lambda's 6 MB synchronous payload limit.
   *
   * @default 100, Lambda's (`EVENT_SOURCE_DEFAULTS.batchSize`)
   */
  readonly batchSize?: number;
  /**
   * `MaximumBatchingWindowInSeconds`: how long to gather records before invoking when fewer than
   * `batchSize` are there. 0 to 300; 0 invokes as soon as records are read.
   *
   * @default 0, Lambda's (`EVENT_SOURCE_DEFAULTS.maximumBatchingWindowInSeconds`)
   */
  readonly maximumBatchingWindowInSeconds?: number;
  /**
   * `FunctionResponseTypes: ['ReportBatchItemFailures']`: read `{ batchItemFailures }` from the
   * response, checkpoint before the lowest reported sequence number and retry from it. Without it
   * the response is ignored.
   *
   * @default false, Lambda's: the list is empty unless you set it (`EVENT_SOURCE_DEFAULTS.reportBatchItemFailures`)
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * `BisectBatchOnFunctionError`: when an invocation fails as a whole, split the batch in two and
   * retry each half (splitting uses no retry).
   *
   * @default false, Lambda's (`EVENT_SOURCE_DEFAULTS.bisectBatchOnFunctionError`)
   */
  readonly bisectBatchOnFunctionError?: boolean;
  /**
   * `MaximumRetryAttempts`: retries of a failed batch before its records go to the on-failure
   * destination. -1 retries until the records expire; 0 to 10,000.
   *
   * @default -1, Lambda's (`EVENT_SOURCE_DEFAULTS.maximumRetryAttempts`)
   */
  readonly maximumRetryAttempts?: number;
  /**
   * `MaximumRecordAgeInSeconds`: records older than this (by their arrival time in the stream) are
   * not invoked but sent to the on-failure destination. -1 (infinite) or 60 to 604,800.
   * Use `clock` to test it without waiting.
   *
   * @default -1, Lambda's (`EVENT_SOURCE_DEFAULTS.maximumRecordAgeInSeconds`)
   */
  readonly maximumRecordAgeInSeconds?: number;
  /**
   * The function timeout, in seconds: the context's `getRemainingTimeInMillis()` counts down from
   * it, and an invocation that runs past it fails as a whole (`FunctionTimeoutError`), as on
   * Lambda. The handler's promise cannot be killed: it is abandoned (what it does later is not
   * recorded, and does not hold up the shard: the retry starts at once, in a freshly imported
   * module with `handlerModule`, in the same module otherwise). Lambda allows 1 to 900;
   * fractions are accepted to keep timeout tests fast.
   *
   * @default 3, Lambda's default timeout (`EVENT_SOURCE_DEFAULTS.functionTimeoutSeconds`)
   */
  readonly functionTimeoutSeconds?: number;
  /**
   * The function name, used in the context and the ARNs.
   *
   * @default 'tidemark-local-function' (`EVENT_SOURCE_DEFAULTS.functionName`)
   */
  readonly functionName?: string;
  /**
   * The memory size in MB reported by the context.
   *
   * @default 128, Lambda's (`EVENT_SOURCE_DEFAULTS.memoryLimitInMB`)
   */
  readonly memoryLimitInMB?: number;
  /**
   * Called with each record sent to the on-failure destination (also kept in
   * `source.onFailure`), and with the records it describes. If it throws, the source stops and
   * `drain()` rejects with {@link EventSourceFailedError}. Default: none.
   */
  readonly onFailure?: (failure: TFailure, records: readonly TRecord[]) => void | Promise<void>;
  /**
   * How long a shard poller waits before reading again when the shard had nothing new. While a
   * shard has a backlog it reads again at once.
   *
   * @default 100 ms (`EVENT_SOURCE_DEFAULTS.pollIntervalMs`)
   */
  readonly pollIntervalMs?: number;
  /**
   * The clock used to compute record ages for `maximumRecordAgeInSeconds`, in epoch ms. Pass one
   * that runs ahead to test record expiry without waiting. Default: `Date.now`.
   */
  readonly clock?: () => number;
}

/** One invocation of the handler, as recorded in `source.invocations`. */
export interface EventSourceInvocation<TEvent, TResponse> {
  /** The shard the batch came from. */
  readonly shardId: string;
  /** The request id passed in the context. */
  readonly awsRequestId: string;
  /** The event the handler got (a copy: changes the handler made to it are not seen here). */
  readonly event: TEvent;
  /** The sequence numbers of the records delivered, in order. */
  readonly sequenceNumbers: readonly string[];
  /**
   * Which invocation of these records this was: 1 the first time, then 2, 3, … for retries and
   * for the halves of a split batch.
   */
  readonly attempt: number;
  /** How the event source mapping read the result. */
  readonly outcome: 'success' | 'partial-failure' | 'failure';
  /** What the handler returned, when it returned. */
  // biome-ignore lint/suspicious/noConfusingVoidType: mirrors the handler's return type
  readonly response?: TResponse | void;
  /** What the handler threw or rejected with, or the {@link FunctionTimeoutError}. */
  readonly error?: unknown;
  /** Whether the invocation ran past the function timeout. */
  readonly timedOut: boolean;
  /** When the invocation started. */
  readonly startedAt: Date;
  /** How long it took, in ms (up to the timeout). */
  readonly durationMs: number;
}

/** Why records went to the on-failure destination. */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The request part of an on-failure record. */
export interface OnFailureRequestContext {
  /** The request id of the last invocation (a new id when the records were never invoked). */
  readonly requestId: string;
  /** The function ARN. */
  readonly functionArn: string;
  /** Why the records were discarded. */
  readonly condition: OnFailureCondition;
  /** How many invocations included these records. */
  readonly approximateInvokeCount: number;
}

/** The response part of an on-failure record: how the last invocation ended. */
export interface OnFailureResponseContext {
  /** 200 when the function was invoked; 0 when the records expired before any invocation. */
  readonly statusCode: number;
  /** The function version. */
  readonly executedVersion: string;
  /**
   * `'Unhandled'` when the last invocation threw, timed out or left work running; `null` when it
   * returned (a partial failure) or when the records expired before any invocation, as Lambda sends it.
   */
  readonly functionError: string | null;
}

/** The batch part of an on-failure record (`KinesisBatchInfo` / `DDBStreamBatchInfo`). */
export interface StreamBatchInfo {
  /** The shard id. */
  readonly shardId: string;
  /** The sequence number of the first discarded record. */
  readonly startSequenceNumber: string;
  /** The sequence number of the last discarded record. */
  readonly endSequenceNumber: string;
  /** When the first record arrived in the stream, ISO 8601. */
  readonly approximateArrivalOfFirstRecord: string;
  /** When the last record arrived in the stream, ISO 8601. */
  readonly approximateArrivalOfLastRecord: string;
  /** How many records were discarded. */
  readonly batchSize: number;
  /** The stream ARN. */
  readonly streamArn: string;
}

/** The fields every on-failure record has. */
export interface OnFailureRecordBase {
  /** The request that failed. */
  readonly requestContext: OnFailureRequestContext;
  /** How it failed. */
  readonly responseContext: OnFailureResponseContext;
  /** Always `'1.0'`. */
  readonly version: '1.0';
  /** When the records were discarded, ISO 8601. */
  readonly timestamp: string;
}

/** What Lambda sends to an SQS or SNS on-failure destination for a Kinesis event source. */
export interface KinesisOnFailureRecord extends OnFailureRecordBase {
  /** The discarded records. */
  readonly KinesisBatchInfo: StreamBatchInfo;
}

/** What Lambda sends to an SQS or SNS on-failure destination for a DynamoDB stream event source. */
export interface DynamoDbStreamOnFailureRecord extends OnFailureRecordBase {
  /** The discarded records. */
  readonly DDBStreamBatchInfo: StreamBatchInfo;
}

/** Options of `drain()`. */
export interface DrainOptions {
  /** How long to wait before rejecting with {@link EventSourceDrainTimeoutError}. Default: `30_000` ms. */
  readonly timeoutMs?: number;
}

/** A running emulation of one Lambda event source mapping. */
export interface StreamEventSource<TEvent, TResponse, TFailure> extends AsyncDisposable {
  /** The ARN of the stream, known once `start()` resolved. */
  readonly streamArn: string | undefined;
  /**
   * Reads the stream, takes the starting position of every shard and starts polling. Resolves
   * once the starting positions are taken: records written after that are delivered even with
   * `LATEST`.
   */
  start(): Promise<void>;
  /**
   * Resolves when every record in the stream at the time of the call (and every retry it caused)
   * has been handled or sent to the on-failure destination. Rejects with
   * {@link EventSourceDrainTimeoutError} naming what is pending after `timeoutMs`, and with
   * {@link EventSourceFailedError} if the source stopped on an error.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** Stops polling and waits for the invocation in flight. Safe to call more than once. */
  stop(): Promise<void>;
  /** Every invocation so far, in the order they finished. */
  readonly invocations: readonly EventSourceInvocation<TEvent, TResponse>[];
  /** Every record sent to the on-failure destination so far. */
  readonly onFailure: readonly TFailure[];
}
