/**
 * The event log: append with every invariant of the design enforced, read back, head.
 *
 * One item per event: `pk` = aggregate key (`type#id`), `sk` = version. A command's events are
 * written by one TransactWriteItems: a Put per event with `attribute_not_exists(pk)`, plus a
 * ConditionCheck on the previous head `attribute_exists(pk) AND commandId < :commandId`. So versions
 * are contiguous, two writers can never both write a version, and command ids strictly increase per
 * aggregate — all checked atomically by DynamoDB, not assumed.
 *
 * Every item also carries the version range of its command (`commandFirstVersion`,
 * `commandLastVersion`): DynamoDB Streams does not order the items of one transaction and may split
 * them over batches, so the publisher uses the range to tell a whole command from a part of one.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type AggregateRef,
  type AnyEventCatalog,
  type AwsClientOptions,
  aggregateKey,
  type CatalogEvent,
  createEnvelope,
  DYNAMODB_MAX_ITEM_BYTES,
  EVENT_LOG_KEY,
  type EventEnvelope,
  type EventInput,
  type EventMetadata,
  type EventTypeOf,
  envelopeFromEventLogItem,
  eventLogItemFromEnvelope,
  parseCommandId,
  parseEventLogItem,
  RecordTooLargeError,
  resolveClient,
  toKinesisRecord,
  toValidationIssues,
  type Ulid,
  UnknownEventTypeError,
  type ValidationIssue,
} from '@tidemark/core';
import {
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
  transactionSize,
} from '@tidemark/core/internal';
import pRetryImport from 'p-retry';
import {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  CorruptEventLogItemError,
  EventLogBusyError,
  TooManyEventsError,
} from './errors';
import { defaultExport } from './interop';
import { assertInteger, assertKnownKeys, errorName } from './options';
import { dynamoDbItemSize, firstDifference, isWellFormed, marshallItem, payloadIssues } from './storage';

const pRetry = defaultExport(pRetryImport);

/** Events one command may append: a transaction holds 100 items, one is the version check. */
export const MAX_EVENTS_PER_COMMAND = 99;
/**
 * DynamoDB's limit on the total size of one transaction (4 MB), and the bytes kept free below it:
 * `append` refuses a command whose transaction (every item, the version check's key, and every
 * expression, name and value) counts more than `MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES`.
 */
export { MAX_TRANSACTION_BYTES, TRANSACTION_SIZE_MARGIN_BYTES };

/**
 * The attributes of an event-log item that give its command's version range: the publisher
 * completes a command that a stream batch holds only part of.
 */
export const COMMAND_ITEM_ATTRIBUTES = Object.freeze({
  /** The version of the command's first event (number). */
  firstVersion: 'commandFirstVersion',
  /** The version of the command's last event (number). */
  lastVersion: 'commandLastVersion',
} as const);

const PK = EVENT_LOG_KEY.partitionKey;
const SK = EVENT_LOG_KEY.sortKey;

/** How `append` retries transient refusals (transaction conflicts, throttling). */
export interface AppendRetryOptions {
  /** Retries after the first attempt. Default: `3`. */
  readonly retries?: number;
  /** Delay before the first retry, in ms (doubled each time, with jitter). Default: `25`. */
  readonly minTimeoutMs?: number;
  /** Longest delay between two attempts, in ms. Default: `500`. */
  readonly maxTimeoutMs?: number;
}

/** Options of {@link createEventLog}. */
export interface EventLogOptions<C extends AnyEventCatalog> {
  /** The event-log table (create it with `eventLogTableDescription` from `@tidemark/core`). Required. */
  readonly tableName: string;
  /** A DynamoDB client, or the config to make one. Default: a client from the environment. */
  readonly dynamodb?: DynamoDBClient | AwsClientOptions;
  /** The event catalog: payloads are validated with it on append and parsed with it on read. Required. */
  readonly catalog: C;
  /** The CloudEvents `source` of every event appended, e.g. `/task-service`. Required. */
  readonly source: string;
  /** Retries of transient refusals (transaction conflicts, throttling). Default: 3 retries, 25–500 ms. */
  readonly retry?: AppendRetryOptions;
  /** The clock that stamps events' `time`. Default: `() => new Date()`. */
  readonly clock?: () => Date;
}

