/**
 * One table of the model: its key schema, its items in DynamoDB's key order (partition key, then
 * sort key: strings by UTF-8 bytes, numbers numerically, binary by bytes) and key validation with
 * DynamoDB's limits and messages.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue, ScalarAttributeType, TableDescription } from '@aws-sdk/client-dynamodb';
import {
  type AttributeMap,
  cloneItem,
  cloneValue,
  compareScalars,
  itemSize,
  setAttribute,
  typeOf,
  utf8Length,
  valueSize,
} from './attribute-value';
import { ModelValidationError } from './model-validation-error';

/** The maximum size of a partition key value, in bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
/** The maximum size of a sort key value, in bytes. */
export const MAX_SORT_KEY_BYTES = 1024;

/** One key attribute of a table. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: ScalarAttributeType;
}

/** The key schema of a table. */
export interface TableKeySchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** Encodes one key value as a string that identifies it (not for ordering). */
function encodeKeyValue(value: AttributeValue): string {
  if (value.S !== undefined) return `S${value.S}`;
  if (value.N !== undefined) return `N${value.N}`;
  return `B${Buffer.from(value.B!).toString('base64')}`;
}

/** A stored item with its size (computed once, when it is written). */
export interface StoredItem {
  readonly item: AttributeMap;
  readonly size: number;
}

/** The items of one partition key value, with their sort order cached until the next write. */
interface Partition {
  readonly value: AttributeValue;
  readonly hash: number;
  readonly items: Map<string, StoredItem>;
  sorted: StoredItem[] | undefined;
}

/**
 * A table of the model. Items are stored as validated, normalised deep copies; what leaves the
 * table through its public methods is a copy too.
 */
export class Table {
  /** Partition key id → its partition. */
  readonly #partitions = new Map<string, Partition>();
  #count = 0;

  constructor(
    readonly name: string,
    readonly keySchema: TableKeySchema,
    readonly description: TableDescription,
  ) {}

  /** The key attribute names, partition key first. */
  get keyNames(): string[] {
    const { partitionKey, sortKey } = this.keySchema;
    return sortKey ? [partitionKey.name, sortKey.name] : [partitionKey.name];
  }

  /** The number of items. */
  get size(): number {
    return this.#count;
  }

  /**
   * Checks a `Key` parameter: exactly the key attributes, of the right types, non-empty and within
   * the size limits. Returns the key in attribute-name order of the schema.
   */
  checkKey(key: AttributeMap | undefined): AttributeMap {
    if (key === undefined || key === null || typeof key !== 'object') {
      throw new ModelValidationError('The provided key element does not match the schema');
    }
    const names = Object.keys(key);
    if (names.length !== this.keyNames.length || !this.keyNames.every((name) => Object.hasOwn(key, name))) {
      throw new ModelValidationError('The provided key element does not match the schema');
    }
    for (const name of this.keyNames) {
      const attribute =
        name === this.keySchema.partitionKey.name ? this.keySchema.partitionKey : this.keySchema.sortKey!;
      if (typeOf(key[name]!) !== attribute.type) {
        throw new ModelValidationError('The provided key element does not match the schema');
      }
    }
    this.#checkKeyValues(key);
    return this.keyOf(key);
  }

  /** Checks the key attributes of a whole item (PutItem): present, right type, non-empty, within limits. */
  checkItemKey(item: AttributeMap): AttributeMap {
    for (const attribute of [this.keySchema.partitionKey, this.keySchema.sortKey]) {
      if (!attribute) continue;
      const value = Object.hasOwn(item, attribute.name) ? item[attribute.name] : undefined;
      if (value === undefined) {
        throw new ModelValidationError(
          `One or more parameter values were invalid: Missing the key ${attribute.name} in the item`,
        );
      }
      const actual = typeOf(value);
      if (actual !== attribute.type) {
        throw new ModelValidationError(
          `One or more parameter values were invalid: Type mismatch for key ${attribute.name} expected: ${attribute.type} actual: ${actual}`,
        );
      }
    }
    this.#checkKeyValues(item);
    return this.keyOf(item);
  }

