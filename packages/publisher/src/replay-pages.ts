/**
 * Replay's pages: reading one page of the log (a strongly consistent Query of one aggregate, or a
 * Scan of the whole log or one segment of it) and turning its items into outgoing records, each
 * aggregate's in version order, with where each item went so the resume point can be found.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import {
  EVENT_LOG_KEY,
  envelopeFromEventLogItem,
  parseEventLogItem,
  type TidemarkLogger,
} from '@tidemark/core';
import { describeError } from '@tidemark/core/internal';
import type { OutgoingRecord } from './ordered-publish';
import { outgoingRecord } from './outgoing-records';
import type { StreamRoute } from './publisher-types';

/** What part of the log a replay reads, and how much per page. */
export interface LogPageQuery {
  readonly tableName: string;
  readonly pageSize: number;
  /** One aggregate (a Query of its key from `fromVersion`); absent: the whole log (a Scan). */
  readonly aggregate?: { readonly key: string; readonly fromVersion: number };
  /** One segment of a parallel Scan, with `totalSegments`. */
  readonly segment?: number;
  readonly totalSegments?: number;
}

/**
 * Reads the page of the log that starts after `startKey` (the first page without it).
 *
 * @example
 * ```ts
 * const page = await readLogPage(dynamodb, { tableName: 'task-events', pageSize: 500 }, undefined);
 * ```
 */
export async function readLogPage(
  dynamodb: DynamoDBClient,
  { tableName, pageSize, aggregate, segment, totalSegments }: LogPageQuery,
  after: { readonly pk: string; readonly sk: number } | undefined,
): Promise<Pick<ScanCommandOutput, 'Items' | 'LastEvaluatedKey'>> {
  const startKey: Record<string, AttributeValue> | undefined = after
    ? {
        [EVENT_LOG_KEY.partitionKey]: { S: after.pk },
        [EVENT_LOG_KEY.sortKey]: { N: String(after.sk) },
      }
    : undefined;
  return aggregate !== undefined
    ? await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk >= :from',
          ExpressionAttributeNames: { '#pk': EVENT_LOG_KEY.partitionKey, '#sk': EVENT_LOG_KEY.sortKey },
          ExpressionAttributeValues: {
            ':pk': { S: aggregate.key },
            ':from': { N: String(aggregate.fromVersion) },
          },
          ConsistentRead: true,
          Limit: pageSize,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        } satisfies QueryCommandInput),
      )
    : await dynamodb.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          Limit: pageSize,
          ...(totalSegments !== undefined ? { Segment: segment!, TotalSegments: totalSegments } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        } satisfies ScanCommandInput),
      );
}

/** A page's outgoing records, and for each item (page order) the position of its record. */
export interface PageRecords {
  /** Each aggregate's records in version order. */
  readonly records: OutgoingRecord[];
  /** By item index: its record's position in `records`, `undefined` for an item that is not an event. */
  readonly recordOfItem: (number | undefined)[];
  /** Items that are not events (each logged). */
  readonly skipped: number;
}

/**
 * Turns a page's unmarshalled items into outgoing records; an item that is not an event is logged
 * and skipped.
 *
 * @example
 * ```ts
 * const { records, recordOfItem } = pageRecords(items, () => 'task-events', logger);
 * ```
 */
export function pageRecords(
  items: readonly Record<string, unknown>[],
  route: StreamRoute,
  logger: TidemarkLogger,
): PageRecords {
  let skipped = 0;
  // Items in scan order. DynamoDB stores an aggregate's items together in version order and a
  // Scan reads them so; the records are still put in version order per aggregate, as the waves
  // need, and `recordOfItem` maps each item (scan order, for the resume point) to its record.
  const candidates: { record: OutgoingRecord; version: number; item: number }[] = [];
  const recordOfItem: (number | undefined)[] = items.map(() => undefined);
  items.forEach((item, index) => {
    try {
      const envelope = envelopeFromEventLogItem(parseEventLogItem(item));
      candidates.push({
        record: outgoingRecord(envelope, route),
        version: envelope.aggregateversion,
        item: index,
      });
    } catch (error) {
      skipped += 1;
      logger.error('An item of the event log is not an event; replay skips it', {
        pk: item[EVENT_LOG_KEY.partitionKey],
        sk: item[EVENT_LOG_KEY.sortKey],
        error: describeError(error),
      });
    }
  });
  const byAggregate = new Map<string, typeof candidates>();
  for (const candidate of candidates) {
    const list = byAggregate.get(candidate.record.key);
    if (list) list.push(candidate);
    else byAggregate.set(candidate.record.key, [candidate]);
  }
  const records: OutgoingRecord[] = [];
  for (const list of byAggregate.values()) {
    for (const candidate of list.sort((a, b) => a.version - b.version)) {
      recordOfItem[candidate.item] = records.length;
      records.push(candidate.record);
    }
  }
  return { records, recordOfItem, skipped };
}
