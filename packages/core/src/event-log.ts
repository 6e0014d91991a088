import { z } from 'zod';
import { aggregateKey } from './aggregate';
import type { Ulid } from './command-id';
import {
  CLOUDEVENTS_SPEC_VERSION,
  ENVELOPE_CONTENT_TYPE,
  ENVELOPE_PATTERNS,
  type EventEnvelope,
  type EventMetadata,
  envelopeMetadata,
  validateEnvelope,
  validateItemEnvelope,
} from './envelope';
import { fastEventLogItem } from './envelope-fast-path';
import { EnvelopeValidationError } from './errors';
import { toValidationIssues } from './issues';

/** Attribute names of the event-log table's key. */
export const EVENT_LOG_KEY = Object.freeze({
  /** Partition key attribute: the aggregate key `type#id` (string). */
  partitionKey: 'pk',
  /** Sort key attribute: the aggregate version (number). */
  sortKey: 'sk',
} as const);

/**
 * The shape of a CreateTable request for an event log, compatible with the AWS SDK's
 * `CreateTableCommandInput` (core imports no AWS client).
 */
export interface EventLogTableDescription {
  readonly TableName: string;
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' }[];
  readonly KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly BillingMode: 'PAY_PER_REQUEST';
  readonly StreamSpecification: { StreamEnabled: true; StreamViewType: 'NEW_IMAGE' };
}

/**
 * Describes the event-log table: partition key `pk` (aggregate key), sort key `sk` (version),
 * on-demand capacity, and a stream with `NEW_IMAGE` (the publisher needs nothing else).
 *
 * @example
 * ```ts
 * import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
 * import { eventLogTableDescription } from '@tidemark/core';
 *
 * await dynamodb.send(new CreateTableCommand(eventLogTableDescription('task-events')));
 * ```
 */
export function eventLogTableDescription(tableName: string): EventLogTableDescription {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: EVENT_LOG_KEY.partitionKey, AttributeType: 'S' },
      { AttributeName: EVENT_LOG_KEY.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: EVENT_LOG_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: EVENT_LOG_KEY.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  };
}

/** One event in the log, as a plain (unmarshalled) DynamoDB item. */
export interface EventLogItem {
  /** The aggregate key, `type#id`. */
  readonly pk: string;
  /** The aggregate version. */
  readonly sk: number;
  /** The aggregate type. */
  readonly aggregateType: string;
  /** The aggregate id. */
  readonly aggregateId: string;
  /** The event id (ULID). */
  readonly eventId: Ulid;
  /** The event type. */
  readonly eventType: string;
  /** The payload schema version. */
  readonly schemaVersion: number;
  /** The oldest reader schema version that can read the payload; absent means `schemaVersion`. */
  readonly readableFrom?: number;
  /** The command id (ULID). */
  readonly commandId: Ulid;
  /** When the event was appended (RFC 3339). */
  readonly time: string;
  /** The envelope `source`. */
  readonly source: string;
  /** The payload, stored as a native DynamoDB map. */
  readonly payload: Record<string, unknown>;
  /** Correlation, causation and trace context; absent when empty. */
  readonly metadata?: EventMetadata;
}

const metadataSchema = z.object({
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
});

const eventLogItemSchema = z.object({
  pk: z.string().min(1),
  sk: z.int().min(1),
  aggregateType: z.string().min(1),
  aggregateId: z.string().min(1),
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  schemaVersion: z.int().min(1),
  readableFrom: z.int().min(1).optional(),
  commandId: z.string().min(1),
  time: z.string().min(1),
  source: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  metadata: metadataSchema.optional(),
});

/**
 * Reads an unmarshalled DynamoDB item as an event-log item, or throws
 * {@link EnvelopeValidationError} with the reasons (for example, an item that is not an event).
 *
 * @example
 * ```ts
 * import { unmarshall } from '@aws-sdk/util-dynamodb';
 * import { parseEventLogItem } from '@tidemark/core';
 * const item = parseEventLogItem(unmarshall(record.dynamodb.NewImage));
 * ```
 */
