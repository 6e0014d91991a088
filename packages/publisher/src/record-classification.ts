/**
 * Classifying stream records: what the publisher does with each record of a batch. An INSERT of an
 * event item is published; a MODIFY or REMOVE is a history rewrite (never published); an item
 * without an event-log key is skipped as not an event; an INSERT that can never be published (no
 * NewImage, not an event, unroutable, too large) is poison: it keeps its aggregate key and version,
 * so it holds back that aggregate's later versions and nothing else. Every case but a plain
 * publish is logged here, with the record's coordinates and never its payload.
 */
import type { EventEnvelope, TidemarkLogger } from '@tidemark/core';
import { describeError, envelopeFromEventLogImage } from '@tidemark/core/internal';
import type { DynamoDBRecord } from 'aws-lambda';
import { type CommandMember, type CommandRange, commandRangeOf } from './command-completion';
import { type HistoryRewrite, type HistoryRewritePolicy, reportHistoryRewrite } from './history-rewrites';
import type { OutgoingRecord } from './ordered-publish';
import { outgoingRecord, poisonRecord } from './outgoing-records';
import type { StreamRoute } from './publisher-types';
import { keyAttributes, type RecordImages } from './stream-records';

/** What the publisher does with one stream record. */
export type ClassifiedRecord =
  | { readonly kind: 'skip'; readonly reason: 'not-an-event' }
  | { readonly kind: 'rewrite'; readonly reason: HistoryRewrite }
  | {
      readonly kind: 'publish';
      readonly record: OutgoingRecord;
      readonly command: CommandRange | undefined;
      readonly poison: boolean;
    };

/** What classification needs from the publisher. */
export interface ClassificationContext {
  readonly route: StreamRoute;
  readonly logger: TidemarkLogger;
  readonly onHistoryRewrite: HistoryRewritePolicy;
}

/**
 * Classifies the stream record at `index` of the batch, from its (already unmarshalled) images.
 *
 * @example
 * ```ts
 * const classified = records.map((record, index) => classifyRecord(record, marshalledImages(record), index, context));
 * ```
 */
export function classifyRecord(
  record: DynamoDBRecord,
  images: RecordImages,
  index: number,
  { route, logger, onHistoryRewrite }: ClassificationContext,
): ClassifiedRecord {
  const { image, keys: itemKeys } = images;
  const keys = { sequenceNumber: record.dynamodb?.SequenceNumber, index };
  const coordinates = keyAttributes(itemKeys ?? image ?? images.oldImage);
  if (record.eventName === 'MODIFY' || record.eventName === 'REMOVE') {
    const reason = reportHistoryRewrite(record.eventName, images, keys, coordinates, {
      logger,
      onHistoryRewrite,
    });
    return { kind: 'rewrite', reason };
  }
  if (record.eventName !== 'INSERT') {
    logger.error('A stream record with an unknown eventName is not published', {
      ...keys,
      eventName: record.eventName,
    });
    return { kind: 'skip', reason: 'not-an-event' };
  }
  const poisonAt = (
    reason: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): ClassifiedRecord => {
    const key = typeof coordinates.aggregateKey === 'string' ? coordinates.aggregateKey : undefined;
    const version = coordinates.aggregateVersion;
    logger.error(message, { ...keys, ...coordinates, ...extra, reason });
    return {
      kind: 'publish',
      poison: true,
      command: undefined,
      // Without an aggregate key it holds back nothing but itself.
      record: poisonRecord(
        key ?? `#unknown:${index}`,
        reason,
        { ...keys, ...coordinates },
        { version: typeof version === 'number' ? version : undefined },
      ),
    };
  };
  if (image === undefined) {
    return poisonAt(
      'the stream record has no NewImage',
      'An INSERT without NewImage cannot be published; set the stream view type to NEW_IMAGE',
    );
  }
  let envelope: EventEnvelope;
  try {
    envelope = envelopeFromEventLogImage(image);
  } catch (error) {
    if (typeof coordinates.aggregateKey !== 'string' || coordinates.aggregateVersion === undefined) {
      // Not in any aggregate's history (no event-log key): nothing waits for it.
      logger.error('An item inserted in the event log is not an event and has no event key; skipped', {
        ...keys,
        error: describeError(error),
      });
      return { kind: 'skip', reason: 'not-an-event' };
    }
    return poisonAt(
      `not an event: ${describeError(error).message}`,
      'An item inserted in the event log is not an event; it cannot be published and holds back the later events of its aggregate',
      { error: describeError(error) },
    );
  }
  const outgoing = outgoingRecord(envelope, route);
  if (outgoing.poison !== undefined) {
    return poisonAt(
      outgoing.poison,
      'An event can never be published; it holds back the later events of its aggregate',
      { eventId: envelope.id, eventType: envelope.type, size: outgoing.size },
    );
  }
  return {
    kind: 'publish',
    poison: false,
    command: commandRangeOf(image),
    record: { ...outgoing, describe: { ...outgoing.describe, sequenceNumber: keys.sequenceNumber } },
  };
}

/** The records of a batch to publish, as command completion sees them (skips and rewrites left out). */
export function commandMembers(classified: readonly ClassifiedRecord[]): CommandMember[] {
  return classified.flatMap((entry) =>
    entry.kind === 'publish'
      ? [{ key: entry.record.key, version: entry.record.version, command: entry.command }]
      : [],
  );
}