/** What `append` writes. */
export interface AppendInput<C extends AnyEventCatalog> {
  /** The aggregate the events belong to. */
  readonly aggregate: AggregateRef;
  /**
   * The command id (a ULID): must be greater than the aggregate's last command id, unless it is a
   * retry of a command already appended (then nothing is appended and the first outcome returned).
   */
  readonly commandId: Ulid;
  /** The events, 1 to {@link MAX_EVENTS_PER_COMMAND}, typed and validated against the catalog. */
  readonly events: readonly EventInput<C>[];
  /**
   * The version the caller's decision was based on (0 for a new aggregate): if the aggregate is at
   * another version, `append` throws {@link ConcurrencyError} without writing. Default: none (append
   * after whatever the head is; concurrent writers are still serialized by the conditional write).
   */
  readonly expectedVersion?: number;
  /** Correlation, causation and trace context stored with every event. Default: none. */
  readonly metadata?: EventMetadata;
}

/** The outcome of `append`. */
export interface AppendResult<C extends AnyEventCatalog> {
  /** The aggregate. */
  readonly aggregate: AggregateRef;
  /** The command id (canonical upper-case ULID). */
  readonly commandId: Ulid;
  /** The aggregate version after the command: the version of its last event. */
  readonly version: number;
  /** The envelopes of the command's events: the ones written, or for a duplicate the ones found. */
  readonly events: readonly EventEnvelope<EventTypeOf<C>>[];
  /**
   * `true` when the command id was already in the log (a retried command, or an earlier attempt of
   * this call whose response was lost): nothing was appended, `events` is the first outcome.
   */
  readonly duplicate: boolean;
}

/** The last event of an aggregate. */
export interface AggregateHead {
  /** The aggregate's version (its last event's version). */
  readonly version: number;
  /** The command id of its last event. */
  readonly lastCommandId: Ulid;
}

/** Options of `read`, `readEnvelopes` and `readAll`. */
export interface ReadOptions {
  /** The first version to read. Default: `1`. */
  readonly fromVersion?: number;
  /** The last version to read (inclusive). Default: the head. */
  readonly toVersion?: number;
  /** Events per strongly consistent Query. Default: `100`. */
  readonly pageSize?: number;
}

/** An event log bound to one table and catalog. */
export interface EventLog<C extends AnyEventCatalog> {
  /** The table name. */
  readonly tableName: string;
  /** The catalog. */
  readonly catalog: C;
  /**
   * Appends a command's events atomically, enforcing every invariant. Throws
   * {@link ConcurrencyError}, {@link CommandIdNotIncreasingError}, {@link TooManyEventsError},
   * {@link AppendValidationError}, `RecordTooLargeError`, `UnknownEventTypeError`,
   * `InvalidAggregateError`, `InvalidCommandIdError` or {@link EventLogBusyError}; nothing is
   * written when it throws, except when the outcome is unknown (an `EventLogBusyError` with
   * `context.outcomeUnknown`, or an error that is not a DynamoDB answer, such as a timeout or a lost
   * connection): then retry with the same command id, which returns the first outcome if the
   * events were written.
   */
  append(input: AppendInput<C>): Promise<AppendResult<C>>;
  /** The aggregate's version and last command id, or `undefined` when it has no events. */
  head(aggregate: AggregateRef): Promise<AggregateHead | undefined>;
  /** The aggregate's events in version order, parsed by the catalog (upcast, validated), paged. */
  read(aggregate: AggregateRef, options?: ReadOptions): AsyncIterable<CatalogEvent<C>>;
  /** The aggregate's events in version order as envelopes (not parsed by the catalog), paged. */
  readEnvelopes(aggregate: AggregateRef, options?: ReadOptions): AsyncIterable<EventEnvelope>;
  /** All of {@link EventLog.read} in one array (for aggregates of modest size). */
  readAll(aggregate: AggregateRef, options?: ReadOptions): Promise<CatalogEvent<C>[]>;
}

