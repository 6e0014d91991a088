import { createHash } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  ValidationException,
} from '@aws-sdk/client-kinesis';
import { FakeKinesis, MAX_RECORD_BYTES } from '@tidemark/testing/fakes';
import { describe, expect, it } from 'vitest';

const STREAM = 'events';
const bytes = (size: number) => new Uint8Array(size).fill(97);

async function errorOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

describe('FakeKinesis', () => {
  it('routes records to shards by the MD5 of their partition key and keeps per-shard order', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 4);
    const keys = Array.from({ length: 40 }, (_, index) => `aggregate-${index}`);
    const result = await kinesis.send<{
      FailedRecordCount: number;
      Records: { ShardId: string; SequenceNumber: string }[];
    }>(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: keys.map((key) => ({ PartitionKey: key, Data: bytes(10) })),
      }),
    );
    expect(result.FailedRecordCount).toBe(0);
    const shards = kinesis.shards(STREAM);
    keys.forEach((key, index) => {
      const hash = BigInt(`0x${createHash('md5').update(key).digest('hex')}`);
      const owner = shards.find(
        (shard) =>
          BigInt(shard.HashKeyRange!.StartingHashKey!) <= hash &&
          hash <= BigInt(shard.HashKeyRange!.EndingHashKey!),
      );
      expect(result.Records[index]!.ShardId).toBe(owner!.ShardId);
    });
    for (const shard of shards) {
      const sequence = kinesis.records(STREAM, shard.ShardId).map((record) => BigInt(record.SequenceNumber));
      expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
    }
  });

  it('refuses 501 records, a record over 1 MiB with its partition key, and more than 5 MiB per call', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 1);
    const many = Array.from({ length: 501 }, () => ({ PartitionKey: 'k', Data: bytes(1) }));
    expect(
      await errorOf(kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: many }))),
    ).toBeInstanceOf(ValidationException);
    const exact = { PartitionKey: 'k', Data: bytes(MAX_RECORD_BYTES - 1) };
    await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: [exact] }));
    const over = { PartitionKey: 'kk', Data: bytes(MAX_RECORD_BYTES - 1) };
    expect(
      await errorOf(kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: [over] }))),
    ).toBeInstanceOf(InvalidArgumentException);
    const six = Array.from({ length: 6 }, () => ({ PartitionKey: 'k', Data: bytes(MAX_RECORD_BYTES - 1) }));
    expect(
      await errorOf(kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: six }))),
    ).toBeInstanceOf(InvalidArgumentException);
    const longKey = { PartitionKey: 'k'.repeat(257), Data: bytes(1) };
    expect(
      await errorOf(kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: [longKey] }))),
    ).toBeInstanceOf(ValidationException);
    expect(kinesis.records(STREAM)).toHaveLength(1);
  });

  it('fails entries in place with a seeded, reproducible pattern', async () => {
    const run = async () => {
      const kinesis = new FakeKinesis({
        faults: { seed: 42, entryThrottleRate: 0.3, entryInternalFailureRate: 0.1 },
      });
      kinesis.createStream(STREAM, 2);
      const records = Array.from({ length: 100 }, (_, index) => ({
        PartitionKey: `k${index}`,
        Data: bytes(1),
      }));
      const result = await kinesis.send<{ FailedRecordCount: number; Records: { ErrorCode?: string }[] }>(
        new PutRecordsCommand({ StreamName: STREAM, Records: records }),
      );
      return {
        result,
        stored: kinesis
          .records(STREAM)
          .map((record) => record.PartitionKey)
          .sort(),
      };
    };
    const first = await run();
    const second = await run();
    const codes = first.result.Records.map((record) => record.ErrorCode ?? 'ok');
    expect(codes).toEqual(second.result.Records.map((record) => record.ErrorCode ?? 'ok'));
    expect(codes).toContain('ProvisionedThroughputExceededException');
    expect(codes).toContain('InternalFailure');
    expect(first.result.FailedRecordCount).toBe(codes.filter((code) => code !== 'ok').length);
    expect(first.stored).toHaveLength(100 - first.result.FailedRecordCount);
  });

  it('throttles whole calls when asked', async () => {
    const kinesis = new FakeKinesis({ faults: { operations: { PutRecords: { throttleRate: 1 } } } });
    kinesis.createStream(STREAM, 1);
    const error = await errorOf(
      kinesis.send(
        new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'k', Data: bytes(1) }] }),
      ),
    );
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(kinesis.records(STREAM)).toHaveLength(0);
  });

  it('splits a shard: the parent closes, reading it to its end names the children', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 1);
    await kinesis.send(
      new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'a', Data: bytes(1) }] }),
    );
    const [low, high] = kinesis.splitShard(STREAM, 'shardId-000000000000');
    const listed = await kinesis.send<{
      Shards: {
        ShardId: string;
        ParentShardId?: string;
        SequenceNumberRange: { EndingSequenceNumber?: string };
      }[];
    }>(new ListShardsCommand({ StreamName: STREAM }));
    expect(
      listed.Shards.map((shard) => [
        shard.ShardId,
        shard.ParentShardId,
        shard.SequenceNumberRange.EndingSequenceNumber !== undefined,
      ]),
    ).toEqual([
      ['shardId-000000000000', undefined, true],
      [low, 'shardId-000000000000', false],
      [high, 'shardId-000000000000', false],
    ]);
    const iterator = await kinesis.send<{ ShardIterator: string }>(
      new GetShardIteratorCommand({
        StreamName: STREAM,
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const read = await kinesis.send<{
      Records: unknown[];
      NextShardIterator?: string;
      ChildShards?: { ShardId: string }[];
    }>(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
    expect(read.Records).toHaveLength(1);
    expect(read.NextShardIterator).toBeUndefined();
    expect(read.ChildShards?.map((child) => child.ShardId)).toEqual([low, high]);
  });
});