  #checkKeyValues(item: AttributeMap): void {
    for (const attribute of [this.keySchema.partitionKey, this.keySchema.sortKey]) {
      if (!attribute) continue;
      const value = item[attribute.name]!;
      const empty =
        (value.S !== undefined && value.S.length === 0) ||
        (value.B !== undefined && value.B.byteLength === 0);
      if (empty) {
        throw new ModelValidationError(
          `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${value.S !== undefined ? 'string' : 'binary'} value. Key: ${attribute.name}`,
        );
      }
    }
    const { partitionKey, sortKey } = this.keySchema;
    if (valueSize(item[partitionKey.name]!) > MAX_PARTITION_KEY_BYTES) {
      throw new ModelValidationError(
        `One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of ${MAX_PARTITION_KEY_BYTES} bytes`,
      );
    }
    if (sortKey && valueSize(item[sortKey.name]!) > MAX_SORT_KEY_BYTES) {
      throw new ModelValidationError(
        `One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of ${MAX_SORT_KEY_BYTES} bytes`,
      );
    }
  }

  /** The key attributes of an item. */
  keyOf(item: AttributeMap): AttributeMap {
    const key: AttributeMap = {};
    for (const name of this.keyNames) setAttribute(key, name, item[name]!);
    return cloneItem(key);
  }

  /** A string identifying an item's key. */
  keyId(item: AttributeMap): string {
    return JSON.stringify(this.keyNames.map((name) => encodeKeyValue(item[name]!)));
  }

  #sortId(item: AttributeMap): string {
    const sortKey = this.keySchema.sortKey;
    return sortKey ? encodeKeyValue(item[sortKey.name]!) : '';
  }

  /** The stored item with this key (a copy), if any. */
  get(key: AttributeMap): AttributeMap | undefined {
    const pk = encodeKeyValue(key[this.keySchema.partitionKey.name]!);
    const stored = this.#partitions.get(pk)?.items.get(this.#sortId(key));
    return stored === undefined ? undefined : cloneItem(stored.item);
  }

  /** Stores an item (a copy) under its key. */
  put(item: AttributeMap): void {
    const value = item[this.keySchema.partitionKey.name]!;
    const pk = encodeKeyValue(value);
    let partition = this.#partitions.get(pk);
    if (!partition) {
      partition = {
        value: cloneValue(value),
        hash: partitionHash(value),
        items: new Map(),
        sorted: undefined,
      };
      this.#partitions.set(pk, partition);
    }
    const sortId = this.#sortId(item);
    if (!partition.items.has(sortId)) this.#count += 1;
    const copy = cloneItem(item);
    partition.items.set(sortId, { item: copy, size: itemSize(copy) });
    partition.sorted = undefined;
  }

  /** Deletes the item with this key. */
  delete(key: AttributeMap): void {
    const pk = encodeKeyValue(key[this.keySchema.partitionKey.name]!);
    const partition = this.#partitions.get(pk);
    if (!partition?.items.delete(this.#sortId(key))) return;
    this.#count -= 1;
    partition.sorted = undefined;
    if (partition.items.size === 0) this.#partitions.delete(pk);
  }

  /** Compares two items by sort key (same partition). */
  compareSortKeys(a: AttributeMap, b: AttributeMap): number {
    const sortKey = this.keySchema.sortKey;
    return sortKey ? compareScalars(a[sortKey.name]!, b[sortKey.name]!) : 0;
  }

  #sorted(partition: Partition): StoredItem[] {
    partition.sorted ??= [...partition.items.values()].sort((a, b) => this.compareSortKeys(a.item, b.item));
    return partition.sorted;
  }

  /**
   * The items of one partition in sort-key order, as stored: the caller must not change them and
   * must copy what it hands out.
   */
  partitionItems(partitionValue: AttributeValue): readonly StoredItem[] {
    const partition = this.#partitions.get(encodeKeyValue(partitionValue));
    return partition ? this.#sorted(partition) : [];
  }

  /** The items of one partition in sort-key order (copies). */
  partition(partitionValue: AttributeValue): AttributeMap[] {
    return this.partitionItems(partitionValue).map((stored) => cloneItem(stored.item));
  }

  /**
   * Every item in scan order: by a hash of the partition key (as DynamoDB spreads partitions), then
   * by sort key; each with its partition's hash in [0, 1). As stored: the caller must copy.
   */
  scanItems(): readonly (StoredItem & { readonly hash: number })[] {
    const partitions = [...this.#partitions.values()].sort(
      (a, b) => a.hash - b.hash || compareScalars(a.value, b.value),
    );
    return partitions.flatMap((partition) =>
      this.#sorted(partition).map((stored) => ({ ...stored, hash: partition.hash })),
    );
  }

  /** Every item in key order (partition key order, then sort key), as copies. */
  dump(): AttributeMap[] {
    return [...this.#partitions.values()]
      .sort((a, b) => compareScalars(a.value, b.value))
      .flatMap((partition) => this.#sorted(partition).map((stored) => cloneItem(stored.item)));
  }

  /** The total size of the items, in bytes. */
  get sizeBytes(): number {
    let total = 0;
    for (const partition of this.#partitions.values())
      for (const stored of partition.items.values()) total += stored.size;
    return total;
  }

  /** Replaces every item (for restoring a snapshot). */
  replaceAll(items: readonly AttributeMap[]): void {
    this.#partitions.clear();
    this.#count = 0;
    for (const item of items) this.put(item);
  }
}

/** A stable hash of a partition key value in [0, 1). */
export function partitionHash(value: AttributeValue): number {
  const digest = createHash('md5').update(encodeKeyValue(value)).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The UTF-8 size of a key attribute name plus its value (for capacity and size accounting). */
export function keySize(key: AttributeMap): number {
  return Object.entries(key).reduce((sum, [name, value]) => sum + utf8Length(name) + valueSize(value), 0);
}
