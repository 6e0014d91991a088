/**
 * Public types of `@tidemark/consumer`. Lambda event shapes are declared locally (structurally
 * compatible with `@types/aws-lambda`), so the package needs no types package at runtime.
 */
import type {
  ConditionCheck,
  Delete,
  DynamoDBClient,
  Put,
  TransactWriteItem,
  Update,
} from '@aws-sdk/client-dynamodb';
import type {
  AnyEventCatalog,
  AwsClientOptions,
  CatalogEvent,
  EventTypeOf,
  TidemarkLogger,
  TidemarkMetrics,
} from '@tidemark/core';

/** The part of a Kinesis record Lambda hands over that the consumer reads. */
export interface KinesisRecordPayload {
  /** Base64 of the record data. */
  readonly data: string;
  /** The partition key (for Tidemark events: the aggregate key `type#id`). */
  readonly partitionKey: string;
  /** The record's sequence number in its shard. */
  readonly sequenceNumber: string;
  /** When Kinesis received the record, in seconds since the epoch. */
  readonly approximateArrivalTimestamp: number;
}

/** One record of a Kinesis event, as Lambda sends it (a subset of `KinesisStreamRecord`). */
export interface KinesisRecord {
  /** `shardId-…:<sequence number>`: unique in the stream. */
  readonly eventID: string;
  /** The stream's ARN. */
  readonly eventSourceARN: string;
  /** The record itself. */
  readonly kinesis: KinesisRecordPayload;
}

/** A Kinesis event as Lambda sends it (a subset of `KinesisStreamEvent`). */
export interface KinesisEvent {
  /** The records, in shard order. */
  readonly Records: readonly KinesisRecord[];
}

/** The answer Lambda reads when the event source mapping sets `ReportBatchItemFailures`. */
export interface KinesisBatchResponse {
  /** Empty when the whole batch is done; otherwise one entry naming the lowest sequence number not done. */
  batchItemFailures: { itemIdentifier: string }[];
}

/** The part of the Lambda context the consumer uses (a subset of `Context`). */
export interface LambdaContextLike {
  /** Milliseconds left before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
  /** The invocation's request id. */
  readonly awsRequestId?: string;
  /** The function name. */
  readonly functionName?: string;
}

/** Where the record an event came from sits in the stream (for logs and dead letters). */
export interface RecordSource {
  /** The record's sequence number. */
  readonly sequenceNumber: string;
  /** `shardId-…:<sequence number>`. */
  readonly eventID: string;
  /** The stream's ARN. */
  readonly eventSourceARN: string;
  /** The record's partition key. */
  readonly partitionKey: string;
  /** When Kinesis received it (ISO 8601). */
  readonly arrivedAt: string;
  /**
   * For an event of a packed record (a run of one aggregate's events in one Kinesis record, the
   * CloudEvents JSON batch format): its position in the record and how many events it packs.
   * Absent when the record holds one event.
   */
  readonly batch?: RecordBatchPosition;
}

/** Where an event sits in a packed Kinesis record. */
export interface RecordBatchPosition {
  /** Its position, from 0. */
  readonly position: number;
  /** The events the record packs. */
  readonly size: number;
}

/** What a handler receives beside the event. */
export interface HandlerContext {
  /** The consumer's name. */
  readonly consumer: string;
  /** The Lambda context of the invocation (absent during a redrive from the API or CLI). */
  readonly lambdaContext: LambdaContextLike | undefined;
  /** The consumer's logger (`(message, attributes)`; never log payloads you would not store). */
  readonly logger: TidemarkLogger;
  /** The record the event came from. */
  readonly record: RecordSource;
  /** Which attempt this is for this event: 1 the first time, 2 after one failure, … */
  readonly attempt: number;
  /** `true` when the event is re-run from the dead-letter store. */
  readonly redrive: boolean;
}

/**
 * Writes a transactional handler stages. They commit together with the checkpoint advance, or not
 * at all, in one `TransactWriteItems` with the writes of the aggregate's other events in the batch
 * (cut only where DynamoDB's limits force it). Items use the low-level `TransactWriteItems` shape
 * (`AttributeValue` maps; `marshall` from `@aws-sdk/util-dynamodb` builds them).
 */
