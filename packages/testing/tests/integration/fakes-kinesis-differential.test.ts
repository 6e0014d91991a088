/**
 * Keeps FakeKinesis honest against kinesis-mock: shard layout and hash key ranges, which shard each
 * partition key lands on, per-shard order, the call and record limits, and resharding. Where
 * kinesis-mock differs from AWS's documented behaviour, the fake follows AWS and the case names the
 * divergence and asserts both sides.
 */
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { FakeKinesis, MAX_RECORD_BYTES } from '@tidemark/testing/fakes';
import { localAws } from '@tidemark/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf } from '../helpers/fakes-differential';

interface Sender {
  send(command: never): Promise<unknown>;
}

let local: KinesisClient;
beforeAll(async () => {
  const aws = await localAws();
  local = new KinesisClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterAll(() => local?.destroy());

async function streams(shardCount: number): Promise<{ fake: FakeKinesis; name: string }> {
  const aws = await localAws();
  const { streamName } = await aws.createKinesisStream({ shardCount });
  const fake = new FakeKinesis();
  fake.createStream(streamName, shardCount);
  return { fake, name: streamName };
}

async function shardLayout(client: Sender, name: string) {
  const { Shards = [] } = (await client.send(new ListShardsCommand({ StreamName: name }) as never)) as {
    Shards?: {
      ShardId?: string;
      ParentShardId?: string;
      HashKeyRange?: unknown;
      SequenceNumberRange?: { EndingSequenceNumber?: string };
    }[];
  };
  return Shards.map((shard) => ({
    id: shard.ShardId,
    parent: shard.ParentShardId,
    range: shard.HashKeyRange,
    closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
  }));
}

async function readShard(client: Sender, name: string, shardId: string) {
  const { ShardIterator } = (await client.send(
    new GetShardIteratorCommand({
      StreamName: name,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }) as never,
  )) as { ShardIterator: string };
  const page = (await client.send(new GetRecordsCommand({ ShardIterator }) as never)) as {
    Records?: { PartitionKey?: string; Data?: Uint8Array }[];
    NextShardIterator?: string;
    ChildShards?: { ShardId?: string; ParentShards?: string[] }[];
  };
  return {
    records: (page.Records ?? []).map(
      (record) => `${record.PartitionKey}:${Buffer.from(record.Data ?? []).toString('utf8')}`,
    ),
    ended: page.NextShardIterator === undefined || page.NextShardIterator === null,
    children: (page.ChildShards ?? []).map((child) => child.ShardId).sort(),
  };
}

async function put(client: Sender, name: string, records: PutRecordsRequestEntry[]) {
  const outcome = await outcomeOf(client, new PutRecordsCommand({ StreamName: name, Records: records }));
  if (!('ok' in outcome)) return outcome.error;
  const result = outcome.ok as {
    FailedRecordCount?: number;
    Records?: { ShardId?: string; ErrorCode?: string }[];
  };
  return {
    failed: result.FailedRecordCount,
    shards: (result.Records ?? []).map((record) => record.ErrorCode ?? record.ShardId),
  };
}

async function waitActive(name: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const { StreamDescriptionSummary } = await local.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

const data = (text: string) => new TextEncoder().encode(text);
const keys = [
  'a',
  'b',
  'task-1',
  'task-2',
  'Ünïcödé',
  '🙂',
  'x'.repeat(256),
  ...Array.from({ length: 40 }, (_, index) => `aggregate-${index}`),
];

/** Hash key ranges as CreateStream lays them out on AWS: the key space split into equal parts. */
function awsRanges(count: number) {
  const width = 2n ** 128n / BigInt(count);
  return Array.from({ length: count }, (_, index) => ({
    StartingHashKey: String(width * BigInt(index)),
    EndingHashKey: String(index === count - 1 ? 2n ** 128n - 1n : width * BigInt(index + 1) - 1n),
  }));
}

/** Hash key ranges as kinesis-mock lays them out: parts of (2^128 − 1) / count, the last one longer. */
function kinesisMockRanges(count: number) {
  const width = (2n ** 128n - 1n) / BigInt(count);
  return Array.from({ length: count }, (_, index) => ({
    StartingHashKey: String(width * BigInt(index)),
    EndingHashKey: String(index === count - 1 ? 2n ** 128n - 1n : width * BigInt(index + 1) - 1n),
  }));
}

describe('FakeKinesis against kinesis-mock', () => {
  it('routes partition keys to the same shards and keeps per-shard order', async () => {
    const { fake, name } = await streams(4);
    const fakeLayout = await shardLayout(fake, name);
    const localLayout = await shardLayout(local, name);
    expect(fakeLayout.map(({ range: _range, ...shard }) => shard)).toEqual(
      localLayout.map(({ range: _range, ...shard }) => shard),
    );
    // Divergence: kinesis-mock divides 2^128 − 1 instead of 2^128, so its boundaries sit a few keys
    // lower than AWS's. Only keys within those few values of a boundary would land differently.
    expect(
      fakeLayout.map((shard) => shard.range),
      'the fake lays shards out as AWS does',
    ).toEqual(awsRanges(4));
    expect(
      localLayout.map((shard) => shard.range),
      'kinesis-mock',
    ).toEqual(kinesisMockRanges(4));
    const records = keys.map((key, index) => ({ PartitionKey: key, Data: data(`r${index}`) }));
    expect(await put(fake, name, records)).toEqual(await put(local, name, records));
    for (const shard of localLayout) {
      expect(await readShard(fake, name, shard.id!)).toEqual(await readShard(local, name, shard.id!));
    }
  });

  it('routes explicit hash keys and refuses invalid ones', async () => {
    const { fake, name } = await streams(3);
    const at = (ExplicitHashKey: string) => [{ PartitionKey: 'k', ExplicitHashKey, Data: data('e') }];
    for (const hashKey of ['0', String(2n ** 127n), String(2n ** 128n - 1n), String(2n ** 128n)]) {
      expect(await put(fake, name, at(hashKey)), hashKey).toEqual(await put(local, name, at(hashKey)));
    }
    // Divergence: AWS documents the pattern 0|([1-9]\d{0,38}) for ExplicitHashKey, so a key that does
    // not match it is a ValidationException; kinesis-mock answers InvalidArgumentException for '-1'
    // and fails to answer 'abc' at all.
    expect([await put(fake, name, at('-1')), await put(fake, name, at('abc'))]).toEqual([
      'ValidationException',
      'ValidationException',
    ]);
    expect([await put(local, name, at('-1')), await put(local, name, at('abc'))]).toEqual([
      'InvalidArgumentException',
      'Unknown',
    ]);
  });

  it('enforces 1–256 character partition keys; 500 records per call (kinesis-mock does not)', async () => {
    const { fake, name } = await streams(1);
    const many = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ PartitionKey: `k${index}`, Data: data('x') }));
    const one = (PartitionKey: string) => [{ PartitionKey, Data: data('x') }];
    const cases: Record<string, PutRecordsRequestEntry[]> = {
      '500 records': many(500),
      'key of 256 characters': one('k'.repeat(256)),
      'key of 128 emoji (256 UTF-16 code units)': one('🙂'.repeat(128)),
      'key of 257 characters': one('k'.repeat(257)),
      'empty key': one(''),
    };
    const outcomes = { fake: {} as Record<string, unknown>, local: {} as Record<string, unknown> };
    for (const [label, records] of Object.entries(cases)) {
      outcomes.fake[label] = await put(fake, name, records);
      outcomes.local[label] = await put(local, name, records);
    }
    const { 'key of 257 characters': fakeLong, 'empty key': fakeEmpty, ...fakeRest } = outcomes.fake;
    const { 'key of 257 characters': localLong, 'empty key': localEmpty, ...localRest } = outcomes.local;
    expect(fakeRest).toEqual(localRest);
    // Divergence: the partition key's length (1–256) is a documented constraint of the request, which
    // AWS checks like the data's length, with ValidationException; kinesis-mock answers
    // InvalidArgumentException. Both refuse the whole call.
    expect([fakeLong, fakeEmpty]).toEqual(['ValidationException', 'ValidationException']);
    expect([localLong, localEmpty]).toEqual(['InvalidArgumentException', 'InvalidArgumentException']);
    // Divergence: AWS refuses more than 500 records per PutRecords call; kinesis-mock stores them.
    expect(await put(fake, name, many(501))).toBe('ValidationException');
    expect(await put(local, name, many(501))).toMatchObject({ failed: 0 });
  });

  it('enforces 1 MiB per record, data and partition key together, and 5 MiB per call (kinesis-mock does not)', async () => {
    const { fake, name } = await streams(1);
    const record = (dataBytes: number, key = 'k') => ({
      PartitionKey: key,
      Data: new Uint8Array(dataBytes).fill(97),
    });
    const cases = {
      'data + key = 1 MiB': [record(MAX_RECORD_BYTES - 1)],
      '5 records of 1 MiB': Array.from({ length: 5 }, () => record(MAX_RECORD_BYTES - 1)),
      'data = 1 MiB, plus the key': [record(MAX_RECORD_BYTES)],
      'data over 1 MiB': [record(MAX_RECORD_BYTES + 1)],
      '6 records of 1 MiB': Array.from({ length: 6 }, () => record(MAX_RECORD_BYTES - 1)),
    };
    const outcomes = { fake: {} as Record<string, unknown>, local: {} as Record<string, unknown> };
    for (const [label, records] of Object.entries(cases)) {
      outcomes.fake[label] = await put(fake, name, records);
      outcomes.local[label] = await put(local, name, records);
    }
    const accepted = (count: number) => ({
      failed: 0,
      shards: Array.from({ length: count }, () => 'shardId-000000000000'),
    });
    // Divergence: AWS counts the partition key into the 1 MiB record limit, refuses a whole call
    // over 5 MiB and a record over the limit (it never reports it as a failed entry); kinesis-mock
    // accepts the first two and fails the oversized record as an entry.
    expect(outcomes.fake).toEqual({
      'data + key = 1 MiB': accepted(1),
      '5 records of 1 MiB': accepted(5),
      'data = 1 MiB, plus the key': 'InvalidArgumentException',
      'data over 1 MiB': 'ValidationException',
      '6 records of 1 MiB': 'InvalidArgumentException',
    });
    expect(outcomes.local).toEqual({
      'data + key = 1 MiB': accepted(1),
      '5 records of 1 MiB': accepted(5),
      'data = 1 MiB, plus the key': accepted(1),
      'data over 1 MiB': { failed: 1, shards: ['InvalidArgumentException'] },
      '6 records of 1 MiB': accepted(6),
    });
  });

  it('splits a shard: parent closed at its last record, children routed and read after it', async () => {
    const { fake, name } = await streams(1);
    const before = keys
      .slice(0, 10)
      .map((key, index) => ({ PartitionKey: key, Data: data(`before-${index}`) }));
    expect(await put(fake, name, before)).toEqual(await put(local, name, before));
    const split = {
      StreamName: name,
      ShardToSplit: 'shardId-000000000000',
      NewStartingHashKey: String(2n ** 127n),
    };
    expect(await outcomeOf(fake, new SplitShardCommand(split))).toEqual(
      await outcomeOf(local, new SplitShardCommand(split)),
    );
    await waitActive(name);
    expect(await shardLayout(fake, name)).toEqual(await shardLayout(local, name));
    const after = keys.map((key, index) => ({ PartitionKey: key, Data: data(`after-${index}`) }));
    expect(await put(fake, name, after)).toEqual(await put(local, name, after));
    for (const shard of await shardLayout(local, name)) {
      expect(await readShard(fake, name, shard.id!), shard.id).toEqual(
        await readShard(local, name, shard.id!),
      );
    }
  });
});
