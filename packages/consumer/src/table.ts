/**
 * The consumer table: item layout, keys and conversions. One table holds checkpoints, held records
 * and (by default) dead letters; every key is a string pair `pk`/`sk`.
 *
 * | item        | pk                                   | sk                   |
 * | ----------- | ------------------------------------ | -------------------- |
 * | checkpoint  | `consumer#<name>#<aggregate key>`    | `checkpoint`         |
 * | held record | `consumer#<name>#<aggregate key>`    | `held#<version, 12 digits>` |
 * | held chunk  | `consumer#<name>#<aggregate key>`    | `held#<version>#<nnn>` (data beyond 350 KiB) |
 * | dead letter | `consumer#<name>#dead-letters`       | `<dead-letter id>`   |
 * | dead-letter data chunk | `consumer#<name>#dead-letter-data#<id>` | `chunk#<nnn>` (data beyond 256 KiB) |
 * | open gap    | `consumer#<name>#gaps`               | `<aggregate key>`    |
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { parseOptions } from '@tidemark/core/internal';
import { z } from 'zod';
import {
  DATA_CHUNK_BYTES,
  DEAD_LETTER_INLINE_DATA_BYTES,
  MAX_CONTEXT_BYTES,
  MAX_LABEL_CHARS,
  MAX_MESSAGE_CHARS,
  truncateText,
} from './limits';
import { TABLE_NAME_SCHEMA } from './options';
import type { SkippedRange } from './rules/skipped-ranges';
import type { DeadLetter, ParkedRecord, ParkReason, RecordBatchPosition } from './types';

/** Attribute names of the consumer table's key. */
export const CONSUMER_TABLE_KEY = Object.freeze({
  /** Partition key attribute (string). */
  partitionKey: 'pk',
  /** Sort key attribute (string). */
  sortKey: 'sk',
} as const);

/**
 * The consumer table's TTL attribute (epoch seconds). Only the in-flight markers carry it (they
 * expire a day after their batch); enable TTL on it (`UpdateTimeToLive`, or `timeToLiveAttribute` in
 * CDK — `@tidemark/cdk`'s `EventConsumer` does) so they do not pile up. Nothing else ever expires.
 */
export const CONSUMER_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The shape of a CreateTable request for a consumer table, compatible with the AWS SDK's
 * `CreateTableCommandInput`.
 */
export interface ConsumerTableDescription {
  readonly TableName: string;
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  readonly KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly BillingMode: 'PAY_PER_REQUEST';
}

const TABLE_DESCRIPTION_SCHEMA = z.strictObject({ tableName: TABLE_NAME_SCHEMA });

/**
 * Describes the consumer table: string partition key `pk`, string sort key `sk`, on-demand
 * capacity. Checkpoints, held records and dead letters of any number of consumers share it.
 *
 * @example
 * ```ts
 * import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
 * import { consumerTableDescription } from '@tidemark/consumer';
 *
 * await dynamodb.send(new CreateTableCommand(consumerTableDescription('consumer-state')));
 * ```
 */
