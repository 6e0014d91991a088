/**
 * What the bench tests share: a consumer table, a consumer whose handlers count their effects per
 * (listener, aggregate, version), and reading every dead letter of a consumer.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  type BatchSummary,
  type Consumer,
  consumerTableDescription,
  createConsumer,
  type DeadLetter,
} from '@tidemark/consumer';
import type { LocalAws } from '@tidemark/testing';
import { benchEvents, quietLogger } from '../../src/catalog';

/** Creates a fresh consumer table (checkpoints, held records and dead letters). */
export async function createConsumerTable(aws: LocalAws, prefix: string): Promise<string> {
  const tableName = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await aws.createTable(consumerTableDescription(tableName));
  return tableName;
}

/** Effects of one listener: the versions its handlers applied, per aggregate key, in order. */
export interface Effects {
  /** Aggregate key → versions applied, in the order the handlers ran. */
  readonly applied: Map<string, number[]>;
  /** Every batch summary the consumer reported. */
  readonly summaries: BatchSummary[];
}

/** Totals of some batch summaries. */
export function sumSummaries(summaries: readonly BatchSummary[]) {
  const total = {
    records: 0,
    applied: 0,
    duplicates: 0,
    skipped: 0,
    gapsHeld: 0,
    gapsClosed: 0,
    parked: 0,
    handlerFailures: 0,
    failed: 0,
    dynamodbRequests: 0,
  };
  for (const s of summaries) {
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += s[key];
  }
  return total;
}

/** Options of {@link countingConsumer}. */
export interface CountingConsumerOptions {
  readonly aws: LocalAws;
  readonly name: string;
  readonly tableName: string;
  /** Throws from the handler when it returns an error for (aggregate key, version, attempt). */
  readonly fault?: (aggregateKey: string, version: number, attempt: number) => Error | undefined;
  /** Handler attempts before parking. Default: the consumer's (3). */
  readonly maxAttempts?: number;
}

/** A consumer whose handlers record each applied (aggregate, version): the effect counted. */
export function countingConsumer(options: CountingConsumerOptions): { consumer: Consumer; effects: Effects } {
  const effects: Effects = { applied: new Map(), summaries: [] };
  const apply = (event: { aggregate: { type: string; id: string }; version: number }, attempt: number) => {
    const key = `${event.aggregate.type}#${event.aggregate.id}`;
    const error = options.fault?.(key, event.version, attempt);
    if (error) throw error;
    const list = effects.applied.get(key);
    if (list) list.push(event.version);
    else effects.applied.set(key, [event.version]);
  };
  const consumer = createConsumer({
    name: options.name,
    events: benchEvents,
    handlers: {
      TaskCreated: (event, context) => apply(event, context.attempt),
      TaskRenamed: (event, context) => apply(event, context.attempt),
    },
    checkpoints: { tableName: options.tableName, dynamodb: options.aws.dynamodb },
    logger: quietLogger(),
    onBatchSummary: (summary) => effects.summaries.push(summary),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
  return { consumer, effects };
}

/** Every dead letter of a consumer. */
export async function allDeadLetters(consumer: Consumer): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  let cursor: string | undefined;
  do {
    const page = await consumer.deadLetters.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

/** Puts records on a stream in PutRecords calls within Kinesis' limits, retrying failed entries. */
export async function putAll(
  aws: LocalAws,
  streamName: string,
  records: readonly { readonly data: Uint8Array; readonly partitionKey: string }[],
): Promise<void> {
  let call: { Data: Uint8Array; PartitionKey: string }[] = [];
  let bytes = 0;
  const flush = async () => {
    let pending = call;
    call = [];
    bytes = 0;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt === 10)
        throw new Error(`putAll: ${pending.length} records still failing after 10 attempts`);
      const result = await aws.kinesis.send(
        new PutRecordsCommand({ StreamName: streamName, Records: pending }),
      );
      pending = pending.filter((_, i) => result.Records?.[i]?.ErrorCode !== undefined);
    }
  };
  for (const record of records) {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
    if (call.length === 500 || bytes + size > 4_000_000) await flush();
    call.push({ Data: record.data, PartitionKey: record.partitionKey });
    bytes += size;
  }
  await flush();
}

/** Counts the records on a stream, reading every shard from its start. */
export async function countStreamRecords(aws: LocalAws, streamName: string): Promise<number> {
  const { Shards = [] } = await aws.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let count = 0;
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await aws.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await aws.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      count += page.Records?.length ?? 0;
      if ((page.Records?.length ?? 0) === 0 && page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return count;
}