export interface Transaction {
  /** Stages a `Put`. */
  put(put: Put): void;
  /** Stages an `Update`. */
  update(update: Update): void;
  /** Stages a `Delete`. */
  delete(del: Delete): void;
  /** Stages a `ConditionCheck` (the transaction fails, and the handler counts as failed, if it does not hold). */
  conditionCheck(check: ConditionCheck): void;
  /**
   * Commits the writes staged by this aggregate's earlier events in the batch (with the checkpoint
   * up to them) before this handler reads DynamoDB, so that it sees them: without it a handler reads
   * the state from before the batch's uncommitted events. Costs one TransactWriteItems when there
   * is something to commit. When the commit fails, it throws `EarlierCommitError` and this event
   * is delivered again (not counted as a failure), whatever the handler does with the error.
   *
   * @example
   * ```ts
   * TaskRenamed: async (event, { transaction }) => {
   *   await transaction.commitEarlier();
   *   const row = await readRow(event.aggregate.id); // sees what TaskCreated staged in this batch
   *   transaction.put({ TableName: 'tasks', Item: marshall({ ...row, name: event.data.name }) });
   * },
   * ```
   */
  commitEarlier(): Promise<void>;
  /** How many writes are staged so far. */
  readonly size: number;
  /** The most writes one handler may stage (99: the checkpoint takes the 100th item). */
  readonly limit: number;
  /** The staged items (a copy). */
  items(): TransactWriteItem[];
}

/** The context of a handler in transactional mode: also a {@link Transaction}. */
export interface TransactionalHandlerContext extends HandlerContext {
  /** Stage DynamoDB writes here; they commit with the checkpoint. */
  readonly transaction: Transaction;
}

/** The handler context for a consumer, depending on `transactional`. */
export type ContextFor<TTransactional extends boolean> = TTransactional extends true
  ? TransactionalHandlerContext
  : HandlerContext;

/** A handler for one event type of the catalog. It may be async; what it returns is ignored. */
export type EventHandler<
  C extends AnyEventCatalog,
  K extends EventTypeOf<C>,
  TTransactional extends boolean = false,
> = (event: CatalogEvent<C, K>, context: ContextFor<TTransactional>) => unknown;

/** Handlers by event type. Types without a handler are skipped (and still advance the checkpoint). */
export type EventHandlers<C extends AnyEventCatalog, TTransactional extends boolean = false> = {
  readonly [K in EventTypeOf<C>]?: EventHandler<C, K, TTransactional>;
};

/** An SDK DynamoDB client, or the config to build one. */
export type DynamoDbClientOption = DynamoDBClient | AwsClientOptions;

/** Where checkpoints (and held records) live. */
export interface CheckpointOptions {
  /** The table (partition key `pk`, sort key `sk`, both strings: see `consumerTableDescription`). */
  readonly tableName: string;
  /** A DynamoDB client or client config. Default: a client from the environment (`AWS_REGION`, …). */
  readonly dynamodb?: DynamoDbClientOption;
}

/** Where parked records go. */
export interface DeadLetterOptions {
  /** The table. Default: the checkpoint table. */
  readonly tableName?: string;
  /** A DynamoDB client or client config. Default: the checkpoint client. */
  readonly dynamodb?: DynamoDbClientOption;
}

/** Options of {@link createConsumer}. */
export interface ConsumerOptions<
  C extends AnyEventCatalog = AnyEventCatalog,
  TTransactional extends boolean = false,