export function consumerTableDescription(tableName: string): ConsumerTableDescription {
  parseOptions(TABLE_DESCRIPTION_SCHEMA, { tableName }, { factory: 'consumerTableDescription' });
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: CONSUMER_TABLE_KEY.partitionKey, AttributeType: 'S' },
      { AttributeName: CONSUMER_TABLE_KEY.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: CONSUMER_TABLE_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: CONSUMER_TABLE_KEY.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export type Key = Record<string, AttributeValue>;

export const CHECKPOINT_SK = 'checkpoint';
const HELD_PREFIX = 'held#';

export function aggregatePk(consumer: string, aggregateKey: string): string {
  return `consumer#${consumer}#${aggregateKey}`;
}
export function checkpointKey(consumer: string, aggregateKey: string): Key {
  return { pk: { S: aggregatePk(consumer, aggregateKey) }, sk: { S: CHECKPOINT_SK } };
}
export function heldKey(consumer: string, aggregateKey: string, version: number): Key {
  return {
    pk: { S: aggregatePk(consumer, aggregateKey) },
    sk: { S: `${HELD_PREFIX}${String(version).padStart(12, '0')}` },
  };
}
export function deadLetterPk(consumer: string): string {
  return `consumer#${consumer}#dead-letters`;
}
export function deadLetterKey(consumer: string, id: string): Key {
  return { pk: { S: deadLetterPk(consumer) }, sk: { S: id } };
}
/** The key of data chunk `index` (1 and up; 0 is inline) of a dead letter's record. */
export function deadLetterChunkKey(consumer: string, id: string, index: number): Key {
  return {
    pk: { S: `consumer#${consumer}#dead-letter-data#${id}` },
    sk: { S: `chunk#${String(index).padStart(3, '0')}` },
  };
}

export function gapsPk(consumer: string): string {
  return `consumer#${consumer}#gaps`;
}
export function gapKey(consumer: string, aggregateKey: string): Key {
  return { pk: { S: gapsPk(consumer) }, sk: { S: aggregateKey } };
}

/** An aggregate with held records: the index the gap sweep reads. */
export interface OpenGapItem {
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
  /** When its first held record was set aside (ISO 8601). */
  readonly openSince: string;
}

export function gapToItem(consumer: string, gap: OpenGapItem): Key {
  return {
    ...gapKey(consumer, gap.aggregateKey),
    ...marshall({
      kind: 'gap',
      consumer,
      aggregateType: gap.aggregate.type,
      aggregateId: gap.aggregate.id,
      openSince: gap.openSince,
    }),
  };
}

export function gapFromItem(item: Key): OpenGapItem {
  const raw = unmarshall(item) as {
    sk: string;
    aggregateType: string;
    aggregateId: string;
    openSince: string;
  };
  return {
    aggregateKey: raw.sk,
    aggregate: { type: raw.aggregateType, id: raw.aggregateId },
    openSince: raw.openSince,
  };
}

/** An entry of the held-record index kept inside the checkpoint item. */
export interface HeldEntry {
  /** When the record was set aside (ISO 8601). */
  readonly heldAt: string;
  /** The record's sequence number, for logs. */
  readonly sequenceNumber: string;
  /** The event id. */
  readonly eventId: string;
  /** Items the held record takes (absent: 1). */
  readonly chunks?: number;
}

/** A handler failure being counted towards `maxAttempts`. */
export interface FailureState {
  readonly version: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly lastFailedAt: string;
}

/** The checkpoint of one (consumer, aggregate), as read or about to be written. */
export interface CheckpointState {
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
  /** Whether the item exists in the table (the condition of the next write depends on it). */
  exists: boolean;
  /** Incremented by every write: the conditional writes compare it. */
  revision: number;
  /** The high-water mark: every version at or below it is done (applied, skipped or parked). */
  version: number;
  /** The command id of the event at `version` (absent when a gap expiry moved `version`). */
  commandId?: string;
  /** The event id of the event at `version`. */
  eventId?: string;
  /** The held-record index: versions set aside because an earlier one is missing. */
  held: Map<number, HeldEntry>;
  /** The failing event's attempts, while it fails. */
  failure?: FailureState;
  /** Versions parked and not yet redriven (a redrive applies them once). */
  parked: Set<number>;
  /** Versions skipped without being applied (expired gaps, a mid-stream start), remembered. */
  skipped: SkippedRange[];
  /**
   * Set while one invocation (a batch or a gap sweep) runs this aggregate's held records: others
   * leave the aggregate alone until `until` (ISO 8601), so their handler calls never interleave.
   */
  claim?: { readonly owner: string; readonly until: string };
  /** Set by each write; a write that lands but whose answer is lost is recognised by it. */
  writeId?: string;
  updatedAt?: string;
}

export function emptyCheckpoint(
  aggregateKey: string,
  aggregate: { type: string; id: string },
): CheckpointState {
  return {
    aggregateKey,
    aggregate,
    exists: false,
    revision: 0,
    version: 0,
    held: new Map(),
    parked: new Set(),
    skipped: [],
  };
}

export function cloneCheckpoint(state: CheckpointState): CheckpointState {
  return { ...state, held: new Map(state.held), parked: new Set(state.parked), skipped: [...state.skipped] };
}

export function checkpointToItem(consumer: string, state: CheckpointState): Key {
  const held: Record<string, HeldEntry> = {};
  for (const [version, entry] of state.held) held[String(version)] = entry;
  return {
    ...checkpointKey(consumer, state.aggregateKey),
    ...marshall(
      {
        kind: 'checkpoint',
        consumer,
        aggregateType: state.aggregate.type,
        aggregateId: state.aggregate.id,
        revision: state.revision,
        version: state.version,
        commandId: state.commandId,
        eventId: state.eventId,
        held: state.held.size > 0 ? held : undefined,
        failure: state.failure,
        parked: state.parked.size > 0 ? new Set(state.parked) : undefined,
        skipped: state.skipped.length > 0 ? state.skipped.map((range) => ({ ...range })) : undefined,
        claim: state.claim,
        writeId: state.writeId,
        updatedAt: state.updatedAt,
      },
      { removeUndefinedValues: true },
    ),
  };
}

export function checkpointFromItem(aggregateKey: string, item: Key): CheckpointState {
  const raw = unmarshall(item) as {
    aggregateType: string;
    aggregateId: string;
    revision: number;
    version: number;
    commandId?: string;
    eventId?: string;
    held?: Record<string, HeldEntry>;
    failure?: FailureState;
    parked?: Set<number>;
    skipped?: SkippedRange[];
    claim?: { owner: string; until: string };
    writeId?: string;
    updatedAt?: string;
  };
  const held = new Map<number, HeldEntry>();
  for (const [version, entry] of Object.entries(raw.held ?? {})) held.set(Number(version), entry);
  const state: CheckpointState = {
    aggregateKey,
    aggregate: { type: raw.aggregateType, id: raw.aggregateId },
    exists: true,
    revision: Number(raw.revision),
    version: Number(raw.version),
    held,
    parked: new Set([...(raw.parked ?? [])].map(Number)),
    skipped: (raw.skipped ?? []).map((range) => ({
      from: Number(range.from),
      to: Number(range.to),
      cause: range.cause,
    })),
  };
  if (raw.commandId !== undefined) state.commandId = raw.commandId;
  if (raw.eventId !== undefined) state.eventId = raw.eventId;
  if (raw.failure !== undefined) {
    state.failure = {
      ...raw.failure,
      version: Number(raw.failure.version),
      attempts: Number(raw.failure.attempts),
    };
  }
  if (raw.claim !== undefined) state.claim = { owner: raw.claim.owner, until: raw.claim.until };
  if (raw.writeId !== undefined) state.writeId = raw.writeId;
  if (raw.updatedAt !== undefined) state.updatedAt = raw.updatedAt;
  return state;
}

/** A held record: the raw record, kept until its gap closes. */
export interface HeldRecord {
  readonly version: number;
  readonly heldAt: string;
  readonly record: StoredRecord;
}

/** A raw Kinesis record as stored (data as bytes). */
export interface StoredRecord {
  readonly data: Uint8Array;
  /** `'text'` when Lambda's `data` was not base64: `data` then holds that text (UTF-8). */
  readonly dataEncoding?: 'text';
  readonly dataTruncated?: boolean;
  readonly dataBytes: number;
  /** Items the data takes beyond the one holding its first part (dead letters; absent: none). */
  readonly dataChunks?: number;
  readonly sequenceNumber: string;
  readonly eventID: string;
  readonly eventSourceARN: string;
  readonly partitionKey: string;
  readonly arrivedAt: string;
  /** For an event of a packed record: its position and the events the record packs (`data` is that event alone). */
  readonly batch?: RecordBatchPosition;
}

/** A held record's data is split over items of at most this many bytes (a DynamoDB item holds 400 KB). */
export const HELD_CHUNK_BYTES = DATA_CHUNK_BYTES;

/** How many items a held record takes. */
export function heldChunkCount(record: StoredRecord): number {
  return Math.max(1, Math.ceil(record.data.byteLength / HELD_CHUNK_BYTES));
}

/** The key of chunk `index` (0 is the record's own item) of a held record. */
export function heldChunkKey(consumer: string, aggregateKey: string, version: number, index: number): Key {
  const key = heldKey(consumer, aggregateKey, version);
  return index === 0 ? key : { pk: key.pk!, sk: { S: `${key.sk!.S}#${String(index).padStart(3, '0')}` } };
}

/**
 * The items of a held record: the record (with the first chunk of its data) and, for data larger
 * than {@link HELD_CHUNK_BYTES}, one item per further chunk, so any valid event can be held.
 */
export function heldToItems(consumer: string, aggregateKey: string, held: HeldRecord): Key[] {
  const { data, ...record } = held.record;
  const chunks = heldChunkCount(held.record);
  const items: Key[] = [
    {
      ...heldChunkKey(consumer, aggregateKey, held.version, 0),
      ...marshall(
        {
          kind: 'held',
          consumer,
          version: held.version,
          heldAt: held.heldAt,
          chunks,
          record: { ...record, data: data.subarray(0, HELD_CHUNK_BYTES) },
        },
        { removeUndefinedValues: true },
      ),
    },
  ];
  for (let index = 1; index < chunks; index += 1) {
    items.push({
      ...heldChunkKey(consumer, aggregateKey, held.version, index),
      kind: { S: 'held-chunk' },
      data: { B: data.subarray(index * HELD_CHUNK_BYTES, (index + 1) * HELD_CHUNK_BYTES) },
    });
  }
  return items;
}

/** A held record's own item, read back: the record with its first chunk, and how many chunks there are. */
export function heldFromItem(item: Key): HeldRecord & { readonly chunks: number } {
  const raw = unmarshall(item) as { version: number; heldAt: string; chunks?: number; record: StoredRecord };
  return {
    version: Number(raw.version),
    heldAt: raw.heldAt,
    chunks: Number(raw.chunks ?? 1),
    record: { ...raw.record },
  };
}

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
