/**
 * Held records and their items: a record set aside until its gap closes, its data split over
 * chunk items so any valid event can be held.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DATA_CHUNK_BYTES } from './limits';
import type { StoredRecord } from './stored-record';
import { heldChunkKey, type Key } from './table-keys';

/** A held record: the raw record, kept until its gap closes. */
export interface HeldRecord {
  readonly version: number;
  readonly heldAt: string;
  readonly record: StoredRecord;
}

/** A held record's data is split over items of at most this many bytes (a DynamoDB item holds 400 KB). */
export const HELD_CHUNK_BYTES = DATA_CHUNK_BYTES;

/** How many items a held record takes. */
export function heldChunkCount(record: StoredRecord): number {
  return Math.max(1, Math.ceil(record.data.byteLength / HELD_CHUNK_BYTES));
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