> {
  /**
   * The consumer's name: the namespace of its checkpoints and dead letters. Two deployments with
   * the same name share progress. 1-64 letters, digits, `_`, `-`, `.`; starts with a letter or digit.
   */
  readonly name: string;
  /** The event catalog (`defineCatalog`) whose events this consumer reads. */
  readonly events: C;
  /** Handlers by event type; the payload type is inferred from the catalog. */
  readonly handlers: EventHandlers<C, TTransactional>;
  /** Where checkpoints live. */
  readonly checkpoints: CheckpointOptions;
  /** Where parked records go. Default: the checkpoint table and client. */
  readonly deadLetters?: DeadLetterOptions;
  /**
   * What an aggregate without a checkpoint starts at.
   *
   * - `'require-first'`: before version 1. A later version that arrives first is held as a gap
   *   until version 1 arrives (or the gap expires and is reported), so no event is ever taken for
   *   a duplicate because it arrived late.
   * - `'any-version'`: for a consumer started on a stream whose older history it will never see
   *   (a new listener on an old stream). Each aggregate starts at the lowest version of the first
   *   batch that has it; the versions before it are skipped and reported (a warning, the
   *   `VersionsSkipped` metric, `firstContactSkips` in the batch summary) and remembered: one of
   *   them arriving later is applied if nothing after it was applied yet, otherwise parked as
   *   `arrived-before-first-contact`.
   *
   * @default 'require-first' (`CONSUMER_DEFAULTS.firstContact`)
   */
  readonly firstContact?: 'any-version' | 'require-first';
  /**
   * What happens to an event the consumer cannot read yet: written with a newer schema version
   * than its definition, and not declared readable by it (see `classifyEvent` in `@tidemark/core`).
   *
   * - `'hold'`: the event holds its aggregate. It and the aggregate's later records are set aside
   *   durably (the held records a gap uses, within `maxHeldPerAggregate`); other aggregates go on
   *   and no record is reported failed, so the shard never blocks. Each batch that meets it logs
   *   an error and counts it (the `EventsUnreadable` metric, `unreadable` in the batch summary; a
   *   gap sweep logs the error too); no attempt is counted and `gapTimeoutSeconds` does not apply (the aggregate is
   *   listed by `gaps.list()` meanwhile). Once the consumer is deployed with a definition (or an
   *   upcaster) that reads it, the held events apply in order, exactly once, on the aggregate's
   *   next record or the next gap sweep. If more than `maxHeldPerAggregate` records would wait
   *   behind it, it is parked as `unsupported-schema-version` instead and the aggregate moves on.
   *   A late arrival of a skipped version or a redriven event that cannot be read yet is parked.
   * - `'park'`: the event is parked as `unsupported-schema-version` and the aggregate moves on;
   *   after the deploy that reads it, redrive it (it then applies after the aggregate's later events).
   *
   * @default 'hold' (`CONSUMER_DEFAULTS.unreadableEvents`)
   */
  readonly unreadableEvents?: 'hold' | 'park';
  /**
   * Deliveries in which a handler may fail on one event before the event is parked.
   *
   * @default 3 (`CONSUMER_DEFAULTS.maxAttempts`)
   */
  readonly maxAttempts?: number;
  /**
   * How long a gap (a missing version with later versions held) may stay open before it is
   * reported, parked as a `gap-expired` dead letter, and skipped over. `0` gives up on gaps at once.
   *
   * @default 900, 15 minutes (`CONSUMER_DEFAULTS.gapTimeoutSeconds`)
   */
  readonly gapTimeoutSeconds?: number;
  /**
   * Most records held for one aggregate while a gap is open (at most 2000: the index lives in the
   * checkpoint item); one more expires the gap at once.
   *
   * @default 1000 (`CONSUMER_DEFAULTS.maxHeldPerAggregate`)
   */
  readonly maxHeldPerAggregate?: number;
  /**
   * A version more than this many versions ahead of the highest version its aggregate can reach
   * (its checkpoint, then the versions without a gap after it in the batch and among the held
   * records) is parked as `implausible-version`: it can only be corrupt or forged, and holding or
   * applying it would turn every real version below it into a duplicate.
   *
   * @default 10000 (`CONSUMER_DEFAULTS.maxVersionsAhead`)
   */
  readonly maxVersionsAhead?: number;
  /**
   * Transactional mode: handlers stage DynamoDB writes on `context.transaction`; each event's writes
   * commit in one `TransactWriteItems` with the checkpoint (exactly-once effects for DynamoDB).
   *
   * @default false (`CONSUMER_DEFAULTS.transactional`)
   */
  readonly transactional?: TTransactional;
  /**
   * When the invocation has less than this many milliseconds left, the consumer starts no further
   * event: it writes the checkpoints of what it did and names the rest in `batchItemFailures`, so
   * a Lambda timeout never makes a whole batch run again.
   *
   * @default 1000 (`CONSUMER_DEFAULTS.timeoutMarginMs`)
   */
  readonly timeoutMarginMs?: number;
  /**
   * How many aggregates are processed at once. One aggregate's events always run one by one, in version order.
   *
   * @default 8 (`CONSUMER_DEFAULTS.concurrency`)
   */
  readonly concurrency?: number;
  /**
   * Where logs go: Powertools' `Logger`, `console` or any `TidemarkLogger`.
   * @default `createJsonLogger()` of `@tidemark/core` (JSON lines, level from the environment, else
   * `info`: one summary line per batch), with the service `POWERTOOLS_SERVICE_NAME` or
   * `tidemark-consumer`
   */
  readonly logger?: TidemarkLogger;
  /**
   * Where the counts go, once per batch: Powertools' `Metrics` or any object with its
   * `addMetric(name, unit, value)`. The names are `TIDEMARK_METRICS.consumer` (`EventsApplied`,
   * `RecordsParked`, `GapsExpired`, …).
   * @default none
   */
  readonly metrics?: TidemarkMetrics;
  /** Called with the summary of every batch (after logging it). Default: none. */
  readonly onBatchSummary?: (summary: BatchSummary) => void;
  /** The clock, for tests. Default: `() => new Date()`. */
  readonly clock?: () => Date;
}

