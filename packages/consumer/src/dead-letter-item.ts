/**
 * Dead letters and their items: every item within DynamoDB's item limit whatever the input (text
 * truncated with a marker, record data chunked), the minimal fallback, the public view and the
 * stable ids.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  DATA_CHUNK_BYTES,
  DEAD_LETTER_INLINE_DATA_BYTES,
  MAX_CONTEXT_BYTES,
  MAX_LABEL_CHARS,
  MAX_MESSAGE_CHARS,
  truncateText,
} from './limits';
import type { StoredRecord } from './stored-record';
import { deadLetterChunkKey, deadLetterKey, type Key } from './table-keys';
import type { DeadLetter, ParkedRecord, ParkReason } from './types';

/** What is stored for a dead letter (the record's data as bytes). */
export interface DeadLetterItem extends Omit<DeadLetter, 'record'> {
  readonly record: StoredRecord;
}

/**
 * The items of a dead letter, each within DynamoDB's item limit whatever the input: the message,
 * the error context and the labels copied from the envelope are truncated with a marker (their
 * full size recorded), the record data beyond {@link DEAD_LETTER_INLINE_DATA_BYTES} goes to chunk
 * items of {@link DATA_CHUNK_BYTES}. Chunks are written before the dead letter that points to them.
 */
export function deadLetterToItems(letter: DeadLetterItem): { item: Key; chunks: Key[] } {
  const { error, record, message, ...rest } = letter;
  const { data, ...source } = record;
  const inline = data.subarray(0, DEAD_LETTER_INLINE_DATA_BYTES);
  const chunks: Key[] = [];
  for (let offset = inline.byteLength, index = 1; offset < data.byteLength; offset += DATA_CHUNK_BYTES) {
    chunks.push({
      ...deadLetterChunkKey(letter.consumer, letter.id, index),
      kind: { S: 'dead-letter-chunk' },
      data: { B: data.subarray(offset, offset + DATA_CHUNK_BYTES) },
    });
    index += 1;
  }
  const boundedMessage = truncateText(message, MAX_MESSAGE_CHARS);
  const context = boundedContext(error.context);
  const label = (value: string | undefined) =>
    value === undefined ? undefined : truncateText(value, MAX_LABEL_CHARS).text;
  const item = {
    ...deadLetterKey(letter.consumer, letter.id),
    ...marshall(
      {
        kind: 'dead-letter',
        ...rest,
        message: boundedMessage.text,
        messageLength: boundedMessage.truncated ? message.length : letter.messageLength,
        eventType: label(letter.eventType),
        eventId: label(letter.eventId),
        aggregate:
          letter.aggregate === undefined
            ? undefined
            : { type: label(letter.aggregate.type), id: label(letter.aggregate.id) },
        error: {
          name: label(error.name),
          code: label(error.code),
          context: context?.json,
          contextBytes: context?.fullBytes ?? error.contextBytes,
        },
        record: {
          ...source,
          partitionKey: label(source.partitionKey),
          eventID: label(source.eventID),
          sequenceNumber: label(source.sequenceNumber),
          eventSourceARN: label(source.eventSourceARN),
          data: inline,
          dataChunks: chunks.length > 0 ? chunks.length : undefined,
        },
      },
      { removeUndefinedValues: true },
    ),
  };
  return { item, chunks };
}

/** A dead letter's own item, read back (its data holds the inline part; see `record.dataChunks`). */
export function deadLetterFromItem(item: Key): DeadLetterItem {
  const raw = unmarshall(item) as Record<string, unknown> & {
    error: { name: string; code?: string; context?: string; contextBytes?: number };
    record: StoredRecord;
  };
  const { pk: _pk, sk: _sk, kind: _kind, error, ...rest } = raw;
  const letter = {
    ...rest,
    error: {
      name: error.name,
      ...(error.code === undefined ? {} : { code: error.code }),
      ...(error.context === undefined
        ? {}
        : { context: JSON.parse(error.context) as Record<string, unknown> }),
      ...(error.contextBytes === undefined ? {} : { contextBytes: Number(error.contextBytes) }),
    },
    record: { ...raw.record, ...(raw.record.data === undefined ? { data: new Uint8Array() } : {}) },
  } as unknown as DeadLetterItem;
  return letter;
}

/** A minimal dead letter: the reason, the record's coordinates and sizes, no data. */
export function minimalDeadLetter(letter: DeadLetterItem, refusal: string): DeadLetterItem {
  const { data: _data, dataChunks: _chunks, ...source } = letter.record;
  return {
    id: letter.id,
    consumer: letter.consumer,
    reason: letter.reason,
    message: truncateText(
      `The full dead letter was refused (${refusal}); this minimal one keeps the reason and the record's coordinates. Original message: ${letter.message}`,
      MAX_MESSAGE_CHARS,
    ).text,
    messageLength: letter.message.length,
    error: {
      name: letter.error.name,
      ...(letter.error.code === undefined ? {} : { code: letter.error.code }),
    },
    parkedAt: letter.parkedAt,
    attempts: letter.attempts,
    record: { ...source, data: new Uint8Array(), dataTruncated: true },
    ...(letter.aggregate ? { aggregate: letter.aggregate } : {}),
    ...(letter.version === undefined ? {} : { version: letter.version }),
    ...(letter.eventType === undefined ? {} : { eventType: letter.eventType }),
    ...(letter.eventId === undefined ? {} : { eventId: letter.eventId }),
    ...(letter.missing ? { missing: letter.missing } : {}),
    minimal: true,
  };
}

function boundedContext(
  context: Record<string, unknown> | undefined,
): { json: string; fullBytes?: number } | undefined {
  if (context === undefined) return undefined;
  const json = safeJson(context);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= MAX_CONTEXT_BYTES) return { json };
  const preview = truncateText(json, Math.floor(MAX_CONTEXT_BYTES / 8)).text;
  return { json: safeJson({ truncated: true, preview }), fullBytes: bytes };
}

/** The public view of a stored dead letter (data in base64). */
export function toDeadLetter(item: DeadLetterItem): DeadLetter {
  const { data, dataChunks: _chunks, ...record } = item.record;
  const parked: ParkedRecord = {
    ...record,
    data: Buffer.from(data).toString(record.dataEncoding === 'text' ? 'utf8' : 'base64'),
  };
  return { ...item, record: parked };
}

/** Dead-letter ids: stable per record, so parking a record twice replaces the first. */
export function deadLetterId(
  reason: ParkReason,
  source: {
    aggregateKey?: string;
    version?: number;
    eventID: string;
    missing?: { from: number };
    batchPosition?: number;
  },
): string {
  if (reason === 'gap-expired' && source.aggregateKey !== undefined && source.missing !== undefined) {
    return `gap#${source.aggregateKey}#${String(source.missing.from).padStart(12, '0')}`;
  }
  if (source.aggregateKey !== undefined && source.version !== undefined) {
    return `event#${source.aggregateKey}#${String(source.version).padStart(12, '0')}`;
  }
  // An unreadable entry of a packed record has no aggregate: its position keeps it apart from its neighbours.
  return source.batchPosition === undefined
    ? `record#${source.eventID}`
    : `record#${source.eventID}#${source.batchPosition}`;
}

function safeJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, inner) => (typeof inner === 'bigint' ? inner.toString() : inner)) ?? '{}'
    );
  } catch {
    return '{}';
  }
}
