import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InternalFailureException,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { createKinesisEventSource } from '@tidemark/testing';
import { FakeKinesis, SHARD_ITERATOR_TTL_MS } from '@tidemark/testing/fakes';
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';

const STREAM = 'events';
const data = (text: string) => new TextEncoder().encode(text);

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

async function putAll(kinesis: FakeKinesis, records: { key: string; text: string }[]): Promise<void> {
  const result = await kinesis.send<{ FailedRecordCount: number }>(
    new PutRecordsCommand({
      StreamName: STREAM,
      Records: records.map((record) => ({ PartitionKey: record.key, Data: data(record.text) })),
    }),
  );
  expect(result.FailedRecordCount).toBe(0);
}

describe('FakeKinesis reading and resharding', () => {
  it('starts iterators at, after and from a sequence number or a time', async () => {
    let now = 1_000;
    const kinesis = new FakeKinesis({ now: () => now });
    kinesis.createStream(STREAM, 1);
    for (const text of ['a', 'b', 'c']) {
      await putAll(kinesis, [{ key: 'k', text }]);
      now += 1_000;
    }
    const [, second] = kinesis.records(STREAM);
    const read = async (input: Record<string, unknown>) => {
      const { ShardIterator } = await kinesis.send<{ ShardIterator: string }>(
        new GetShardIteratorCommand({
          StreamName: STREAM,
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
          ...input,
        }),
      );
      const page = await kinesis.send<{ Records: { Data: Uint8Array }[] }>(
        new GetRecordsCommand({ ShardIterator }),
      );
      return page.Records.map((record) => new TextDecoder().decode(record.Data));
    };
    expect(await read({})).toEqual(['a', 'b', 'c']);
    expect(
      await read({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: second!.SequenceNumber }),
    ).toEqual(['b', 'c']);
    expect(
      await read({
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        StartingSequenceNumber: second!.SequenceNumber,
      }),
    ).toEqual(['c']);
    expect(await read({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(2_000) })).toEqual(['b', 'c']);
    expect(await read({ ShardIteratorType: 'LATEST' })).toEqual([]);
  });

  it('pages GetRecords by Limit and expires iterators after 5 minutes', async () => {
    let now = 0;
    const kinesis = new FakeKinesis({ now: () => now });
    kinesis.createStream(STREAM, 1);
    await putAll(
      kinesis,
      ['a', 'b', 'c'].map((text) => ({ key: 'k', text })),
    );
    const { ShardIterator } = await kinesis.send<{ ShardIterator: string }>(
      new GetShardIteratorCommand({
        StreamName: STREAM,
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const first = await kinesis.send<{
      Records: unknown[];
      NextShardIterator: string;
      MillisBehindLatest: number;
    }>(new GetRecordsCommand({ ShardIterator, Limit: 2 }));
    expect(first.Records).toHaveLength(2);
    const second = await kinesis.send<{
      Records: unknown[];
      NextShardIterator: string;
      MillisBehindLatest: number;
    }>(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    expect([second.Records.length, second.MillisBehindLatest]).toEqual([1, 0]);
    now += SHARD_ITERATOR_TTL_MS + 1;
    expect(
      await settle(kinesis.send(new GetRecordsCommand({ ShardIterator: second.NextShardIterator }))),
    ).toBeInstanceOf(ExpiredIteratorException);
  });

  it('pages ListShards with MaxResults and NextToken, and lists open shards only with AT_LATEST', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 3);
    kinesis.splitShard(STREAM, 'shardId-000000000001');
    const ids: string[] = [];
    let input: Record<string, unknown> = { StreamName: STREAM, MaxResults: 2 };
    for (;;) {
      const page = await kinesis.send<{ Shards: { ShardId: string }[]; NextToken?: string }>(
        new ListShardsCommand(input),
      );
      ids.push(...page.Shards.map((shard) => shard.ShardId));
      if (!page.NextToken) break;
      input = { NextToken: page.NextToken, MaxResults: 2 };
    }
    expect(ids).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000002',
      'shardId-000000000003',
      'shardId-000000000004',
    ]);
    const open = await kinesis.send<{ Shards: { ShardId: string }[] }>(
      new ListShardsCommand({ StreamName: STREAM, ShardFilter: { Type: 'AT_LATEST' } }),
    );
    expect(open.Shards.map((shard) => shard.ShardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000002',
      'shardId-000000000003',
      'shardId-000000000004',
    ]);
  });

  it('merges adjacent shards and refuses shards that are not adjacent', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 3);
    expect(() => kinesis.mergeShards(STREAM, 'shardId-000000000000', 'shardId-000000000002')).toThrow(
      /not an adjacent pair/,
    );
    const child = kinesis.mergeShards(STREAM, 'shardId-000000000000', 'shardId-000000000001');
    const shards = kinesis.shards(STREAM);
    expect(shards.find((shard) => shard.ShardId === child)).toMatchObject({
      ParentShardId: 'shardId-000000000000',
      AdjacentParentShardId: 'shardId-000000000001',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: shards[1]!.HashKeyRange!.EndingHashKey },
    });
    expect(kinesis.shardIdFor(STREAM, 'any key', '0')).toBe(child);
  });

  it('fails a single PutRecord with the entry failure as its error', async () => {
    const kinesis = new FakeKinesis({ faults: { entryThrottleRate: 1 } });
    kinesis.createStream(STREAM, 1);
    expect(
      await settle(
        kinesis.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: data('x') })),
      ),
    ).toBeInstanceOf(ProvisionedThroughputExceededException);
    kinesis.setFaults({ entryInternalFailureRate: 1 });
    expect(
      await settle(
        kinesis.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: data('x') })),
      ),
    ).toBeInstanceOf(InternalFailureException);
    expect(kinesis.records(STREAM)).toEqual([]);
    expect(kinesis.faultStats).toMatchObject({ entriesThrottled: 0, entriesFailed: 1 }); // setFaults resets the counts
  });

  it('stores the records of a call whose answer it loses', async () => {
    const kinesis = new FakeKinesis({ faults: { operations: { PutRecords: { lostResponseRate: 1 } } } });
    kinesis.createStream(STREAM, 1);
    expect(
      await settle(
        kinesis.send(
          new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'k', Data: data('x') }] }),
        ),
      ),
    ).toBeInstanceOf(InternalFailureException);
    expect(kinesis.records(STREAM)).toHaveLength(1);
  });

  it('serves the Lambda Kinesis event source: every record once, in order per key, across a split', async () => {
    const kinesis = new FakeKinesis();
    kinesis.createStream(STREAM, 2);
    const keys = Array.from({ length: 8 }, (_, index) => `aggregate-${index}`);
    await putAll(
      kinesis,
      keys.flatMap((key) => [1, 2, 3].map((version) => ({ key, text: `${key}:${version}` }))),
    );
    kinesis.splitShard(STREAM, 'shardId-000000000000');
    await putAll(
      kinesis,
      keys.flatMap((key) => [4, 5].map((version) => ({ key, text: `${key}:${version}` }))),
    );
    const seen: string[] = [];
    await using source = createKinesisEventSource({
      kinesis: kinesis.client,
      streamName: STREAM,
      batchSize: 5,
      pollIntervalMs: 1,
      handler: async (event: KinesisStreamEvent) => {
        for (const record of event.Records)
          seen.push(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      },
    });
    await source.start();
    await source.drain({ timeoutMs: 10_000 });
    expect(seen).toHaveLength(keys.length * 5);
    for (const key of keys) {
      expect(seen.filter((text) => text.startsWith(`${key}:`))).toEqual(
        [1, 2, 3, 4, 5].map((version) => `${key}:${version}`),
      );
    }
  });
});
