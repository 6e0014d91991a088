import type { BatchGetItemCommand, BatchWriteItemCommand, WriteRequest } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchGet, batchWrite, type StoreCall } from '../../src/batch-requests';
import { ConsumerStoreError } from '../../src/errors';
import type { Key } from '../../src/table-keys';

const TABLE = 'consumer-state';

function keyOf(index: number): Key {
  return { pk: { S: `consumer#c#agg-${index}` }, sk: { S: 'checkpoint' } };
}

/** A client scripted per request: `answer` sees each command's input and says what DynamoDB returns. */
function scripted(answer: (command: BatchGetItemCommand | BatchWriteItemCommand) => unknown) {
  const sent: (BatchGetItemCommand | BatchWriteItemCommand)[] = [];
  return {
    sent,
    db: {
      send<T>(command: BatchGetItemCommand | BatchWriteItemCommand): Promise<T> {
        sent.push(command);
        return Promise.resolve(answer(command) as T);
      },
    },
  };
}

const passThrough: StoreCall = (_operation, _context, fn) => fn();

describe('batched requests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reads in requests of at most 100 keys, consistently, and returns every item found', async () => {
    const keys = Array.from({ length: 250 }, (_, index) => keyOf(index));
    const { db, sent } = scripted((command) => {
      const request = (command as BatchGetItemCommand).input.RequestItems![TABLE]!;
      return { Responses: { [TABLE]: request.Keys } };
    });
    const items = await batchGet(db, TABLE, keys, 'read checkpoints', passThrough);
    expect(
      sent.map((command) => (command as BatchGetItemCommand).input.RequestItems![TABLE]!.Keys!.length),
    ).toEqual([100, 100, 50]);
    expect(
      sent.every((command) => (command as BatchGetItemCommand).input.RequestItems![TABLE]!.ConsistentRead),
    ).toBe(true);
    expect(items).toEqual(keys);
  });

  it('asks again for unprocessed keys until none is left', async () => {
    const keys = Array.from({ length: 10 }, (_, index) => keyOf(index));
    let round = 0;
    const { db, sent } = scripted((command) => {
      const asked = (command as BatchGetItemCommand).input.RequestItems![TABLE]!.Keys!;
      round += 1;
      // Each of the first two rounds leaves its last three keys unprocessed.
      const left = round <= 2 ? asked.slice(-3) : [];
      return {
        Responses: { [TABLE]: asked.slice(0, asked.length - left.length) },
        ...(left.length > 0 ? { UnprocessedKeys: { [TABLE]: { Keys: left } } } : {}),
      };
    });
    const pending = batchGet(db, TABLE, keys, 'read checkpoints', passThrough);
    await vi.runAllTimersAsync();
    const items = await pending;
    expect(sent).toHaveLength(3);
    expect((sent[2] as BatchGetItemCommand).input.RequestItems![TABLE]!.Keys).toEqual(keys.slice(7));
    expect(new Set(items.map((item) => item.pk!.S))).toEqual(new Set(keys.map((key) => key.pk!.S)));
  });

  it('gives up with a typed error after 10 rounds that leave keys unprocessed', async () => {
    const keys = [keyOf(1), keyOf(2)];
    const { db, sent } = scripted((command) => ({
      UnprocessedKeys: {
        [TABLE]: { Keys: (command as BatchGetItemCommand).input.RequestItems![TABLE]!.Keys },
      },
    }));
    const pending = batchGet(db, TABLE, keys, 'read checkpoints', passThrough);
    const failed = expect(pending).rejects.toSatisfy((error: unknown) => {
      expect(error).toBeInstanceOf(ConsumerStoreError);
      expect((error as ConsumerStoreError).message).toContain('2 keys still unprocessed after 10 rounds');
      expect((error as ConsumerStoreError).context).toMatchObject({ tableName: TABLE, unprocessed: 2 });
      return true;
    });
    await vi.runAllTimersAsync();
    await failed;
    expect(sent).toHaveLength(10);
  });

  it('writes in requests of at most 25 and sends unprocessed writes again', async () => {
    const requests: WriteRequest[] = Array.from({ length: 60 }, (_, index) => ({
      PutRequest: { Item: keyOf(index) },
    }));
    let first = true;
    const { db, sent } = scripted((command) => {
      const asked = (command as BatchWriteItemCommand).input.RequestItems![TABLE]!;
      if (first) {
        first = false;
        return { UnprocessedItems: { [TABLE]: asked.slice(20) } };
      }
      return {};
    });
    const pending = batchWrite(db, TABLE, requests, 'hold records', passThrough);
    await vi.runAllTimersAsync();
    await pending;
    const sizes = sent.map(
      (command) => (command as BatchWriteItemCommand).input.RequestItems![TABLE]!.length,
    );
    expect(sizes).toEqual([25, 5, 25, 10]);
    const written = sent.flatMap((command) => (command as BatchWriteItemCommand).input.RequestItems![TABLE]!);
    expect(new Set(written.map((request) => request.PutRequest!.Item!.pk!.S)).size).toBe(60);
  });

  it('gives up with a typed error after 10 rounds that leave writes unprocessed', async () => {
    const requests: WriteRequest[] = [{ DeleteRequest: { Key: keyOf(1) } }];
    const { db, sent } = scripted((command) => ({
      UnprocessedItems: { [TABLE]: (command as BatchWriteItemCommand).input.RequestItems![TABLE] },
    }));
    const pending = batchWrite(db, TABLE, requests, 'delete held records', passThrough);
    const failed = expect(pending).rejects.toThrow(/1 writes still unprocessed after 10 rounds/);
    await vi.runAllTimersAsync();
    await failed;
    expect(sent).toHaveLength(10);
  });

  it('sends every request through the store call, which names the operation and the request size', async () => {
    const seen: { operation: string; context: Record<string, unknown> }[] = [];
    const call: StoreCall = (operation, context, fn) => {
      seen.push({ operation, context });
      return fn();
    };
    const { db } = scripted(() => ({}));
    await batchWrite(db, TABLE, [{ DeleteRequest: { Key: keyOf(1) } }], 'delete held records', call);
    await batchGet(db, TABLE, [keyOf(1), keyOf(2)], 'read held records', call);
    expect(seen).toEqual([
      { operation: 'delete held records', context: { writes: 1 } },
      { operation: 'read held records', context: { keys: 2 } },
    ]);
  });
});
