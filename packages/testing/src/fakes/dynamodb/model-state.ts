/**
 * The state every operation of the DynamoDB model works on: its tables and the log of writes (each
 * with its size, so a test can assert every write was within DynamoDB's limits).
 */
import type { AttributeMap } from './attribute-value';
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

  /** Records one write. */
  recordWrite(record: DynamoDbWriteRecord): void {
    this.writes.push(record);
  }
}
