/**
 * The aggregate side of the consumer table: batched checkpoint reads, conditional checkpoint writes
 * (alone, or in a transaction with the open-gap index), held records and the open-gap index.
 */
import {
  type ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { cancellationReasons, classifyAwsError, describeErrorText } from '@tidemark/core/internal';
import { batchGet, batchWrite } from './batch-requests';
import { type CheckpointState, checkpointFromItem, checkpointToItem } from './checkpoint-item';
import type { CountingClient } from './counting-client';
import { ConcurrentConsumerError, ConsumerStoreError } from './errors';
import { type GapChange, gapFromItem, gapToItem, type OpenGapItem } from './gap-item';
import { type HeldRecord, heldFromItem, heldToItems } from './held-item';
import { checkpointKey, gapKey, gapsPk, heldChunkKey, heldKey, type Key } from './table-keys';

/** Checkpoints, held records and the open-gap index of one consumer. */
export class CheckpointStore {
  constructor(
    private readonly db: CountingClient,
    readonly tableName: string,
    readonly consumer: string,
  ) {}

  /**
   * Reads the checkpoints of the given aggregates: one consistent BatchGetItem per 100 keys,
   * unprocessed keys retried with backoff.
   */
  async readCheckpoints(
    aggregates: ReadonlyMap<string, { type: string; id: string }>,
  ): Promise<Map<string, CheckpointState>> {
    const keys = [...aggregates.keys()].map((aggregateKey) => checkpointKey(this.consumer, aggregateKey));
    const items = await this.batchGet(keys, 'read checkpoints');
    const states = new Map<string, CheckpointState>();
    const prefixLength = `consumer#${this.consumer}#`.length;
    for (const item of items) {
      const aggregateKey = item.pk!.S!.slice(prefixLength);
      states.set(aggregateKey, checkpointFromItem(aggregateKey, item));
    }
    return states;
  }

  /** Reads one checkpoint (consistent). */
  async readCheckpoint(aggregateKey: string): Promise<CheckpointState | undefined> {
    const result = await this.call('read checkpoint', { aggregateKey }, () =>
      this.db.send<{ Item?: Key }>(
        new GetItemCommand({
          TableName: this.tableName,
          Key: checkpointKey(this.consumer, aggregateKey),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? checkpointFromItem(aggregateKey, result.Item) : undefined;
  }

  /**
   * Reads held records (one BatchGetItem per 100 keys, then one per 100 further chunks of records
   * larger than a chunk). Missing or incomplete records are left out.
   */
  async readHeld(
    wanted: { aggregateKey: string; versions: number[] }[],
  ): Promise<Map<string, Map<number, HeldRecord>>> {
    const keys = wanted.flatMap(({ aggregateKey, versions }) =>
      versions.map((version) => heldKey(this.consumer, aggregateKey, version)),
    );
    const items = await this.batchGet(keys, 'read held records');
    const prefixLength = `consumer#${this.consumer}#`.length;
    const found: { aggregateKey: string; held: HeldRecord & { chunks: number } }[] = items.map((item) => ({
      aggregateKey: item.pk!.S!.slice(prefixLength),
      held: heldFromItem(item),
    }));
    const chunkKeys = found.flatMap(({ aggregateKey, held }) =>
      Array.from({ length: held.chunks - 1 }, (_, index) =>
        heldChunkKey(this.consumer, aggregateKey, held.version, index + 1),
      ),
    );
    const chunks = new Map<string, Uint8Array>();
    if (chunkKeys.length > 0) {
      for (const item of await this.batchGet(chunkKeys, 'read held record chunks')) {
        chunks.set(`${item.pk!.S}\u0000${item.sk!.S}`, item.data!.B!);
      }
    }
    const result = new Map<string, Map<number, HeldRecord>>();
    for (const { aggregateKey, held } of found) {
      const parts = [held.record.data];
      for (let index = 1; index < held.chunks; index += 1) {
        const key = heldChunkKey(this.consumer, aggregateKey, held.version, index);
        const part = chunks.get(`${key.pk!.S}\u0000${key.sk!.S}`);
        if (part) parts.push(part);
      }
      if (parts.length !== held.chunks) continue;
      const data = parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts));
      let byVersion = result.get(aggregateKey);
      if (!byVersion) {
        byVersion = new Map();
        result.set(aggregateKey, byVersion);
      }
      byVersion.set(held.version, {
        version: held.version,
        heldAt: held.heldAt,
        record: { ...held.record, data },
      });
    }
    return result;
  }

  /** Writes held records (before the checkpoint that indexes them). */
  async putHeld(aggregateKey: string, records: readonly HeldRecord[]): Promise<void> {
    const items = records.flatMap((record) => heldToItems(this.consumer, aggregateKey, record));
    if (items.length === 0) return;
    if (items.length === 1) {
      await this.call('hold record', { aggregateKey }, () =>
        this.db.send(new PutItemCommand({ TableName: this.tableName, Item: items[0]! })),
      );
      return;
    }
    await this.batchWrite(
      items.map((item) => ({ PutRequest: { Item: item } })),
      'hold records',
    );
  }

  /**
   * Deletes held records that are done, with their chunks (after the checkpoint that no longer
   * indexes them).
   */
  async deleteHeld(
    aggregateKey: string,
    records: readonly { version: number; chunks: number }[],
  ): Promise<void> {
    const requests: WriteRequest[] = records.flatMap(({ version, chunks }) =>
      Array.from({ length: chunks }, (_, index) => ({
        DeleteRequest: { Key: heldChunkKey(this.consumer, aggregateKey, version, index) },
      })),
    );
    if (requests.length === 0) return;
    await this.batchWrite(requests, 'delete held records');
  }

  /** Lists the open-gap index, a page at a time. */
  async listGaps(cursor?: string): Promise<{ items: OpenGapItem[]; cursor?: string }> {
    const result = await this.call('list open gaps', {}, () =>
      this.db.send<{ Items?: Key[]; LastEvaluatedKey?: Key }>(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: gapsPk(this.consumer) } },
          ConsistentRead: true,
          ...(cursor === undefined ? {} : { ExclusiveStartKey: gapKey(this.consumer, cursor) }),
        }),
      ),
    );
    const items = (result.Items ?? []).map(gapFromItem);
    const next = result.LastEvaluatedKey?.sk?.S;
    return next === undefined ? { items } : { items, cursor: next };
  }

  /**
   * Deletes a stale open-gap entry, on condition that the checkpoint is still at the revision read
   * (which held nothing) — or still absent. A batch that opened a new gap since then changed the
   * revision (the entry is written with that checkpoint), so its entry is never lost. Returns
   * false when the condition failed (the entry stays, for the next sweep).
   */
  async deleteStaleGap(aggregateKey: string, revision: number | undefined): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: checkpointKey(this.consumer, aggregateKey),
                ...this.checkpointCondition(revision ?? 0, revision !== undefined),
              },
            },
            { Delete: { TableName: this.tableName, Key: gapKey(this.consumer, aggregateKey) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0]?.code === 'ConditionalCheckFailed') return false;
      throw new ConsumerStoreError(
        'delete open gap',
        describeErrorText(error),
        { aggregateKey },
        { cause: error },
      );
    }
  }

  /**
   * Writes a checkpoint if nobody else changed it since it was read (`revision` compare, or "does
   * not exist" for a first write). Returns the written state. Throws {@link ConcurrentConsumerError}
   * when the condition fails for someone else's write, {@link ConsumerStoreError} otherwise.
   */
  async writeCheckpoint(
    next: CheckpointState,
    expectedRevision: number,
    existed: boolean,
    gap?: GapChange,
  ): Promise<void> {
    const item = checkpointToItem(this.consumer, next);
    try {
      if (gap === undefined) {
        await this.db.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ...this.checkpointCondition(expectedRevision, existed),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } else {
        // The open-gap entry changes with the checkpoint, atomically: it can never be lost to a
        // racing sweep or invocation, nor outlive the held records it points to.
        await this.db.send(
          new TransactWriteItemsCommand({
            TransactItems: [this.checkpointPut(next, expectedRevision, existed), this.gapAction(gap)],
            ClientRequestToken: next.writeId,
          }),
        );
      }
    } catch (error) {
      const failure = classifyAwsError(error);
      const refusedInTransaction = failure.reasons?.[0]?.code === 'ConditionalCheckFailed';
      if (refusedInTransaction || failure.kind === 'conditional') {
        const current = refusedInTransaction
          ? failure.reasons?.[0]?.item
          : (error as ConditionalCheckFailedException).Item;
        // An SDK retry of a write that did land (its answer was lost) finds its own writeId.
        if (current?.writeId?.S !== undefined && current.writeId.S === next.writeId) return;
        throw new ConcurrentConsumerError(
          this.consumer,
          next.aggregateKey,
          expectedRevision,
          current?.revision?.N === undefined ? undefined : Number(current.revision.N),
        );
      }
      throw new ConsumerStoreError(
        'write checkpoint',
        describeErrorText(error),
        { aggregateKey: next.aggregateKey },
        {
          cause: error,
        },
      );
    }
  }

  /** The `Put` of a checkpoint inside a transaction, with the same condition as {@link writeCheckpoint}. */
  checkpointPut(next: CheckpointState, expectedRevision: number, existed: boolean): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: checkpointToItem(this.consumer, next),
        ...this.checkpointCondition(expectedRevision, existed),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** The change of the open-gap index inside a transaction with the checkpoint. */
  gapAction(gap: GapChange): TransactWriteItem {
    return 'open' in gap
      ? { Put: { TableName: this.tableName, Item: gapToItem(this.consumer, gap.open) } }
      : { Delete: { TableName: this.tableName, Key: gapKey(this.consumer, gap.close) } };
  }

  /** Sends one TransactWriteItems (errors are interpreted by the caller). */
  async transact(items: TransactWriteItem[], clientRequestToken: string): Promise<void> {
    await this.db.send(
      new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: clientRequestToken }),
    );
  }

  private checkpointCondition(expectedRevision: number, existed: boolean) {
    return existed
      ? {
          ConditionExpression: '#revision = :revision',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':revision': { N: String(expectedRevision) } },
        }
      : { ConditionExpression: 'attribute_not_exists(pk)' };
  }

  private async batchGet(keys: Key[], operation: string): Promise<Key[]> {
    return batchGet(this.db, this.tableName, keys, operation, (op, context, fn) =>
      this.call(op, context, fn),
    );
  }

  private async batchWrite(requests: WriteRequest[], operation: string): Promise<void> {
    await batchWrite(this.db, this.tableName, requests, operation, (op, context, fn) =>
      this.call(op, context, fn),
    );
  }

  private async call<T>(
    operation: string,
    context: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ConsumerStoreError) throw error;
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
