/**
 * BatchGetItem and BatchWriteItem over any number of keys: split at DynamoDB's per-request limits,
 * unprocessed keys and writes retried with jittered backoff for a bounded number of rounds.
 */
import { BatchGetItemCommand, BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { CountingClient } from './counting-client';
import { ConsumerStoreError } from './errors';
import type { Key } from './table-keys';

/** Sends one request of a store operation, turning its failure into a {@link ConsumerStoreError}. */
export type StoreCall = <T>(
  operation: string,
  context: Record<string, unknown>,
  fn: () => Promise<T>,
) => Promise<T>;

const MAX_BATCH_GET = 100;
const MAX_BATCH_WRITE = 25;
const MAX_UNPROCESSED_ROUNDS = 10;

/** Reads items by key (consistent), one BatchGetItem per 100 keys; missing items are left out. */
export async function batchGet(
  db: Pick<CountingClient, 'send'>,
  tableName: string,
  keys: Key[],
  operation: string,
  call: StoreCall,
): Promise<Key[]> {
  const items: Key[] = [];
  for (let start = 0; start < keys.length; start += MAX_BATCH_GET) {
    let pending: Key[] = keys.slice(start, start + MAX_BATCH_GET);
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new ConsumerStoreError(
          operation,
          `${pending.length} keys still unprocessed after ${round} rounds`,
          {
            tableName,
            unprocessed: pending.length,
          },
        );
      }
      if (round > 0) await backoff(round);
      const result = await call(operation, { keys: pending.length }, () =>
        db.send<{
          Responses?: Record<string, Key[]>;
          UnprocessedKeys?: Record<string, { Keys?: Key[] }>;
        }>(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        ),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return items;
}

/** Writes or deletes items, one BatchWriteItem per 25 requests. */
export async function batchWrite(
  db: Pick<CountingClient, 'send'>,
  tableName: string,
  requests: WriteRequest[],
  operation: string,
  call: StoreCall,
): Promise<void> {
  for (let start = 0; start < requests.length; start += MAX_BATCH_WRITE) {
    let pending = requests.slice(start, start + MAX_BATCH_WRITE);
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new ConsumerStoreError(
          operation,
          `${pending.length} writes still unprocessed after ${round} rounds`,
          {
            tableName,
          },
        );
      }
      if (round > 0) await backoff(round);
      const result = await call(operation, { writes: pending.length }, () =>
        db.send<{ UnprocessedItems?: Record<string, WriteRequest[]> }>(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
        ),
      );
      pending = result.UnprocessedItems?.[tableName] ?? [];
    }
  }
}

function backoff(round: number): Promise<void> {
  const cap = Math.min(1000, 25 * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, cap / 2 + Math.random() * (cap / 2)));
}
