/**
 * An in-memory fake of the DynamoDB client for unit tests of the event log: the calls the event log
 * makes, with the service's semantics (conditions checked atomically), recording what happened so
 * tests can assert on it.
 */
import {
  type AttributeValue,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { defineCatalog, defineEvent } from '@tidemark/core';
import { z } from 'zod';

export const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }),
});
export const TaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1) }),
});
export const NoteAdded = defineEvent({
  type: 'NoteAdded',
  schemaVersion: 1,
  schema: z.object({ text: z.string(), extra: z.unknown().optional() }),
});
export const DateStamped = defineEvent({
  type: 'DateStamped',
  schemaVersion: 1,
  schema: z.object({ at: z.string().transform((value) => new Date(value)) }),
});
export const catalog = defineCatalog([TaskCreated, TaskRenamed, NoteAdded, DateStamped]);

type Item = Record<string, AttributeValue>;

/** A fake DynamoDB client holding one event-log table (pk S, sk N). */
export class FakeDynamoDb {
  readonly config = {};
  readonly items = new Map<string, Map<number, Item>>();
  readonly calls: string[] = [];
  /** Runs inside TransactWriteItems before the conditions are checked (to simulate a concurrent writer). */
  beforeTransact: ((attempt: number) => Promise<void> | void) | undefined;
  /** Returns cancellation reasons to refuse a transaction with (before its conditions are checked). */
  refuseTransact: ((attempt: number) => string[] | undefined) | undefined;
  transactAttempts = 0;
  /** Reorders each Scan page (to check callers do not rely on the order within a page). */
  scanPageOrder: ((items: Item[]) => Item[]) | undefined;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof QueryCommand) return this.query(command.input);
    if (command instanceof GetItemCommand) return this.getItem(command.input);
    if (command instanceof TransactWriteItemsCommand) return this.transact(command.input);
    if (command instanceof ScanCommand) return this.scan(command.input);
    throw new Error(`FakeDynamoDb: unsupported command ${(command as object).constructor.name}`);
  }

  /** Writes an item directly (as another writer would), bypassing every condition. */
  put(item: Item): void {
    const pk = item.pk!.S!;
    const sk = Number(item.sk!.N);
    let collection = this.items.get(pk);
    if (!collection) {
      collection = new Map();
      this.items.set(pk, collection);
    }
    collection.set(sk, item);
  }

  versions(pk: string): number[] {
    return [...(this.items.get(pk)?.keys() ?? [])].sort((a, b) => a - b);
  }

  get(pk: string, sk: number): Item | undefined {
    return this.items.get(pk)?.get(sk);
  }

  private query(input: QueryCommand['input']) {
    this.calls.push('Query');
    const values = input.ExpressionAttributeValues!;
    const pk = values[':pk']!.S!;
    let sks = this.versions(pk);
    const condition = input.KeyConditionExpression!;
    if (condition.includes('BETWEEN')) {
      const from = Number(values[':from']!.N);
      const to = Number(values[':to']!.N);
      sks = sks.filter((sk) => sk >= from && sk <= to);
    } else if (condition.includes('>=')) {
      const from = Number(values[':from']!.N);
      sks = sks.filter((sk) => sk >= from);
    }
    if (input.ScanIndexForward === false) sks.reverse();
    if (input.ExclusiveStartKey) {
      const after = Number(input.ExclusiveStartKey.sk!.N);
      const at = sks.indexOf(after);
      sks = sks.slice(at + 1);
    }
    const limit = input.Limit ?? Number.POSITIVE_INFINITY;
    const page = sks.slice(0, limit);
    const more = sks.length > page.length;
    return {
      Items: page.map((sk) => structuredClone(this.get(pk, sk)!)),
      ...(more ? { LastEvaluatedKey: { pk: { S: pk }, sk: { N: String(page[page.length - 1]) } } } : {}),
    };
  }

  private scan(input: ScanCommand['input']) {
    this.calls.push('Scan');
    const all: Item[] = [];
    for (const pk of [...this.items.keys()].sort())
      for (const sk of this.versions(pk)) all.push(this.get(pk, sk)!);
    let start = 0;
    if (input.ExclusiveStartKey) {
      const { pk, sk } = unmarshall(input.ExclusiveStartKey);
      start = all.findIndex((item) => item.pk!.S === pk && Number(item.sk!.N) === sk) + 1;
    }
    const limit = input.Limit ?? Number.POSITIVE_INFINITY;
    const page = all.slice(start, start + limit);
    const more = start + page.length < all.length;
    const last = page[page.length - 1];
    const ordered = this.scanPageOrder ? this.scanPageOrder([...page]) : page;
    return {
      Items: ordered.map((item) => structuredClone(item)),
      ...(more && last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk } } : {}),
    };
  }

  private getItem(input: GetItemCommand['input']) {
    this.calls.push('GetItem');
    const item = this.get(input.Key!.pk!.S!, Number(input.Key!.sk!.N));
    return item ? { Item: structuredClone(item) } : {};
  }

  private async transact(input: TransactWriteItemsCommand['input']) {
    this.calls.push('TransactWriteItems');
    this.transactAttempts += 1;
    const attempt = this.transactAttempts;
    await this.beforeTransact?.(attempt);
    const refused = this.refuseTransact?.(attempt);
    if (refused) throw cancelled(refused);
    const items = input.TransactItems!;
    if (items.length > 100) throw new Error('FakeDynamoDb: more than 100 items in a transaction');
    const reasons = items.map((entry) => {
      if (entry.Put) {
        const { pk, sk } = entry.Put.Item!;
        return this.get(pk!.S!, Number(sk!.N)) ? 'ConditionalCheckFailed' : 'None';
      }
      if (entry.ConditionCheck) {
        const existing = this.get(entry.ConditionCheck.Key!.pk!.S!, Number(entry.ConditionCheck.Key!.sk!.N));
        const commandId = entry.ConditionCheck.ExpressionAttributeValues![':commandId']!.S!;
        return existing && existing.commandId!.S! < commandId ? 'None' : 'ConditionalCheckFailed';
      }
      throw new Error('FakeDynamoDb: unsupported transaction item');
    });
    if (reasons.some((reason) => reason !== 'None')) throw cancelled(reasons);
    for (const entry of items) if (entry.Put) this.put(entry.Put.Item!);
    return {};
  }
}

function cancelled(reasons: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.join(', ')}]`,
    $metadata: {},
    CancellationReasons: reasons.map((Code) => ({ Code })),
  });
}

/** An error shaped like an AWS SDK service error. */
export function awsError(name: string): Error {
  const error = new Error(`${name} (fake)`);
  error.name = name;
  return error;
}
