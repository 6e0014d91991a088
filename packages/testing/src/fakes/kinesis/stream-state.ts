/**
 * The state of one Kinesis stream in the model: its shards (open and closed, with parents after a
 * split or merge), the records of each shard with their sequence numbers, and resharding.
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import { evenRanges } from './hash-keys';

/** A record stored on a shard. */
export interface StoredRecord {
  readonly SequenceNumber: string;
  readonly ApproximateArrivalTimestamp: Date;
  readonly Data: Uint8Array;
  readonly PartitionKey: string;
}

/** One shard of the model. */
export interface ShardState {
  readonly shardId: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly parentShardId?: string;
  readonly adjacentParentShardId?: string;
  readonly startingSequenceNumber: string;
  endingSequenceNumber?: string;
  readonly records: StoredRecord[];
}

/** Sequence numbers are 56-digit decimals that grow with every record of the stream. */
const SEQUENCE_BASE = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

/** One stream of the model. */
export class StreamState {
  readonly shards: ShardState[] = [];
  #sequence = 0n;
  #nextShardIndex = 0;

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly createdAt: Date,
    shardCount: number,
  ) {
    for (const range of evenRanges(shardCount)) this.#addShard(range.start, range.end);
  }

  #nextSequenceNumber(): string {
    this.#sequence += 1n;
    return (SEQUENCE_BASE + this.#sequence).toString();
  }

  /** The sequence number the next record would get, without using it. */
  peekSequenceNumber(): string {
    return (SEQUENCE_BASE + this.#sequence + 1n).toString();
  }

  #addShard(
    start: bigint,
    end: bigint,
    parents: { parentShardId?: string; adjacentParentShardId?: string } = {},
  ): ShardState {
    const shard: ShardState = {
      shardId: `shardId-${String(this.#nextShardIndex).padStart(12, '0')}`,
      start,
      end,
      ...parents,
      startingSequenceNumber: this.peekSequenceNumber(),
      records: [],
    };
    this.#nextShardIndex += 1;
    this.shards.push(shard);
    return shard;
  }

  /** The open shards. */
  get openShards(): ShardState[] {
    return this.shards.filter((shard) => shard.endingSequenceNumber === undefined);
  }

  /** A shard by id. */
  shard(shardId: string): ShardState | undefined {
    return this.shards.find((shard) => shard.shardId === shardId);
  }

  /** The open shard owning a hash key. */
  shardFor(hashKey: bigint): ShardState {
    const shard = this.openShards.find((candidate) => candidate.start <= hashKey && hashKey <= candidate.end);
    if (!shard) throw new Error(`No open shard owns hash key ${hashKey}`);
    return shard;
  }

  /** Appends a record to its shard and returns it with its sequence number. */
  append(shard: ShardState, data: Uint8Array, partitionKey: string, at: Date): StoredRecord {
    const record: StoredRecord = {
      SequenceNumber: this.#nextSequenceNumber(),
      ApproximateArrivalTimestamp: at,
      Data: Uint8Array.from(data),
      PartitionKey: partitionKey,
    };
    shard.records.push(record);
    return record;
  }

  /** Closes a shard (its last sequence number is the stream's current one). */
  #close(shard: ShardState): void {
    shard.endingSequenceNumber = (SEQUENCE_BASE + this.#sequence).toString();
  }

  /** Splits an open shard at `newStartingHashKey`: the parent closes, two children take its range. */
  split(shard: ShardState, newStartingHashKey: bigint): [ShardState, ShardState] {
    this.#close(shard);
    const low = this.#addShard(shard.start, newStartingHashKey - 1n, { parentShardId: shard.shardId });
    const high = this.#addShard(newStartingHashKey, shard.end, { parentShardId: shard.shardId });
    return [low, high];
  }

  /** Merges two adjacent open shards: both close, one child takes their ranges. */
  merge(shard: ShardState, adjacent: ShardState): ShardState {
    this.#close(shard);
    this.#close(adjacent);
    const [low, high] = shard.start < adjacent.start ? [shard, adjacent] : [adjacent, shard];
    return this.#addShard(low.start, high.end, {
      parentShardId: shard.shardId,
      adjacentParentShardId: adjacent.shardId,
    });
  }

  /** A shard as the Kinesis API describes it. */
  describe(shard: ShardState): Shard {
    return {
      ShardId: shard.shardId,
      ...(shard.parentShardId === undefined ? {} : { ParentShardId: shard.parentShardId }),
      ...(shard.adjacentParentShardId === undefined
        ? {}
        : { AdjacentParentShardId: shard.adjacentParentShardId }),
      HashKeyRange: { StartingHashKey: shard.start.toString(), EndingHashKey: shard.end.toString() },
      SequenceNumberRange: {
        StartingSequenceNumber: shard.startingSequenceNumber,
        ...(shard.endingSequenceNumber === undefined
          ? {}
          : { EndingSequenceNumber: shard.endingSequenceNumber }),
      },
    };
  }

  /** A deep copy (for snapshots). */
  clone(): StreamState {
    const copy = new StreamState(this.name, this.arn, this.createdAt, 1);
    copy.shards.length = 0;
    for (const shard of this.shards)
      copy.shards.push({
        ...shard,
        records: shard.records.map((record) => ({ ...record, Data: Uint8Array.from(record.Data) })),
      });
    copy.#sequence = this.#sequence;
    copy.#nextShardIndex = this.#nextShardIndex;
    return copy;
  }
}