/** What happened to one batch. */
export interface BatchSummary {
  /** The consumer's name. */
  readonly consumer: string;
  /** Kinesis records in the batch (a packed record counts once; the counts below are of events). */
  readonly records: number;
  /** Aggregates in the batch. */
  readonly aggregates: number;
  /** Events whose handler ran and whose checkpoint advance is durable (held events closed by this batch included). */
  readonly applied: number;
  /** Records at or below their checkpoint (or repeated in the batch): skipped. */
  readonly duplicates: number;
  /** Events of types the consumer has no handler for: skipped, checkpoint advanced. */
  readonly skipped: number;
  /** Records set aside because an earlier version is missing or cannot be read yet. */
  readonly gapsHeld: number;
  /** Held records applied because the missing version arrived. */
  readonly gapsClosed: number;
  /** Gaps given up on (open too long or too many records held). */
  readonly gapsExpired: number;
  /** Records parked in the dead-letter store. */
  readonly parked: number;
  /**
   * Records not started because the invocation was about to time out (`timeoutMarginMs`), or
   * because a gap sweep was running their aggregate's held records (they are delivered again).
   */
  readonly deferred: number;
  /** Handler failures (each one counts towards `maxAttempts`). */
  readonly handlerFailures: number;
  /** Records not completed. Lambda delivers them again (from the first of them, named by `batchItemFailures`, on). */
  readonly failed: number;
  /** Checkpoint writes refused because another invocation advanced the checkpoint. */
  readonly concurrentUpdates: number;
  /**
   * Dead-letter writes refused for a reason that would repeat (each logged at error level with the
   * record's coordinates; a minimal dead letter was written instead when possible).
   */
  readonly parkFailures: number;
  /** Versions skipped because `firstContact: 'any-version'` started an aggregate past version 1. */
  readonly firstContactSkips: number;
  /** Handlers still running when the invocation had to answer (each counted as an attempt). */
  readonly handlersNotCompleted: number;
  /**
   * Times an event that cannot be read yet (a newer schema version not declared readable by the
   * consumer's definition) held its aggregate in this batch (`unreadableEvents: 'hold'`).
   */
  readonly unreadable: number;
  /** DynamoDB requests this batch made (reads, writes, transactions, retries of unprocessed keys). */
  readonly dynamodbRequests: number;
  /** The sequence number reported to Lambda, if any. */
  readonly failedSequenceNumber?: string;
}

/** Why a record was parked. */
export type ParkReason =
  | 'undecodable'
  | 'invalid-envelope'
  | 'invalid-payload'
  | 'unsupported-schema-version'
  | 'handler-failed'
  | 'gap-expired'
  | 'misrouted'
  | 'implausible-version'
  | 'arrived-after-gap-expired'
  | 'arrived-before-first-contact'
  | 'held-record-lost';