export function parseEventLogItem(value: unknown): EventLogItem {
  const result = eventLogItemSchema.safeParse(value);
  if (!result.success)
    throw new EnvelopeValidationError(toValidationIssues(result.error), { what: 'event-log item' });
  const item = result.data;
  if (item.pk !== aggregateKey({ type: item.aggregateType, id: item.aggregateId })) {
    throw new EnvelopeValidationError(
      [{ path: 'pk', message: 'must equal aggregateType#aggregateId', code: 'custom' }],
      { what: 'event-log item', pk: item.pk },
    );
  }
  return item as EventLogItem;
}

/**
 * Maps an event-log item to its envelope (and validates the result).
 *
 * @example
 * ```ts
 * import { envelopeFromEventLogItem } from '@tidemark/core';
 * const envelope = envelopeFromEventLogItem(item);
 * ```
 */
export function envelopeFromEventLogItem(item: EventLogItem): EventEnvelope {
  return validateEnvelope(envelopeOfItem(item));
}

/**
 * Reads an unmarshalled DynamoDB item as an event and maps it to its envelope: what
 * `envelopeFromEventLogItem(parseEventLogItem(value))` does, with the same errors, but each rule
 * checked once (the envelope is checked only for what the item's schema does not cover).
 *
 * @internal
 */
export function envelopeFromEventLogImage(value: unknown): EventEnvelope {
  // A plain valid item is checked by hand (the same rules); anything else goes through the schemas.
  const checked = fastEventLogItem(value, ENVELOPE_PATTERNS);
  if (checked !== undefined) return envelopeOfItem(checked) as unknown as EventEnvelope;
  return validateItemEnvelope(envelopeOfItem(parseEventLogItem(value)));
}

/** @internal The envelope of an item, unchecked, its fields in the envelope's order. */
export function envelopeOfItem(item: Omit<EventLogItem, 'pk'>): Record<string, unknown> {
  const metadata = item.metadata ?? {};
  const envelope: Record<string, unknown> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: item.eventId,
    source: item.source,
    type: item.eventType,
    subject: item.aggregateId,
    time: item.time,
    datacontenttype: ENVELOPE_CONTENT_TYPE,
    data: item.payload,
    aggregatetype: item.aggregateType,
    aggregateid: item.aggregateId,
    aggregateversion: item.sk,
    commandid: item.commandId,
    schemaversion: item.schemaVersion,
  };
  if (item.readableFrom !== undefined) envelope.readablefrom = item.readableFrom;
  if (metadata.correlationId !== undefined) envelope.correlationid = metadata.correlationId;
  if (metadata.causationId !== undefined) envelope.causationid = metadata.causationId;
  if (metadata.traceparent !== undefined) envelope.traceparent = metadata.traceparent;
  if (metadata.tracestate !== undefined) envelope.tracestate = metadata.tracestate;
  return envelope;
}

/**
 * Maps an envelope to the event-log item that stores it.
 *
 * @example
 * ```ts
 * import { eventLogItemFromEnvelope } from '@tidemark/core';
 * const item = eventLogItemFromEnvelope(envelope);
 * ```
 */
export function eventLogItemFromEnvelope(envelope: EventEnvelope): EventLogItem {
  const metadata = envelopeMetadata(envelope);
  return {
    pk: aggregateKey({ type: envelope.aggregatetype, id: envelope.aggregateid }),
    sk: envelope.aggregateversion,
    aggregateType: envelope.aggregatetype,
    aggregateId: envelope.aggregateid,
    eventId: envelope.id,
    eventType: envelope.type,
    schemaVersion: envelope.schemaversion,
    ...(envelope.readablefrom === undefined ? {} : { readableFrom: envelope.readablefrom }),
    commandId: envelope.commandid,
    time: envelope.time,
    source: envelope.source,
    payload: envelope.data,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}
