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
import type { EventEnvelope, TidemarkLogger } from '@tidemark/core';
import { describeError, envelopeFromEventLogImage, forEachLimited } from '@tidemark/core/internal';
import { COMMAND_ITEM_ATTRIBUTES, EVENT_LOG_KEY } from '@tidemark/event-log';
import type { OutgoingRecord } from './ordered-publish';
import { outgoingRecord, poisonRecord } from './outgoing-records';
import type { StreamRoute } from './publisher-types';
import { unmarshallLoosely } from './stream-records';

/** Queries in flight at once while completing split commands. */
const MAX_CONCURRENT_COMPLETIONS = 16;

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

/** What completing split commands needs from the publisher. */
export interface CompletionContext {
  /** The event-log table to read from; `undefined` when neither the options nor the stream name one. */
  readonly tableName: string | undefined;
  /** The DynamoDB client, made on first use (a batch of whole commands never needs it). */
  readonly dynamodb: () => DynamoDBClient;
  readonly route: StreamRoute;
  readonly logger: TidemarkLogger;
  /** When reads still in flight are aborted (epoch ms). */
  readonly abortAt: number;
}

/** The events read from the log to complete the batch's split commands. */
export interface Completion {
  /** Outgoing records (poison when a version cannot be read or is not an event), in no order. */
  readonly completions: OutgoingRecord[];
  /** Commands the batch held only part of. */
  readonly commands: number;
  /** Queries made. */
  readonly queries: number;
}

/**
 * Reads from the log the events of commands the batch holds only part of, as outgoing records
 * (published in their place in version order; they have no stream record of their own). A version
 * that cannot be read, or is not an event, becomes a poison record that holds back its aggregate.
 *
 * @example
 * ```ts
 * const { completions } = await completeSplitCommands(commandMembers(classified), {
 *   tableName: 'task-events',
 *   dynamodb: () => client,
 *   route: () => 'task-events',
 *   logger,
 *   abortAt: Date.now() + 10_000,
 * });
 * ```
 */
export async function completeSplitCommands(
  members: readonly CommandMember[],
  { tableName, dynamodb, route, logger, abortAt }: CompletionContext,
): Promise<Completion> {
  const missing = missingVersions(members);
  if (missing.size === 0) return { completions: [], commands: 0, queries: 0 };
  const commands = new Set(
    members.flatMap((member) =>
      member.command &&
      missing.get(member.key)?.some((v) => v >= member.command!.first && v <= member.command!.last)
        ? [`${member.key}@${member.command.first}`]
        : [],
    ),
  ).size;
  const completions: OutgoingRecord[] = [];
  let queries = 0;
  const unavailable = (key: string, version: number, reason: string): OutgoingRecord =>
    poisonRecord(
      key,
      reason,
      { aggregateKey: key, aggregateVersion: version, completedFromLog: true },
      { version },
    );
  const pending = [...missing];
  const completeAggregate = async ([key, versions]: [string, number[]]) => {
    if (tableName === undefined) {
      logger.error('Cannot complete a split command: no tableName option and no table in eventSourceARN', {
        aggregateKey: key,
        versions,
      });
      for (const version of versions)
        completions.push(unavailable(key, version, 'no event-log table to complete the command from'));
      return;
    }
    let found: Awaited<ReturnType<typeof readVersions>>['items'];
    try {
      const signal = AbortSignal.timeout(Math.max(abortAt - Date.now(), 1));
      const result = await readVersions(dynamodb(), tableName, key, versions, signal);
      queries += result.requests;
      found = result.items;
    } catch (error) {
      logger.error('Could not read the log to complete a split command; its events wait for the retry', {
        aggregateKey: key,
        versions,
        error: describeError(error),
      });
      for (const version of versions)
        completions.push(
          unavailable(key, version, `reading the log failed: ${describeError(error).message}`),
        );
      return;
    }
    for (const version of versions) {
      const item = found.get(version);
      const image = item === undefined ? undefined : unmarshallLoosely(item);
      let envelope: EventEnvelope | undefined;
      let parseError: unknown;
      try {
        envelope = image ? envelopeFromEventLogImage(image) : undefined;
      } catch (error) {
        parseError = error; // logged with the reason below
      }
      if (envelope === undefined || envelope.aggregateversion !== version) {
        const reason =
          item === undefined
            ? `version ${version} of a command is not in the event log (deleted?)`
            : `version ${version} in the event log is not an event${parseError === undefined ? '' : `: ${describeError(parseError).message}`}`;
        logger.error(
          'A command cannot be completed from the log; it holds back the later events of its aggregate',
          {
            aggregateKey: key,
            aggregateVersion: version,
            reason,
          },
        );
        completions.push(unavailable(key, version, reason));
        continue;
      }
      const outgoing = outgoingRecord(envelope, route);
      if (outgoing.poison !== undefined) {
        logger.error('An event read from the log to complete a command can never be published', {
          ...outgoing.describe,
          reason: outgoing.poison,
        });
      }
      completions.push({ ...outgoing, describe: { ...outgoing.describe, completedFromLog: true } });
    }
  };
  // At most MAX_CONCURRENT_COMPLETIONS Queries in flight, however many commands a batch splits.
  await forEachLimited(pending, MAX_CONCURRENT_COMPLETIONS, completeAggregate);
  logger.debug('Completed split commands from the log', { commands, queries, events: completions.length });
  return { completions, commands, queries };
}
