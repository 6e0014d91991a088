/**
 * Strongly consistent reads of one event-log table: an aggregate's head, the command id at a
 * version, the events of the last command, and a version range as envelopes, page by page.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  EVENT_LOG_KEY,
  type EventEnvelope,
  envelopeFromEventLogItem,
  parseEventLogItem,
  type Ulid,
} from '@tidemark/core';
import { parseOptions } from '@tidemark/core/internal';
import { CorruptEventLogItemError } from './errors';
import { READ_OPTIONS_SCHEMA } from './event-log-options';
import { MAX_EVENTS_PER_COMMAND } from './limits';

const PK = EVENT_LOG_KEY.partitionKey;
const SK = EVENT_LOG_KEY.sortKey;

/** The last event of an aggregate. */
export interface AggregateHead {
  /** The aggregate's version (its last event's version). */
  readonly version: number;
  /** The command id of its last event. */
  readonly lastCommandId: Ulid;
}

/** Options of `read`, `readEnvelopes` and `readAll`. */
export interface ReadOptions {
  /**
   * The first version to read.
   *
   * @default 1 (`READ_DEFAULTS.fromVersion`)
   */
  readonly fromVersion?: number;
  /** The last version to read (inclusive). Default: the head. */
  readonly toVersion?: number;
  /**
   * Events per strongly consistent Query, 1 to 10000.
   *
   * @default 100 (`READ_DEFAULTS.pageSize`)
   */
  readonly pageSize?: number;
}

/** A checked version range to read, with every default applied. */
export interface ReadRange {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly pageSize: number;
}

/** The reads of one table, by aggregate key (`type#id`). Every read is strongly consistent. */
export interface LogReads {
  /** The aggregate's version and last command id, or `undefined` when it has no events. */
  head(pk: string): Promise<AggregateHead | undefined>;
  /** The command id stored at `version`, or `undefined` when there is no such item. */
  commandIdAt(pk: string, version: number): Promise<string | undefined>;
  /**
   * The events of the aggregate's last command, if its id is `commandId` (else none), oldest first:
   * read backwards, page by page (a command of large events spans several 1 MB Query pages), until
   * an item of another command.
   */
  lastCommandEvents(pk: string, commandId: string): Promise<EventEnvelope[]>;
  /** The events from `range.fromVersion` to `range.toVersion`, in version order. */
  envelopes(pk: string, range: ReadRange): AsyncGenerator<EventEnvelope>;
}

/** Checks `read` options and applies their defaults; throws `ConfigurationError` on an unknown key or a bad range. */
export function readRange(options?: ReadOptions): ReadRange {
  return parseOptions(READ_OPTIONS_SCHEMA, options, { factory: 'read' });
}

/** The reads of the event-log table `tableName`. */
export function createLogReads(dynamodb: DynamoDBClient, tableName: string): LogReads {
  const toEnvelope = (raw: Record<string, AttributeValue>): EventEnvelope => {
    const plain = unmarshall(raw);
    try {
      return envelopeFromEventLogItem(parseEventLogItem(plain));
    } catch (cause) {
      throw new CorruptEventLogItemError({ tableName, pk: plain[PK], sk: plain[SK] }, cause);
    }
  };

  const head = async (pk: string): Promise<AggregateHead | undefined> => {
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

  /** The items of a strongly consistent Query, page by page; `page()` gives each page's input. */
  async function* queryPages(
    page: () => Omit<QueryCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'>,
  ): AsyncGenerator<Record<string, AttributeValue>[]> {
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await dynamodb.send(
        new QueryCommand({
          ...page(),
          TableName: tableName,
          ConsistentRead: true,
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      );
      yield output.Items ?? [];
      exclusiveStartKey = output.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  const lastCommandEvents = async (pk: string, commandId: string): Promise<EventEnvelope[]> => {
    const events: EventEnvelope[] = [];
    const newestFirst = queryPages(() => ({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ScanIndexForward: false,
      Limit: MAX_EVENTS_PER_COMMAND + 1 - events.length,
    }));
    for await (const items of newestFirst) {
      for (const item of items) {
        if (item.commandId?.S !== commandId) return events.reverse();
        events.push(toEnvelope(item));
      }
      if (events.length > MAX_EVENTS_PER_COMMAND) break;
    }
    return events.reverse();
  };

  async function* envelopes(pk: string, range: ReadRange): AsyncGenerator<EventEnvelope> {
    const inVersionOrder = queryPages(() => ({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': { S: pk },
        ':from': { N: String(range.fromVersion) },
        ':to': { N: String(range.toVersion) },
      },
      Limit: range.pageSize,
    }));
    for await (const items of inVersionOrder) for (const item of items) yield toEnvelope(item);
  }

  return { head, commandIdAt, lastCommandEvents, envelopes };
}
