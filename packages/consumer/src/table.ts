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
 * | open gap    | `consumer#<name>#gaps`               | `<aggregate key>`    |
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeadLetter, ParkedRecord, ParkReason } from './types';

/** Attribute names of the consumer table's key. */
export const CONSUMER_TABLE_KEY = Object.freeze({
  /** Partition key attribute (string). */
  partitionKey: 'pk',
  /** Sort key attribute (string). */
  sortKey: 'sk',
} as const);

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
  if (typeof tableName !== 'string' || tableName.length < 3) {
    throw new TypeError(`consumerTableDescription: tableName must be a table name, got ${String(tableName)}`);
  }
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
  };
}

export function cloneCheckpoint(state: CheckpointState): CheckpointState {
  return { ...state, held: new Map(state.held), parked: new Set(state.parked) };
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
  readonly sequenceNumber: string;
  readonly eventID: string;
  readonly eventSourceARN: string;
  readonly partitionKey: string;
  readonly arrivedAt: string;
}

/** A held record's data is split over items of at most this many bytes (a DynamoDB item holds 400 KB). */
export const HELD_CHUNK_BYTES = 350 * 1024;

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

export function deadLetterToItem(letter: DeadLetterItem): Key {
  const { error, ...rest } = letter;
  return {
    ...deadLetterKey(letter.consumer, letter.id),
    ...marshall(
      {
        kind: 'dead-letter',
        ...rest,
        error: {
          name: error.name,
          code: error.code,
          context: error.context === undefined ? undefined : safeJson(error.context),
        },
      },
      { removeUndefinedValues: true },
    ),
  };
}

export function deadLetterFromItem(item: Key): DeadLetterItem {
  const raw = unmarshall(item) as Record<string, unknown> & {
    error: { name: string; code?: string; context?: string };
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
    },
    record: { ...raw.record },
  } as unknown as DeadLetterItem;
  return letter;
}

/** The public view of a stored dead letter (data in base64). */
export function toDeadLetter(item: DeadLetterItem): DeadLetter {
  const { data, ...record } = item.record;
  const parked: ParkedRecord = {
    ...record,
    data: Buffer.from(data).toString(record.dataEncoding === 'text' ? 'utf8' : 'base64'),
  };
  return { ...item, record: parked };
}

/** Dead-letter ids: stable per record, so parking a record twice replaces the first. */
export function deadLetterId(
  reason: ParkReason,
  source: { aggregateKey?: string; version?: number; eventID: string; missing?: { from: number } },
): string {
  if (reason === 'gap-expired' && source.aggregateKey !== undefined && source.missing !== undefined) {
    return `gap#${source.aggregateKey}#${String(source.missing.from).padStart(12, '0')}`;
  }
  if (source.aggregateKey !== undefined && source.version !== undefined) {
    return `event#${source.aggregateKey}#${String(source.version).padStart(12, '0')}`;
  }
  return `record#${source.eventID}`;
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
