/**
 * Completing split commands. A command's events are the items of one DynamoDB transaction, and
 * DynamoDB Streams neither orders those items nor keeps them in one batch: a batch may hold a later
 * event of a command without an earlier one. Every item carries its command's version range
 * (`commandFirstVersion`, `commandLastVersion`), so the publisher sees which versions of a command
 * a batch lacks and reads them from the log (one strongly consistent Query per aggregate, paged)
 * before publishing, so the whole command goes out in version order. A batch that holds every
 * command it touches whole makes no request at all.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { COMMAND_ITEM_ATTRIBUTES, EVENT_LOG_KEY } from '@tidemark/event-log';

/** The most versions one command spans (a transaction holds 100 items, one is the version check). */
const MAX_COMMAND_SPAN = 99;

/** The command range an item carries, or `undefined` for an item written before ranges existed. */
export interface CommandRange {
  readonly first: number;
  readonly last: number;
}

/** Reads the command range of an unmarshalled event-log item. */
export function commandRangeOf(image: Record<string, unknown>): CommandRange | undefined {
  const first = image[COMMAND_ITEM_ATTRIBUTES.firstVersion];
  const last = image[COMMAND_ITEM_ATTRIBUTES.lastVersion];
  const version = image[EVENT_LOG_KEY.sortKey];
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || !Number.isSafeInteger(version)) {
    return undefined;
  }
  const [from, to, at] = [first as number, last as number, version as number];
  // A range that does not hold the item's own version is not trusted (the item is then published alone).
  return from >= 1 && from <= at && at <= to && to - from < MAX_COMMAND_SPAN
    ? { first: from, last: to }
    : undefined;
}

/** One record of the batch as command completion sees it. */
export interface CommandMember {
  readonly key: string;
  readonly version: number | undefined;
  readonly command: CommandRange | undefined;
}

/**
 * The versions, per aggregate key, that belong to a command the batch holds part of but that the
 * batch does not hold: these are read from the log before publishing.
 *
 * @example
 * ```ts
 * missingVersions([{ key: 'Task#1', version: 2, command: { first: 1, last: 2 } }]);
 * // Map { 'Task#1' => [1] }
 * ```
 */
export function missingVersions(members: readonly CommandMember[]): Map<string, number[]> {
  const present = new Map<string, Set<number>>();
  for (const { key, version } of members) {
    if (version === undefined) continue;
    let versions = present.get(key);
    if (!versions) {
      versions = new Set();
      present.set(key, versions);
    }
    versions.add(version);
  }
  const missing = new Map<string, Set<number>>();
  for (const { key, command } of members) {
    if (!command) continue;
    const versions = present.get(key)!;
    for (let version = command.first; version <= command.last; version += 1) {
      if (versions.has(version)) continue;
      let list = missing.get(key);
      if (!list) {
        list = new Set();
        missing.set(key, list);
      }
      list.add(version);
    }
  }
  return new Map([...missing].map(([key, versions]) => [key, [...versions].sort((a, b) => a - b)]));
}

/**
 * Reads the given versions of one aggregate from the event log with strongly consistent Queries
 * (paged when the items exceed 1 MB): one over the range they span, or one per cluster when they lie
 * further apart than a command can span (so a batch that holds a long stretch of the aggregate
 * between two split commands does not read the stretch). Returns the raw items found, by version; a
 * version absent from the answers is not in the log.
 */
export async function readVersions(
  dynamodb: DynamoDBClient,
  tableName: string,
  key: string,
  versions: readonly number[],
  signal?: AbortSignal,
): Promise<{ items: Map<number, Record<string, AttributeValue>>; requests: number }> {
  const wanted = new Set(versions);
  const items = new Map<number, Record<string, AttributeValue>>();
  let requests = 0;
  const sorted = [...wanted].sort((a, b) => a - b);
  const clusters: [number, number][] = [];
  for (const version of sorted) {
    const last = clusters[clusters.length - 1];
    if (last && version - last[1] <= MAX_COMMAND_SPAN) last[1] = version;
    else clusters.push([version, version]);
  }
  for (const [from, to] of clusters) {
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      requests += 1;
      const output = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': EVENT_LOG_KEY.partitionKey, '#sk': EVENT_LOG_KEY.sortKey },
          ExpressionAttributeValues: {
            ':pk': { S: key },
            ':from': { N: String(from) },
            ':to': { N: String(to) },
          },
          ConsistentRead: true,
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      for (const item of output.Items ?? []) {
        const version = Number(item[EVENT_LOG_KEY.sortKey]?.N);
        if (wanted.has(version)) items.set(version, item);
      }
      exclusiveStartKey = output.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }
  return { items, requests };
}

/** The table name in a DynamoDB stream ARN (`arn:aws:dynamodb:…:table/NAME/stream/…`). */
export function tableNameOfStreamArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  return /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([^/]+)\/stream\//.exec(arn)?.[1];
}
