/**
 * Reading a DynamoDB stream event: its records, and each record's images as plain objects — from
 * the marshalled images Lambda sends, or from the plain ones `@middy/event-normalizer` leaves — plus
 * the event-log key an image carries. An image the SDK cannot read becomes a marker object that
 * classification reports as not an event; nothing here throws on a record.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { EVENT_LOG_KEY } from '@tidemark/core';
import { describeError } from '@tidemark/core/internal';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { PublisherError } from './errors';

/** The images of one stream record, unmarshalled. */
export interface RecordImages {
  readonly image: Record<string, unknown> | undefined;
  readonly oldImage: Record<string, unknown> | undefined;
  readonly keys: Record<string, unknown> | undefined;
}

/** The records of a stream event; a `PublisherError` (`STREAM_EVENT_INVALID`) when it has none. */
export function recordsOf(event: DynamoDBStreamEvent): DynamoDBRecord[] {
  if (!Array.isArray(event?.Records)) {
    throw new PublisherError(
      'STREAM_EVENT_INVALID',
      'The event is not a DynamoDB stream event (no Records array)',
    );
  }
  return event.Records;
}

/** The images of a record exactly as Lambda sends it (marshalled). */
export function marshalledImages(record: DynamoDBRecord): RecordImages {
  const loosely = (image: unknown) => (image === undefined ? undefined : unmarshallLoosely(image));
  return {
    image: loosely(record.dynamodb?.NewImage),
    oldImage: loosely(record.dynamodb?.OldImage),
    keys: loosely(record.dynamodb?.Keys),
  };
}

/** The images of a record after `@middy/event-normalizer`: plain objects, `{}` when the record had none. */
export function normalizedImages(record: DynamoDBRecord): RecordImages {
  const plain = (image: unknown) =>
    image === undefined || Object.keys(image as object).length === 0
      ? undefined
      : (image as Record<string, unknown>);
  return {
    image: plain(record.dynamodb?.NewImage),
    oldImage: plain(record.dynamodb?.OldImage),
    keys: plain(record.dynamodb?.Keys),
  };
}

/** Unmarshalls an image or a raw item; one the SDK cannot read becomes `{ unreadableImage: reason }`. */
export function unmarshallLoosely(image: unknown): Record<string, unknown> | undefined {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the Lambda and SDK AttributeValue types differ only nominally
    return unmarshall(image as any, { wrapNumbers: false });
  } catch (error) {
    // An image the SDK cannot read is not an event: classification logs it (with this reason) and counts it.
    return { unreadableImage: describeError(error).message };
  }
}

/** The aggregate key and version of an item, from its key attributes (whatever else it holds). */
export function keyAttributes(image: Record<string, unknown> | undefined): {
  aggregateKey?: unknown;
  aggregateVersion?: unknown;
} {
  if (!image) return {};
  const sk = image[EVENT_LOG_KEY.sortKey];
  return {
    aggregateKey: image[EVENT_LOG_KEY.partitionKey],
    aggregateVersion: typeof sk === 'number' && Number.isSafeInteger(sk) && sk >= 1 ? sk : undefined,
  };
}
