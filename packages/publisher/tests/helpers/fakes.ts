/**
 * In-memory fakes of the DynamoDB and Kinesis clients for unit tests. They implement the calls the
 * publisher makes with the service's semantics (conditions checked atomically, per-entry PutRecords
 * results) and record what happened, so tests can assert on it.
 */
import {
  type AttributeValue,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  createEnvelope,
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  eventLogItemFromEnvelope,
  newCommandId,
} from '@tidemark/core';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
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

/** What a PutRecords entry does in the fake: succeed, or fail with an error code. */
export type EntryFate = 'ok' | 'ProvisionedThroughputExceededException' | 'InternalFailure';

/** A fake Kinesis client: records every call, decides each entry's fate, keeps what was accepted. */
export class FakeKinesis {
  readonly config = {};
  /** Every call: stream, partition keys and what happened. */
  readonly calls: { stream: string; keys: string[]; failed: number[]; error?: string }[] = [];
  /** Accepted records in arrival order, per stream. */
  readonly accepted = new Map<string, { key: string; envelope: EventEnvelope }[]>();
  /** Partition keys of the calls in flight right now. */
  readonly inFlight = new Map<string, number>();
  /** The greatest number of records of one partition key in flight at once (must stay 1). */
  maxInFlightPerKey = 0;
  /** Decides the fate of an entry. Default: all succeed. */
  fate: (key: string, callIndex: number, position: number) => EntryFate = () => 'ok';
  /** Throws from a whole call when it returns an error. Default: never. */
  callError: (callIndex: number) => Error | undefined = () => undefined;
  private sequence = 0;

  async send(command: unknown): Promise<unknown> {
    if (!(command instanceof PutRecordsCommand)) throw new Error('FakeKinesis: only PutRecords');
    const input = command.input;
    const stream = input.StreamName ?? input.StreamARN!;
    const keys = input.Records!.map((record) => record.PartitionKey!);
    const callIndex = this.calls.length;
    const call = { stream, keys, failed: [] as number[] } as (typeof this.calls)[number];
    this.calls.push(call);
    for (const key of keys) {
      const count = (this.inFlight.get(key) ?? 0) + 1;
      this.inFlight.set(key, count);
      this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, count);
    }
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const error = this.callError(callIndex);
      if (error) {
        call.error = error.name;
        throw error;
      }
      const results = input.Records!.map((record, position) => {
        const fate = this.fate(record.PartitionKey!, callIndex, position);
        if (fate !== 'ok') {
          call.failed.push(position);
          return { ErrorCode: fate, ErrorMessage: 'fake failure' };
        }
        const list = this.accepted.get(stream) ?? [];
        list.push({
          key: record.PartitionKey!,
          envelope: JSON.parse(new TextDecoder().decode(record.Data!)) as EventEnvelope,
        });
        this.accepted.set(stream, list);
        this.sequence += 1;
        return { SequenceNumber: String(this.sequence).padStart(20, '0'), ShardId: 'shardId-000000000000' };
      });
      return { Records: results, FailedRecordCount: call.failed.length };
    } finally {
      for (const key of keys) this.inFlight.set(key, this.inFlight.get(key)! - 1);
    }
  }

  /** Every accepted envelope on any stream, in arrival order. */
  all(): EventEnvelope[] {
    return [...this.accepted.values()].flat().map((entry) => entry.envelope);
  }
}

/** An error shaped like an AWS SDK service error. */
export function awsError(name: string): Error {
  const error = new Error(`${name} (fake)`);
  error.name = name;
  return error;
}

let sequence = 1000;

/** Envelopes for an aggregate: versions from..to. */
export function envelopesFor(
  id: string,
  from: number,
  to: number,
  data: Record<string, unknown> = {},
): EventEnvelope[] {
  const commandId = newCommandId();
  const envelopes: EventEnvelope[] = [];
  for (let version = from; version <= to; version += 1) {
    envelopes.push(
      createEnvelope({
        source: '/test',
        type: 'TaskRenamed',
        aggregate: { type: 'Task', id },
        version,
        commandId,
        data: { name: `name ${version}`, ...data },
      }),
    );
  }
  return envelopes;
}

/** A DynamoDB stream record as Lambda sends it (marshalled images). */
export function streamRecord(
  image: Record<string, unknown> | undefined,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT',
): DynamoDBRecord {
  sequence += 1;
  const marshalled = image ? marshall(image, { removeUndefinedValues: true }) : undefined;
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: marshalled ? ({ pk: marshalled.pk, sk: marshalled.sk } as never) : undefined,
      ...(marshalled && eventName !== 'REMOVE' ? { NewImage: marshalled as never } : {}),
      ...(marshalled && eventName !== 'INSERT' ? { OldImage: marshalled as never } : {}),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/2026-01-01T00:00:00.000',
  };
}

/** A stream event of INSERTs, one per envelope. */
export function streamEventOf(envelopes: readonly EventEnvelope[]): DynamoDBStreamEvent {
  return { Records: envelopes.map((envelope) => streamRecord({ ...eventLogItemFromEnvelope(envelope) })) };
}

/** A context with plenty of time (or the given remaining time). */
export function lambdaContext(remainingMs = 60_000) {
  const end = Date.now() + remainingMs;
  return {
    getRemainingTimeInMillis: () => Math.max(end - Date.now(), 0),
    functionName: 'publisher',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:publisher',
    memoryLimitInMB: '128',
    awsRequestId: 'request',
    logGroupName: 'group',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A logger that keeps every line. */
export function memoryLogger() {
  const lines: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      lines.push({ level, message, attributes });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
