/**
 * The event log: append with every invariant enforced, read back, head. This module wires the
 * parts together: input validation (`append-input`), the lookup of a command already appended
 * (`existing-command`), the transaction and its size checks (`command-transaction`), transient
 * refusals and their retry (`transient-errors`, `append-retry`) and the reads (`reads`).
 *
 * One item per event: `pk` = aggregate key (`type#id`), `sk` = version. A command's events are
 * written by one TransactWriteItems, so versions are contiguous, two writers can never both write a
 * version, and command ids strictly increase per aggregate: all checked atomically by DynamoDB.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AggregateRef,
  type AnyEventCatalog,
  type AwsClientOptions,
  aggregateKey,
  type CatalogEvent,
  type EventEnvelope,
} from '@tidemark/core';
import { parseOptions, resolveClient } from '@tidemark/core/internal';
import { type AppendResult, createAppend } from './append';
import type { AppendInput } from './append-input';
import type { AppendRetryOptions } from './append-retry';
import { EVENT_LOG_OPTIONS_SCHEMA } from './event-log-options';
import { type AggregateHead, createLogReads, type ReadOptions, readRange } from './reads';

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
  /**
   * Retries of transient refusals (transaction conflicts, throttling).
   *
   * @default 3 retries, 25–500 ms (`EVENT_LOG_DEFAULTS.retry`)
   */
  readonly retry?: AppendRetryOptions;
  /** The clock that stamps events' `time`. Default: `() => new Date()`. */
  readonly clock?: () => Date;
}

/** An event log bound to one table and catalog. */
export interface EventLog<C extends AnyEventCatalog> {
  /** The table name. */
  readonly tableName: string;
  /** The catalog. */
  readonly catalog: C;
  /**
   * Appends a command's events atomically, enforcing every invariant. Throws
   * `ConcurrencyError`, `CommandIdNotIncreasingError`, `TooManyEventsError`,
   * `AppendValidationError`, `RecordTooLargeError`, `UnknownEventTypeError`,
   * `InvalidAggregateError`, `InvalidCommandIdError` or `EventLogBusyError`; nothing is
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
  const { tableName, source, retry, ...parsed } = parseOptions(EVENT_LOG_OPTIONS_SCHEMA, options, {
    factory: 'createEventLog',
  });
  const { catalog } = options; // checked above; the schema's output type forgets C
  const { retries, minTimeoutMs, maxTimeoutMs } = retry;
  const clock = parsed.clock ?? (() => new Date());
  const dynamodb = resolveClient(
    parsed.dynamodb as DynamoDBClient | AwsClientOptions | undefined,
    (config) => new DynamoDBClient(config),
    'dynamodb',
  );

  const reads = createLogReads(dynamodb, tableName);
  const append = createAppend({
    tableName,
    catalog,
    source,
    clock,
    dynamodb,
    reads,
    retry: { retries, minTimeoutMs, maxTimeoutMs },
  });

  const readEnvelopes = (aggregate: AggregateRef, options?: ReadOptions): AsyncIterable<EventEnvelope> => {
    const pk = aggregateKey(aggregate);
    const range = readRange(options);
    return { [Symbol.asyncIterator]: () => reads.envelopes(pk, range) };
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
    head: async (aggregate: AggregateRef) => reads.head(aggregateKey(aggregate)),
    read,
    readEnvelopes,
    readAll: async (aggregate: AggregateRef, options?: ReadOptions) => {
      const events: CatalogEvent<C>[] = [];
      for await (const event of read(aggregate, options)) events.push(event);
      return events;
    },
  });
}
