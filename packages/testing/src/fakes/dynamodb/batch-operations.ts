/**
 * BatchGetItem and BatchWriteItem with DynamoDB's limits: 100 keys and a 16 MB response (the rest
 * comes back in `UnprocessedKeys`), 25 requests and 16 MB per write batch, no key twice, and
 * seeded unprocessed keys or requests.
 */
import type {
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  KeysAndAttributes,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { type AttributeMap, checkItemSize, itemSize, validateItem } from './attribute-value';
import { project } from './expression-evaluator';
import { Placeholders, parseProjection } from './expression-parser';
import type { DynamoDbFaultPlan } from './fault-plan';
import { refuseLegacy } from './item-operations';
import type { ModelState } from './model-state';
import { ModelValidationError } from './model-validation-error';
import { keySize, type Table } from './table';

/** The most keys one BatchGetItem may ask for. */
export const MAX_BATCH_GET_KEYS = 100;
/** The most requests one BatchWriteItem may carry. */
export const MAX_BATCH_WRITE_REQUESTS = 25;
/** The most data one BatchGetItem returns, and one BatchWriteItem may carry (16 MB). */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

type Output<T> = Omit<T, '$metadata'>;

function requestTables<T>(requestItems: Record<string, T> | undefined, operation: string): [string, T][] {
  if (requestItems === undefined || requestItems === null || typeof requestItems !== 'object') {
    throw new ModelValidationError(
      `1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null`,
    );
  }
  const entries = Object.entries(requestItems);
  if (entries.length === 0) {
    throw new ModelValidationError(
      `1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1 (${operation})`,
    );
  }
  return entries;
}

/** BatchGetItem. */
export function batchGetItem(
  state: ModelState,
  input: BatchGetItemCommandInput,
  faults: DynamoDbFaultPlan,
): Output<BatchGetItemCommandOutput> {
  const entries = requestTables(input.RequestItems, 'BatchGetItem');
  const total = entries.reduce(
    (sum, [, request]) => sum + (Array.isArray(request?.Keys) ? request.Keys.length : 0),
    0,
  );
  if (total > MAX_BATCH_GET_KEYS)
    throw new ModelValidationError('Too many items requested for the BatchGetItem call');
  const prepared = entries.map(([tableName, request]) => {
    refuseLegacy(request, ['AttributesToGet']);
    if (!Array.isArray(request.Keys) || request.Keys.length === 0) {
      throw new ModelValidationError(
        "1 validation error detected: Value '[]' at 'requestItems.1.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const placeholders = new Placeholders(request.ExpressionAttributeNames, undefined);
    const projection =
      request.ProjectionExpression === undefined
        ? undefined
        : parseProjection(request.ProjectionExpression, placeholders);
    placeholders.checkAllUsed();
    const table = state.table(tableName);
    const seen = new Set<string>();
    const keys = request.Keys.map((raw) => {
      const key = table.checkKey(validateItem(raw, 'Key'));
      const id = table.keyId(key);
      if (seen.has(id)) throw new ModelValidationError('Provided list of item keys contains duplicates');
      seen.add(id);
      return key;
    });
    return { tableName, request, table, keys, projection };
  });
  const responses: Record<string, AttributeMap[]> = {};
  const unprocessed: Record<string, KeysAndAttributes> = {};
  let bytes = 0;
  for (const { tableName, request, table, keys, projection } of prepared) {
    responses[tableName] = [];
    for (const key of keys) {
      const item = faults.unprocessed('BatchGetItem') ? 'skip' : table.get(key);
      const returned =
        item === 'skip' || item === undefined ? item : projection ? project(item, projection) : item;
      const size = returned === 'skip' || returned === undefined ? 0 : itemSize(returned);
      if (returned === 'skip' || bytes + size > MAX_BATCH_BYTES) {
        const { Keys: _keys, ...rest } = request;
        unprocessed[tableName] ??= { ...rest, Keys: [] };
        unprocessed[tableName].Keys!.push(key);
        continue;
      }
      bytes += size;
      if (returned !== undefined) responses[tableName].push(returned);
    }
  }
  return { Responses: responses, UnprocessedKeys: unprocessed };
}

interface PreparedWrite {
  readonly tableName: string;
  readonly table: Table;
  readonly request: WriteRequest;
  readonly key: AttributeMap;
  readonly item: AttributeMap | undefined;
  readonly size: number;
}

/** BatchWriteItem. */
export function batchWriteItem(
  state: ModelState,
  input: BatchWriteItemCommandInput,
  faults: DynamoDbFaultPlan,
): Output<BatchWriteItemCommandOutput> {
  const entries = requestTables(input.RequestItems, 'BatchWriteItem');
  const total = entries.reduce(
    (sum, [, requests]) => sum + (Array.isArray(requests) ? requests.length : 0),
    0,
  );
  if (total > MAX_BATCH_WRITE_REQUESTS) {
    throw new ModelValidationError(
      "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
    );
  }
  const prepared: PreparedWrite[] = [];
  let requestBytes = 0;
  for (const [tableName, requests] of entries) {
    if (!Array.isArray(requests) || requests.length === 0) {
      throw new ModelValidationError(
        "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
      );
    }
    const table = state.table(tableName);
    const seen = new Set<string>();
    for (const request of requests) {
      const hasPut = request?.PutRequest !== undefined;
      const hasDelete = request?.DeleteRequest !== undefined;
      if (hasPut === hasDelete) {
        throw new ModelValidationError(
          'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes: a WriteRequest must contain exactly one of PutRequest or DeleteRequest',
        );
      }
      let key: AttributeMap;
      let item: AttributeMap | undefined;
      let size = 0;
      if (hasPut) {
        item = validateItem(request.PutRequest!.Item, 'Item');
        key = table.checkItemKey(item);
        size = checkItemSize(item);
      } else {
        key = table.checkKey(validateItem(request.DeleteRequest!.Key, 'Key'));
      }
      requestBytes += hasPut ? size : keySize(key);
      const id = table.keyId(key);
      if (seen.has(id)) throw new ModelValidationError('Provided list of item keys contains duplicates');
      seen.add(id);
      prepared.push({ tableName, table, request, key, item, size });
    }
  }
  if (requestBytes > MAX_BATCH_BYTES) {
    throw new ModelValidationError(
      'Item size has exceeded the maximum allowed size: the BatchWriteItem request exceeds 16 MB',
    );
  }
  const unprocessed: Record<string, WriteRequest[]> = {};
  for (const write of prepared) {
    if (faults.unprocessed('BatchWriteItem')) {
      unprocessed[write.tableName] ??= [];
      unprocessed[write.tableName]!.push(write.request);
      continue;
    }
    const before = write.table.get(write.key);
    if (write.item) {
      write.table.put(write.item);
      state.recordWrite(
        {
          operation: 'BatchWriteItem',
          tableName: write.tableName,
          kind: 'put',
          key: write.key,
          sizeBytes: write.size,
        },
        { before, after: write.item },
      );
    } else {
      write.table.delete(write.key);
      state.recordWrite(
        {
          operation: 'BatchWriteItem',
          tableName: write.tableName,
          kind: 'delete',
          key: write.key,
          sizeBytes: 0,
        },
        { before, after: undefined },
      );
    }
  }
  return { UnprocessedItems: unprocessed };
}
