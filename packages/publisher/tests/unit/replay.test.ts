import { marshall } from '@aws-sdk/util-dynamodb';
import { type EventEnvelope, eventLogItemFromEnvelope } from '@tidemark/core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  InvalidResumeTokenError,
  REPLAY_DEFAULTS,
  ReplayInterruptedError,
  type ReplayProgress,
  replay,
} from '../../src/index';
import { envelopesFor, FakeDynamoDb, FakeKinesis, memoryLogger } from '../helpers/fakes';

describe('replay', () => {
  let dynamodb: FakeDynamoDb;
  let kinesis: FakeKinesis;
  const all: EventEnvelope[] = [];
  const base = () => ({
    tableName: 'events',
    streamName: 'replayed',
    dynamodb: dynamodb as never,
    kinesis: kinesis as never,
    logger: memoryLogger().logger,
    retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 },
  });

  beforeEach(() => {
    dynamodb = new FakeDynamoDb();
    kinesis = new FakeKinesis();
    all.length = 0;
    for (const id of ['a', 'b', 'c', 'd']) {
      for (const envelope of envelopesFor(id, 1, 5)) {
        all.push(envelope);
        dynamodb.put(marshall(eventLogItemFromEnvelope(envelope), { removeUndefinedValues: true }));
      }
    }
  });

  const firstArrivals = () => {
    const seen = new Set<string>();
    const byAggregate = new Map<string, number[]>();
    for (const envelope of kinesis.all()) {
      if (seen.has(envelope.id)) continue;
      seen.add(envelope.id);
      byAggregate.set(envelope.aggregateid, [
        ...(byAggregate.get(envelope.aggregateid) ?? []),
        envelope.aggregateversion,
      ]);
    }
    return byAggregate;
  };

  it('republishes the whole log page by page, in order per aggregate, reporting progress', async () => {
    const progress: ReplayProgress[] = [];
    const result = await replay({ ...base(), pageSize: 7, onProgress: (p) => void progress.push(p) });
    expect(result).toMatchObject({
      complete: true,
      published: 20,
      eventsDone: 20,
      scanned: 20,
      resumeToken: undefined,
    });
    expect(progress.map((p) => p.published)).toEqual([7, 14, 20]);
    expect(progress.map((p) => p.eventsDone)).toEqual([7, 14, 20]);
    for (const id of ['a', 'b', 'c', 'd']) expect(firstArrivals().get(id)).toEqual([1, 2, 3, 4, 5]);
    for (const call of kinesis.calls) expect(new Set(call.keys).size).toBe(call.keys.length);
  });

  it('publishes each aggregate in version order even when a page lists its items out of order', async () => {
    dynamodb.scanPageOrder = (items) => items.reverse();
    const result = await replay({ ...base(), pageSize: 100 });
    expect(result).toMatchObject({ complete: true, published: 20 });
    for (const id of ['a', 'b', 'c', 'd']) expect(firstArrivals().get(id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('republishes one aggregate from a version', async () => {
    const result = await replay({
      ...base(),
      aggregate: { type: 'Task', id: 'c' },
      fromVersion: 3,
      pageSize: 2,
    });
    expect(result).toMatchObject({ complete: true, published: 3 });
    expect([...firstArrivals().entries()]).toEqual([['c', [3, 4, 5]]]);
  });

  it('stops with a resume token when events cannot be published, and resumes where it stopped', async () => {
    let broken = true;
    kinesis.fate = (key) => (broken && key === 'Task#b' ? 'InternalFailure' : 'ok');
    const error = await replay({ ...base(), pageSize: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayInterruptedError);
    const { resumeToken } = error as ReplayInterruptedError;
    expect(kinesis.all().some((e) => e.aggregateid === 'b')).toBe(false);

    broken = false;
    const result = await replay({ ...base(), pageSize: 100, resumeToken });
    expect(result.complete).toBe(true);
    // Events after b in scan order went out in both runs: records put count them twice, events
    // done count each once.
    expect(kinesis.all().length).toBeGreaterThan(20);
    expect(result).toMatchObject({ published: kinesis.all().length, eventsDone: 20 });
    for (const id of ['a', 'b', 'c', 'd']) expect(firstArrivals().get(id)).toEqual([1, 2, 3, 4, 5]);
    // The resumed run starts at b1 (the first unpublished item): a's events are not sent again.
    expect(kinesis.all().filter((e) => e.aggregateid === 'a')).toHaveLength(5);
  });

  it('returns an incomplete result with a token when the signal stops it, and the token finishes the job', async () => {
    const controller = new AbortController();
    const first = await replay({
      ...base(),
      pageSize: 5,
      signal: controller.signal,
      onProgress: ({ pages }) => {
        if (pages === 2) controller.abort();
      },
    });
    expect(first).toMatchObject({ complete: false, published: 10 });
    const second = await replay({ ...base(), pageSize: 5, resumeToken: first.resumeToken });
    expect(second).toMatchObject({ complete: true, published: 20 });
    expect(kinesis.all()).toHaveLength(20);
  });

  it('refuses a token of another replay, and a token that is not one', async () => {
    const controller = new AbortController();
    controller.abort();
    const { resumeToken } = await replay({ ...base(), signal: controller.signal });
    await expect(replay({ ...base(), tableName: 'other', resumeToken })).rejects.toBeInstanceOf(
      InvalidResumeTokenError,
    );
    await expect(
      replay({ ...base(), aggregate: { type: 'Task', id: 'a' }, resumeToken }),
    ).rejects.toBeInstanceOf(InvalidResumeTokenError);
    await expect(replay({ ...base(), resumeToken: 'garbage' })).rejects.toBeInstanceOf(
      InvalidResumeTokenError,
    );
  });

  it('checks its options', async () => {
    await expect(replay({ ...base(), segment: 1 })).rejects.toThrow('both segment and totalSegments');
    await expect(replay({ ...base(), fromVersion: 2 })).rejects.toThrow(
      'replay: fromVersion: expected no fromVersion without aggregate',
    );
    const aggregate = { type: 'Task', id: 'a' };
    for (const [options, option] of [
      [{ segment: 1 }, 'totalSegments'],
      [{ totalSegments: 2 }, 'segment'],
      [{ segment: 2, totalSegments: 2 }, 'segment'],
      [{ segment: -1, totalSegments: 2 }, 'segment'],
      [{ fromVersion: 2 }, 'fromVersion'],
      [{ aggregate, segment: 0, totalSegments: 2 }, 'segment'],
      [{ aggregate, fromVersion: 0 }, 'fromVersion'],
      [{ aggregate: { type: 'Task' } }, 'aggregate'],
      [{ tableName: 'ab' }, 'tableName'],
      [{ pageSize: 10_001 }, 'pageSize'],
      [{ signal: 'stop' }, 'signal'],
      [{ onProgress: true }, 'onProgress'],
      [{ pagesize: 10 }, 'pagesize'],
    ] as const) {
      const rejection = replay({ ...base(), ...options } as never);
      await expect(rejection).rejects.toBeInstanceOf(ConfigurationError);
      await expect(rejection).rejects.toMatchObject({ factory: 'replay', option });
    }
    expect(Object.isFrozen(REPLAY_DEFAULTS)).toBe(true);
  });
});
