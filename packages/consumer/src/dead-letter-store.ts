/**
 * Dead letters of one consumer: stored with their data chunks (chunks first), read back whole,
 * listed a page at a time, deleted with their chunks.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describeErrorText } from '@tidemark/core/internal';
import { batchGet, batchWrite } from './batch-requests';
import type { CountingClient } from './counting-client';
import { type DeadLetterItem, deadLetterFromItem, deadLetterToItems } from './dead-letter-item';
import { ConsumerStoreError } from './errors';
import { deadLetterChunkKey, deadLetterKey, deadLetterPk, type Key } from './table-keys';

/** Dead letters of one consumer. */
export class DeadLetterStore {
  constructor(
    private readonly db: CountingClient,
    readonly tableName: string,
    readonly consumer: string,
  ) {}

  /**
   * Stores a dead letter (replacing one with the same id: parking is idempotent): its data chunks
   * first, then the dead letter that points to them, every item within DynamoDB's limits.
   */
  async put(letter: DeadLetterItem): Promise<void> {
    const { item, chunks } = deadLetterToItems(letter);
    if (chunks.length > 0) {
      await batchWrite(
        this.db,
        this.tableName,
        chunks.map((chunk) => ({ PutRequest: { Item: chunk } })),
        'park record data',
        (op, context, fn) => this.call(op, { id: letter.id, ...context }, fn),
      );
    }
    await this.call('park record', { id: letter.id }, () =>
      this.db.send(new PutItemCommand({ TableName: this.tableName, Item: item })),
    );
  }

  /** Puts the chunked part of each letter's record data back (one BatchGetItem per 100 chunks). */
  private async withData(letters: DeadLetterItem[]): Promise<DeadLetterItem[]> {
    const keys = letters.flatMap((letter) =>
      Array.from({ length: letter.record.dataChunks ?? 0 }, (_, index) =>
        deadLetterChunkKey(this.consumer, letter.id, index + 1),
      ),
    );
    if (keys.length === 0) return letters;
    const found = new Map<string, Uint8Array>();
    for (const item of await batchGet(
      this.db,
      this.tableName,
      keys,
      'read dead-letter data',
      (op, context, fn) => this.call(op, context, fn),
    )) {
      found.set(`${item.pk!.S}\u0000${item.sk!.S}`, item.data!.B!);
    }
    return letters.map((letter) => {
      const chunks = letter.record.dataChunks ?? 0;
      if (chunks === 0) return letter;
      const parts = [letter.record.data];
      for (let index = 1; index <= chunks; index += 1) {
        const key = deadLetterChunkKey(this.consumer, letter.id, index);
        const part = found.get(`${key.pk!.S}\u0000${key.sk!.S}`);
        if (part) parts.push(part);
      }
      const { dataChunks: _chunks, ...record } = letter.record;
      const data = new Uint8Array(Buffer.concat(parts));
      return {
        ...letter,
        record: {
          ...record,
          data,
          ...(parts.length === chunks + 1 ? {} : { dataTruncated: true }),
        },
      };
    });
  }

  /** Reads one dead letter. */
  async get(id: string): Promise<DeadLetterItem | undefined> {
    const result = await this.call('read dead letter', { id }, () =>
      this.db.send<{ Item?: Key }>(
        new GetItemCommand({
          TableName: this.tableName,
          Key: deadLetterKey(this.consumer, id),
          ConsistentRead: true,
        }),
      ),
    );
    if (!result.Item) return undefined;
    const [letter] = await this.withData([deadLetterFromItem(result.Item)]);
    return letter;
  }

  /** Lists dead letters in id order, a page at a time. */
  async list(limit: number, cursor?: string): Promise<{ items: DeadLetterItem[]; cursor?: string }> {
    const result = await this.call('list dead letters', { limit }, () =>
      this.db.send<{ Items?: Key[]; LastEvaluatedKey?: Key }>(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: deadLetterPk(this.consumer) } },
          Limit: limit,
          ConsistentRead: true,
          ...(cursor === undefined ? {} : { ExclusiveStartKey: deadLetterKey(this.consumer, cursor) }),
        }),
      ),
    );
    const items = await this.withData((result.Items ?? []).map(deadLetterFromItem));
    const next = result.LastEvaluatedKey?.sk?.S;
    return next === undefined ? { items } : { items, cursor: next };
  }

  /** Deletes a dead letter and its data chunks; returns whether it existed. */
  async delete(id: string): Promise<boolean> {
    const result = await this.call('delete dead letter', { id }, () =>
      this.db.send<{ Attributes?: Key }>(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: deadLetterKey(this.consumer, id),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (result.Attributes === undefined) return false;
    const chunks = deadLetterFromItem(result.Attributes).record.dataChunks ?? 0;
    if (chunks > 0) {
      await batchWrite(
        this.db,
        this.tableName,
        Array.from({ length: chunks }, (_, index) => ({
          DeleteRequest: { Key: deadLetterChunkKey(this.consumer, id, index + 1) },
        })),
        'delete dead-letter data',
        (op, context, fn) => this.call(op, { id, ...context }, fn),
      );
    }
    return true;
  }

  private async call<T>(
    operation: string,
    context: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new ConsumerStoreError(
        operation,
        describeErrorText(error),
        { tableName: this.tableName, ...context },
        {
          cause: error,
        },
      );
    }
  }
}