/** The raw record of a parked event, as it arrived. */
export interface ParkedRecord extends RecordSource {
  /**
   * The record data as Lambda delivered it, in full: base64, or, when it was not base64, that text
   * (`dataEncoding: 'text'`). Empty in a minimal dead letter (see `DeadLetter.minimal`).
   */
  readonly data: string;
  /** `'text'` when the delivered data was not base64 (then `data` is that text). Default: base64. */
  readonly dataEncoding?: 'text';
  /** `true` when `data` does not hold the whole record (only in a minimal dead letter). */
  readonly dataTruncated?: boolean;
  /**
   * The size of the original data in bytes (for an event of a packed record: of that event's JSON
   * alone, which is what `data` holds).
   */
  readonly dataBytes: number;
}

/** A parked record in the dead-letter store. */
export interface DeadLetter {
  /** The id: stable for one record, so parking the same record again replaces it. */
  readonly id: string;
  /** The consumer that parked it. */
  readonly consumer: string;
  /** Why. */
  readonly reason: ParkReason;
  /** The error, for humans (at most 4,096 characters; a longer one ends with a truncation marker). */
  readonly message: string;
  /** The full length of the error message in characters, when `message` was truncated. */
  readonly messageLength?: number;
  /** The error's name and code. */
  readonly error: {
    readonly name: string;
    readonly code?: string;
    /**
     * The error's context. When its JSON exceeds 16 KiB it is replaced by
     * `{ truncated: true, preview }` and `contextBytes` gives the full size.
     */
    readonly context?: Record<string, unknown>;
    /** The full size of the context's JSON in bytes, when it was truncated. */
    readonly contextBytes?: number;
  };
  /**
   * `true` when the full dead letter could not be written (its write was refused for a reason
   * that would repeat) and this minimal one keeps the reason, the record's coordinates and sizes.
   * The record data is then not kept: find the record by its sequence number.
   */
  readonly minimal?: boolean;
  /** When it was parked (ISO 8601). */
  readonly parkedAt: string;
  /** Handler attempts made before parking (0 for bad input). */
  readonly attempts: number;
  /** The raw record (for `gap-expired`: the first held record after the gap). */
  readonly record: ParkedRecord;
  /** The aggregate, when the envelope was valid. */
  readonly aggregate?: { readonly type: string; readonly id: string };
  /** The aggregate version, when the envelope was valid. */
  readonly version?: number;
  /** The event type, when the envelope was valid. */
  readonly eventType?: string;
  /** The event id, when the envelope was valid. */
  readonly eventId?: string;
  /** For `gap-expired`: the versions that never arrived. */
  readonly missing?: { readonly from: number; readonly to: number };
  /** Redrives that ended with the record parked again. */
  readonly redriveAttempts?: number;
}

/** One page of dead letters. */
export interface DeadLetterPage {
  /** The dead letters on this page. */
  readonly items: DeadLetter[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly cursor?: string;
}

/** What a redrive did. */
export interface RedriveResult {
  /** The dead letter's id. */
  readonly id: string;
  /**
   * `applied`: the handler ran and the dead letter is gone; `skipped`: a type without handler,
   * dead letter gone; `duplicate`: already applied (by an earlier redrive), dead letter gone;
   * `parked`: it failed again and stays parked (with the new reason and `redriveAttempts` + 1).
   */
  readonly outcome: 'applied' | 'skipped' | 'duplicate' | 'parked';
  /** The dead letter after the redrive, when it stays parked. */
  readonly deadLetter?: DeadLetter;
}

/** An aggregate holding records because an earlier version is missing. */
export interface OpenGap {
  /** The aggregate. */
  readonly aggregate: { readonly type: string; readonly id: string };
  /** When its first held record was set aside (ISO 8601). */
  readonly openSince: string;
}

/** What a gap sweep did. */
export interface GapSweepResult {
  /** Gaps still open (younger than `gapTimeoutSeconds`). */
  readonly open: number;
  /** Gaps given up on: parked as `gap-expired` and skipped over. */
  readonly expired: number;
  /** Index entries of aggregates that hold nothing any more (removed). */
  readonly stale: number;
  /** Held events applied after their gap expired. */
  readonly applied: number;
}
