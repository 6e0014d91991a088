/** Reads a whole Kinesis stream back (every shard, from the trim horizon), for assertions. */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { decodeEnvelopeRecord, type EventEnvelope } from '@tidemark/core';

/**
 * One event as read back: its record's shard, sequence number and partition key, its position in
 * the record (0 unless the record packs several events) and its decoded envelope.
 */
export interface ReadRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly position: number;
  /** Events in its Kinesis record (1 for a plain envelope). */
  readonly packed: number;
  readonly envelope: EventEnvelope;
}

/** Every event of every record of every shard, each shard in sequence order (a packed record's events in order). */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<ReadRecord[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const records: ReadRecord[] = [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const output = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of output.Records ?? []) {
        const { entries } = decodeEnvelopeRecord(record.Data!);
        for (const entry of entries) {
          if (!entry.success) throw entry.error;
          records.push({
            shardId: shard.ShardId!,
            sequenceNumber: record.SequenceNumber!,
            partitionKey: record.PartitionKey!,
            position: entry.position,
            packed: entries.length,
            envelope: entry.envelope,
          });
        }
      }
      if ((output.Records ?? []).length === 0 && (output.MillisBehindLatest ?? 0) === 0) break;
      iterator = output.NextShardIterator;
    }
  }
  return records;
}

/** Per aggregate key, the versions in order of first arrival (duplicates dropped). */
export function firstArrivalVersions(records: readonly ReadRecord[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byAggregate = new Map<string, number[]>();
  // Each aggregate lives on one shard, so its arrival order is its shard's sequence order (and a
  // packed record's order within it: the sort is stable).
  const ordered = [...records].sort((a, b) =>
    a.shardId === b.shardId
      ? compareSequence(a.sequenceNumber, b.sequenceNumber)
      : a.shardId.localeCompare(b.shardId),
  );
  for (const { envelope, partitionKey } of ordered) {
    if (seen.has(envelope.id)) continue;
    seen.add(envelope.id);
    const list = byAggregate.get(partitionKey) ?? [];
    list.push(envelope.aggregateversion);
    byAggregate.set(partitionKey, list);
  }
  return byAggregate;
}

function compareSequence(a: string, b: string): number {
  return a.length === b.length ? a.localeCompare(b) : a.length - b.length;
}
