/**
 * The state every operation of the DynamoDB model works on: its tables and the log of writes (each
 * with its size, so a test can assert every write was within DynamoDB's limits).
 */
import { type AttributeMap, cloneItem, valuesEqual } from './attribute-value';
import type { DynamoDbOperation } from './fault-plan';
import { ModelResourceNotFoundError } from './model-validation-error';
import type { Table } from './table';

/** One item written (or deleted) by the model. */
export interface DynamoDbWriteRecord {
  /** The operation that wrote it. */
  readonly operation: DynamoDbOperation;
  /** The table. */
  readonly tableName: string;
  /** `put` (PutItem, BatchWriteItem put, transaction Put), `update` or `delete`. */
  readonly kind: 'put' | 'update' | 'delete';
  /** The item's key. */
  readonly key: AttributeMap;
  /** The size of the item written, in bytes as DynamoDB counts it (0 for a delete). */
  readonly sizeBytes: number;
}

/**
 * One change of an item, as DynamoDB Streams would record it: only writes that change an item make
 * one (a put of an identical item or a delete of a missing one does not).
 */
export interface DynamoDbChange {
  /** The position of the change among all changes of the model (from 1). */
  readonly sequence: number;
  /** The table. */
  readonly tableName: string;
  /** INSERT (no item before), MODIFY or REMOVE (no item after). */
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The operation that made the change. */
  readonly operation: DynamoDbOperation;
  /** The item's key. */
  readonly keys: AttributeMap;
  /** The item before the change (MODIFY, REMOVE). */
  readonly oldImage?: AttributeMap;
  /** The item after the change (INSERT, MODIFY). */
  readonly newImage?: AttributeMap;
}

/** Tables and write log shared by the operations of one model. */
export class ModelState {
  readonly tables = new Map<string, Table>();
  readonly writes: DynamoDbWriteRecord[] = [];

  /** @param region The region in table ARNs. */
  constructor(readonly region: string) {}

  /** The table, or a ResourceNotFoundException signal. */
  table(name: unknown): Table {
    const table = typeof name === 'string' ? this.tables.get(name) : undefined;
    if (!table) throw new ModelResourceNotFoundError(String(name));
    return table;
  }

  readonly changes: DynamoDbChange[] = [];
  #changeSequence = 0;

  /** Records one write, and the change it made to its item (if any). */
  recordWrite(
    record: DynamoDbWriteRecord,
    images: { before: AttributeMap | undefined; after: AttributeMap | undefined },
  ): void {
    this.writes.push(record);
    const { before, after } = images;
    if (before === undefined && after === undefined) return;
    if (before !== undefined && after !== undefined && valuesEqual({ M: before }, { M: after })) return;
    this.#changeSequence += 1;
    this.changes.push({
      sequence: this.#changeSequence,
      tableName: record.tableName,
      eventName: before === undefined ? 'INSERT' : after === undefined ? 'REMOVE' : 'MODIFY',
      operation: record.operation,
      keys: cloneItem(record.key),
      ...(before === undefined ? {} : { oldImage: cloneItem(before) }),
      ...(after === undefined ? {} : { newImage: cloneItem(after) }),
    });
  }
}