const OPTION_KEYS = ['tableName', 'dynamodb', 'catalog', 'source', 'retry', 'clock'] as const;
const APPEND_KEYS = ['aggregate', 'commandId', 'events', 'expectedVersion', 'metadata'] as const;
const READ_KEYS = ['fromVersion', 'toVersion', 'pageSize'] as const;
const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
const TRANSIENT_ERRORS = new Set([
  'TransactionInProgressException',
  'TransactionConflictException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** Whole-call errors after which the transaction may have committed (a server error answered late). */
const OUTCOME_UNKNOWN_ERRORS = new Set(['InternalServerError', 'ServiceUnavailable']);

/** A transient refusal, retried by `append`. */
class TransientAppendFailure extends Error {
  constructor(
    readonly reasons: string[],
    readonly original: unknown,
    /** The transaction may have committed (a server error, not a cancellation or throttling). */
    readonly outcomeUnknown: boolean,
  ) {
    super(`transient refusal: ${reasons.join(', ')}`);
    this.name = 'TransientAppendFailure';
  }
}

interface PreparedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  /** The oldest reader schema version the definition declares; written as `readablefrom`. */
  readonly readableFrom: number | undefined;
  readonly data: Record<string, unknown>;
}

/**
 * Makes an event log over one DynamoDB table.
 *
 * @example
 * ```ts
 * import { newCommandId } from '@tidemark/core';
 * import { ConcurrencyError, createEventLog } from '@tidemark/event-log';
 * import { taskEvents } from './events';
 *
 * const log = createEventLog({ tableName: 'task-events', catalog: taskEvents, source: '/task-service' });
 *
 * const result = await log.append({
 *   aggregate: { type: 'Task', id: 't-42' },
 *   commandId: newCommandId(),
 *   expectedVersion: 0,
 *   events: [{ type: 'TaskCreated', data: { name: 'Write the docs' } }],
 * });
 * result.version; // 1
 *
 * for await (const event of log.read({ type: 'Task', id: 't-42' })) {
 *   if (event.type === 'TaskCreated') console.log(event.data.name);
 * }
 * ```
 */
export function createEventLog<const C extends AnyEventCatalog>(options: EventLogOptions<C>): EventLog<C> {
  assertKnownKeys('createEventLog', options, OPTION_KEYS);
  const { tableName, catalog, source } = options;
  if (typeof tableName !== 'string' || tableName.length < 3) {
    throw new TypeError('createEventLog: tableName must be a DynamoDB table name');
  }
  if (typeof catalog?.find !== 'function' || typeof catalog.parse !== 'function') {
    throw new TypeError(
      'createEventLog: catalog must be an event catalog (defineCatalog from @tidemark/core)',
    );
  }
  if (typeof source !== 'string' || source.length === 0 || !isWellFormed(source)) {
    throw new TypeError('createEventLog: source must be a non-empty URI-reference, e.g. "/task-service"');
  }
  assertKnownKeys('createEventLog: retry', options.retry, ['retries', 'minTimeoutMs', 'maxTimeoutMs']);
  const retries = options.retry?.retries ?? 3;
  const minTimeout = options.retry?.minTimeoutMs ?? 25;
  const maxTimeout = options.retry?.maxTimeoutMs ?? 500;
  assertInteger('createEventLog: retry.retries', retries, 0, 100);
  assertInteger('createEventLog: retry.minTimeoutMs', minTimeout, 0);
  assertInteger('createEventLog: retry.maxTimeoutMs', maxTimeout, 0);
  const clock = options.clock ?? (() => new Date());
  const dynamodb = resolveClient(
    options.dynamodb as DynamoDBClient | AwsClientOptions | undefined,
    (config) => new DynamoDBClient(config),
    'dynamodb',
  );

  const toEnvelope = (raw: Record<string, AttributeValue>): EventEnvelope => {
    const plain = unmarshall(raw);
    try {
      return envelopeFromEventLogItem(parseEventLogItem(plain));
    } catch (cause) {
      throw new CorruptEventLogItemError({ tableName, pk: plain[PK], sk: plain[SK] }, cause);
    }
  };

  const readHead = async (pk: string): Promise<AggregateHead | undefined> => {
    const output = await dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#commandId': 'commandId' },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ProjectionExpression: '#sk, #commandId',
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = output.Items?.[0];
    if (!item) return undefined;
    const version = Number(item[SK]?.N);
    const lastCommandId = item.commandId?.S;
    if (!Number.isSafeInteger(version) || version < 1 || lastCommandId === undefined) {
      throw new CorruptEventLogItemError(
        { tableName, pk, sk: item[SK]?.N },
        'the head item has no version or command id',
      );
    }
    return { version, lastCommandId };
  };

  const commandIdAt = async (pk: string, version: number): Promise<string | undefined> => {
    const output = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [PK]: { S: pk }, [SK]: { N: String(version) } },
        ProjectionExpression: '#commandId',
        ExpressionAttributeNames: { '#commandId': 'commandId' },
        ConsistentRead: true,
      }),
    );
    return output.Item?.commandId?.S;
  };

  /**
   * The events of the aggregate's last command, if its id is `commandId`: read backwards, page by
   * page (a command of large events spans several 1 MB Query pages), until an item of another
   * command.
   */
  const lastCommandEvents = async (pk: string, commandId: string): Promise<EventEnvelope[]> => {
    const events: EventEnvelope[] = [];
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ScanIndexForward: false,
          Limit: MAX_EVENTS_PER_COMMAND + 1 - events.length,
          ConsistentRead: true,
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) {
        if (item.commandId?.S !== commandId) return events.reverse();
        events.push(toEnvelope(item));
      }
      exclusiveStartKey = output.LastEvaluatedKey;
    } while (exclusiveStartKey && events.length <= MAX_EVENTS_PER_COMMAND);
    return events.reverse();
  };

  /**
   * Finds an older command by binary search over versions: command ids strictly increase with
   * versions (across commands), so the first version whose command id is >= `commandId` is the
   * command's first event if the command is in the log at all. O(log n) strongly consistent reads.
   */
  const findCommand = async (
    pk: string,
    commandId: string,
    head: AggregateHead,
  ): Promise<EventEnvelope[]> => {
    let low = 1;
    let high = head.version;
    let first: number | undefined;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const found = await commandIdAt(pk, middle);
      if (found === undefined)
        throw new CorruptEventLogItemError({ tableName, pk, sk: middle }, 'missing version');
      if (found >= commandId) {
        if (found === commandId) first = middle;
        high = middle - 1;
      } else {
        low = middle + 1;
      }
    }
    if (first === undefined) return [];
    const events: EventEnvelope[] = [];
    for await (const envelope of queryEnvelopes(pk, first, first + MAX_EVENTS_PER_COMMAND - 1, 100)) {
      if (envelope.commandid !== commandId) break;
      events.push(envelope);
    }
    return events;
  };

  /** The first outcome of `commandId` on the aggregate, or `undefined` when it is not in the log. */
  const existingOutcome = async (
    pk: string,
    commandId: string,
    head: AggregateHead | undefined,
  ): Promise<EventEnvelope[] | undefined> => {
    if (!head || commandId > head.lastCommandId) return undefined;
    let events = commandId === head.lastCommandId ? await lastCommandEvents(pk, commandId) : [];
    // The quick look finds nothing when another command landed after the head was read: the exact
    // lookup over the (immutable) versions up to that head finds the command whenever it is stored.
    if (events.length === 0) events = await findCommand(pk, commandId, head);
    return events.length > 0 ? events : undefined;
  };

  async function* queryEnvelopes(
    pk: string,
    fromVersion: number,
    toVersion: number,
    pageSize: number,
  ): AsyncGenerator<EventEnvelope> {
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: {
            ':pk': { S: pk },
            ':from': { N: String(fromVersion) },
            ':to': { N: String(toVersion) },
          },
          ConsistentRead: true,
          Limit: pageSize,
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) yield toEnvelope(item);
      exclusiveStartKey = output.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  const prepareEvents = (input: AppendInput<C>, pk: string): PreparedEvent[] => {
    if (!Array.isArray(input.events)) {
      throw new AppendValidationError(
        [{ path: 'events', message: 'must be an array', code: 'invalid_type' }],
        {
          aggregateKey: pk,
        },
      );
    }
    if (input.events.length === 0) {
      throw new AppendValidationError(
        [{ path: 'events', message: 'a command appends at least one event', code: 'too_small' }],
        { aggregateKey: pk },
      );
    }
    if (input.events.length > MAX_EVENTS_PER_COMMAND) {
      throw new TooManyEventsError({
        aggregateKey: pk,
        count: input.events.length,
        limit: MAX_EVENTS_PER_COMMAND,
      });
    }
    const issues: ValidationIssue[] = [];
    const prepared: PreparedEvent[] = [];
    input.events.forEach((event, index) => {
      const path = `events[${index}]`;
      const type = (event as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string') {
        issues.push({ path: `${path}.type`, message: 'must be an event type name', code: 'invalid_type' });
        return;
      }
      const definition = catalog.find(type);
      if (!definition) throw new UnknownEventTypeError(type, catalog.types);
      if (definition.aggregateType !== undefined && definition.aggregateType !== input.aggregate.type) {
        issues.push({
          path: `${path}.type`,
          message: `${type} belongs to aggregate type ${definition.aggregateType}, not ${input.aggregate.type}`,
          code: 'custom',
        });
        return;
      }
      const parsed = definition.schema.safeParse(event.data);
      if (!parsed.success) {
        issues.push(...toValidationIssues(parsed.error, `${path}.data`));
        return;
      }
      const given = parsed.data as Record<string, unknown>;
      const storageIssues = payloadIssues(given, `${path}.data`);
      if (storageIssues.length > 0) {
        issues.push(...storageIssues);
        return;
      }
      // The safety net: what DynamoDB gives back must be what was given, whatever rule was missed.
      const data = unmarshall(
        marshall(given, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
      ) as Record<string, unknown>;
      const changed = firstDifference(given, data, `${path}.data`);
      if (changed !== undefined) {
        issues.push({ path: changed, message: 'would not be stored unchanged', code: 'not_storable' });
        return;
      }
      // Consumers parse the stored payload with the same schema: refuse one they could not read.
      const reparsed = definition.schema.safeParse(JSON.parse(JSON.stringify(data)));
      if (!reparsed.success) {
        issues.push({
          path: `${path}.data`,
          message: `the payload after parsing does not validate again as ${type} (a transform that is not idempotent?): ${reparsed.error.issues[0]?.message ?? ''}`,
          code: 'not_idempotent',
        });
        return;
      }
      prepared.push({
        type,
        schemaVersion: definition.schemaVersion,
        readableFrom: definition.readableFrom,
        data,
      });
    });
    if (issues.length > 0) throw new AppendValidationError(issues, { aggregateKey: pk });
    return prepared;
  };

  const append = async (input: AppendInput<C>): Promise<AppendResult<C>> => {
    assertKnownKeys('append', input, APPEND_KEYS);
    const unicodeIssues = identityIssues(input);
    const pk = aggregateKey(input.aggregate);
    if (unicodeIssues.length > 0) throw new AppendValidationError(unicodeIssues, { aggregateKey: pk });
    const aggregate = { type: input.aggregate.type, id: input.aggregate.id };
    const commandId = parseCommandId(input.commandId);
    if (input.expectedVersion !== undefined) {
      if (!Number.isSafeInteger(input.expectedVersion) || input.expectedVersion < 0) {
        throw new AppendValidationError(
          [{ path: 'expectedVersion', message: 'must be an integer of 0 or more', code: 'invalid_type' }],
          { aggregateKey: pk },
        );
      }
    }
    const prepared = prepareEvents(input, pk);

    const outcome = (events: EventEnvelope[], duplicate: boolean): AppendResult<C> => ({
      aggregate,
      commandId,
      version: events[events.length - 1]!.aggregateversion,
      events: events as EventEnvelope<EventTypeOf<C>>[],
      duplicate,
    });

    const attempt = async (): Promise<AppendResult<C>> => {
      const head = await readHead(pk);
      const stale = head !== undefined && commandId <= head.lastCommandId;
      if (stale) {
        const existing = await existingOutcome(pk, commandId, head);
        if (existing) return outcome(existing, true);
      }
      // Not stored. A stale expected version comes first: a caller that lost a race must hear that
      // (reload and decide again, which makes a new command id), not that its id is stale.
      const actual = head?.version ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== actual) {
        throw new ConcurrencyError(
          `${pk} is at version ${actual}, not the expected ${input.expectedVersion}; reload it and decide again`,
          {
            aggregateKey: pk,
            commandId,
            expectedVersion: input.expectedVersion,
            actualVersion: actual,
            lastCommandId: head?.lastCommandId,
          },
        );
      }
      if (stale) {
        throw new CommandIdNotIncreasingError({
          aggregateKey: pk,
          commandId,
          lastCommandId: head.lastCommandId,
          version: head.version,
        });
      }

      const time = clock();
      const envelopes = prepared.map((event, index) =>
        createEnvelope({
          source,
          type: event.type,
          aggregate,
          version: actual + index + 1,
          commandId,
          schemaVersion: event.schemaVersion,
          ...(event.readableFrom === undefined ? {} : { readableFrom: event.readableFrom }),
          data: event.data,
          time,
          ...(input.metadata ? { metadata: input.metadata } : {}),
        }),
      );
      const items: TransactWriteItem[] = [];
      const commandRange = {
        [COMMAND_ITEM_ATTRIBUTES.firstVersion]: actual + 1,
        [COMMAND_ITEM_ATTRIBUTES.lastVersion]: actual + envelopes.length,
      };
      for (const envelope of envelopes) {
        toKinesisRecord(envelope); // throws RecordTooLargeError past 1 MiB with the partition key
        const item = marshallItem({ ...eventLogItemFromEnvelope(envelope), ...commandRange });
        const size = dynamoDbItemSize(item);
        if (size > DYNAMODB_MAX_ITEM_BYTES) {
          throw new RecordTooLargeError('Event-log item (DynamoDB item)', size, DYNAMODB_MAX_ITEM_BYTES, {
            aggregateKey: pk,
            eventType: envelope.type,
            aggregateVersion: envelope.aggregateversion,
          });
        }
        items.push({
          Put: {
            TableName: tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          },
        });
      }
      if (head) {
        items.push({
          ConditionCheck: {
            TableName: tableName,
            Key: { [PK]: { S: pk }, [SK]: { N: String(head.version) } },
            ConditionExpression: 'attribute_exists(#pk) AND #commandId < :commandId',
            ExpressionAttributeNames: { '#pk': PK, '#commandId': 'commandId' },
            ExpressionAttributeValues: { ':commandId': { S: commandId } },
          },
        });
      }
      const transactionBytes = transactionSize(items);
      const transactionLimit = MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES;
      if (transactionBytes > transactionLimit) {
        throw new RecordTooLargeError(
          'The events of one command (DynamoDB transaction, with a safety margin)',
          transactionBytes,
          transactionLimit,
          { aggregateKey: pk, events: envelopes.length },
        );
      }

      try {
        await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items }));
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons?.includes('ConditionalCheckFailed')) {
          // Lost a race, or an earlier attempt of this very command committed: re-read to tell.
          const now = await readHead(pk);
          const existing = await existingOutcome(pk, commandId, now);
          if (existing) return outcome(existing, true);
          if (input.expectedVersion === undefined) {
            // No version was asked for: the command goes after whatever is there now, if its id
            // still may (another call of this very command may commit meanwhile: the retry finds it).
            if (now && commandId <= now.lastCommandId) {
              throw new CommandIdNotIncreasingError({
                aggregateKey: pk,
                commandId,
                lastCommandId: now.lastCommandId,
                version: now.version,
              });
            }
            throw new TransientAppendFailure(['VersionTaken'], error, false);
          }
          throw new ConcurrencyError(
            `Another command appended to ${pk} first (now at version ${now?.version ?? 0}); reload it and decide again`,
            {
              aggregateKey: pk,
              commandId,
              expectedVersion: input.expectedVersion,
              actualVersion: now?.version ?? 0,
              lastCommandId: now?.lastCommandId,
            },
            { cause: error },
          );
        }
        const transient = reasons
          ? reasons.filter((reason) => TRANSIENT_REASONS.has(reason))
          : TRANSIENT_ERRORS.has(errorName(error))
            ? [errorName(error)]
            : [];
        if (transient.length > 0) {
          throw new TransientAppendFailure(
            transient,
            error,
            reasons === undefined && OUTCOME_UNKNOWN_ERRORS.has(errorName(error)),
          );
        }
        throw error;
      }
      return outcome(envelopes, false);
    };

    let attempts = 0;
    const seenReasons = new Set<string>();
    try {
      return await pRetry(
        async () => {
          attempts += 1;
          return attempt();
        },
        {
          retries,
          minTimeout,
          maxTimeout,
          factor: 2,
          randomize: true,
          shouldRetry: ({ error }) => error instanceof TransientAppendFailure,
          onFailedAttempt: ({ error }) => {
            if (error instanceof TransientAppendFailure)
              for (const reason of error.reasons) seenReasons.add(reason);
          },
        },
      );
    } catch (error) {
      if (error instanceof TransientAppendFailure) {
        throw new EventLogBusyError(
          {
            aggregateKey: pk,
            commandId,
            attempts,
            reasons: [...seenReasons],
            outcomeUnknown: error.outcomeUnknown,
          },
          error.original,
        );
      }
      throw error;
    }
  };

  const readOptions = (pk: string, options: ReadOptions = {}) => {
    assertKnownKeys('read', options, READ_KEYS);
    const fromVersion = options.fromVersion ?? 1;
    const toVersion = options.toVersion ?? Number.MAX_SAFE_INTEGER;
    const pageSize = options.pageSize ?? 100;
    assertInteger('read: fromVersion', fromVersion, 1);
    assertInteger('read: toVersion', toVersion, 1);
    assertInteger('read: pageSize', pageSize, 1, 10_000);
    if (toVersion < fromVersion) {
      throw new RangeError(`read: toVersion (${toVersion}) must not be below fromVersion (${fromVersion})`);
    }
    return { pk, fromVersion, toVersion, pageSize };
  };

  const readEnvelopes = (aggregate: AggregateRef, options?: ReadOptions): AsyncIterable<EventEnvelope> => {
    const { pk, fromVersion, toVersion, pageSize } = readOptions(aggregateKey(aggregate), options);
    return {
      [Symbol.asyncIterator]: () => queryEnvelopes(pk, fromVersion, toVersion, pageSize),
    };
  };

  const read = (aggregate: AggregateRef, options?: ReadOptions): AsyncIterable<CatalogEvent<C>> => {
    const envelopes = readEnvelopes(aggregate, options);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const envelope of envelopes) yield catalog.parse(envelope) as CatalogEvent<C>;
      },
    };
  };

  return Object.freeze({
    tableName,
    catalog,
    append,
    head: async (aggregate: AggregateRef) => readHead(aggregateKey(aggregate)),
    read,
    readEnvelopes,
    readAll: async (aggregate: AggregateRef, options?: ReadOptions) => {
      const events: CatalogEvent<C>[] = [];
      for await (const event of read(aggregate, options)) events.push(event);
      return events;
    },
  });
}

/** Refusals of strings DynamoDB and Kinesis cannot hold as given (lone UTF-16 surrogates). */
function identityIssues(input: { aggregate?: AggregateRef; metadata?: EventMetadata }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const check = (path: string, value: unknown) => {
    if (typeof value === 'string' && !isWellFormed(value)) {
      issues.push({
        path,
        message:
          'contains a lone UTF-16 surrogate (not well-formed Unicode): DynamoDB would store another string, and different ids would share one key',
        code: 'not_storable',
      });
    }
  };
  check('aggregate.type', input.aggregate?.type);
  check('aggregate.id', input.aggregate?.id);
  for (const [key, value] of Object.entries(input.metadata ?? {})) check(`metadata.${key}`, value);
  return issues;
}

/** The cancellation reason codes of a TransactionCanceledException, or `undefined` for other errors. */
export function cancellationReasons(error: unknown): string[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((reason) => reason.Code ?? 'None');
  // Some emulators only list the reasons in the message: "... reasons [ConditionalCheckFailed, None]".
  const message = (error as { message?: unknown }).message;
  const listed = typeof message === 'string' ? /\[([^\]]*)\]/.exec(message)?.[1] : undefined;
  return listed ? listed.split(',').map((reason) => reason.trim()) : [];
}
