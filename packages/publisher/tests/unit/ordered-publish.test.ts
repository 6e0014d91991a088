import { KINESIS_LIMITS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { type OutgoingRecord, publishInOrder } from '../../src/ordered-publish';
import { FakeKinesis, memoryLogger } from '../helpers/fakes';

/** A record whose partition key + data is exactly `size` bytes. */
function record(key: string, version: number, size = 200): OutgoingRecord {
  const envelope = JSON.stringify({ aggregateid: key, aggregateversion: version, id: `${key}-${version}` });
  const padding = size - key.length - envelope.length - 2;
  if (padding < 0) throw new Error('size too small');
  const data = new TextEncoder().encode(
    `${envelope.slice(0, -1)},"p":"${'x'.repeat(Math.max(padding - 5, 0))}"}`,
  );
  return { key, stream: 'events', data, size: key.length + data.byteLength, describe: { key, version } };
}

const options = (kinesis: FakeKinesis, extra: Partial<Parameters<typeof publishInOrder>[1]> = {}) => ({
  kinesis: kinesis as never,
  logger: memoryLogger().logger,
  retry: { retries: 2, minTimeoutMs: 0, maxTimeoutMs: 0, factor: 2 },
  deadline: Date.now() + 60_000,
  maxConcurrentCalls: 4,
  ...extra,
});

describe('publishInOrder', () => {
  it('publishes a record of exactly 1 MiB with its partition key, and refuses one byte more without blocking others', async () => {
    const kinesis = new FakeKinesis();
    const exact = record('A#1', 1, KINESIS_LIMITS.maxRecordBytes);
    const over = record('B#1', 1, KINESIS_LIMITS.maxRecordBytes + 1);
    expect(exact.size).toBe(KINESIS_LIMITS.maxRecordBytes);
    expect(over.size).toBe(KINESIS_LIMITS.maxRecordBytes + 1);
    const report = await publishInOrder([exact, over, record('B#1', 2), record('C#1', 1)], options(kinesis));
    expect(report.outcomes).toEqual(['published', 'failed', 'not-attempted', 'published']);
    expect(report.reasons.get(1)).toContain('over 1 MiB');
  });

  it('sends five 1 MiB records (5 MiB, the call limit) in one call and a sixth in another', async () => {
    const kinesis = new FakeKinesis();
    const records = Array.from({ length: 6 }, (_, i) => record(`K#${i}`, 1, KINESIS_LIMITS.maxRecordBytes));
    const report = await publishInOrder(records, options(kinesis));
    expect(kinesis.calls.map((call) => call.keys.length)).toEqual([5, 1]);
    expect(report.calls).toBe(2);
    expect(report.outcomes.every((outcome) => outcome === 'published')).toBe(true);
  });

  it('runs the calls of a wave side by side, at most maxConcurrentCalls at once', async () => {
    const kinesis = new FakeKinesis();
    let inFlight = 0;
    let most = 0;
    const send = kinesis.send.bind(kinesis);
    kinesis.send = async (command: unknown) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        return await send(command);
      } finally {
        inFlight -= 1;
      }
    };
    const records = Array.from({ length: 2600 }, (_, i) => record(`K#${i}`, 1));
    const report = await publishInOrder(records, options(kinesis, { maxConcurrentCalls: 2 }));
    expect(report.calls).toBe(6);
    expect(report.waves).toBe(1);
    expect(most).toBe(2);
  });

  it('stops before the next wave when the signal is aborted, leaving the rest not attempted', async () => {
    const kinesis = new FakeKinesis();
    const controller = new AbortController();
    kinesis.callError = () => {
      controller.abort();
      return undefined;
    };
    const report = await publishInOrder(
      [record('A#1', 1), record('A#1', 2), record('A#1', 3)],
      options(kinesis, { signal: controller.signal }),
    );
    expect(report.outcomes).toEqual(['published', 'not-attempted', 'not-attempted']);
  });

  it('fails a poison record when its turn comes, and blocks only its aggregate', async () => {
    const kinesis = new FakeKinesis();
    const poison = { ...record('A#1', 2), poison: 'route failed' };
    const report = await publishInOrder(
      [record('A#1', 1), poison, record('A#1', 3), record('B#1', 1), record('B#1', 2)],
      options(kinesis),
    );
    expect(report.outcomes).toEqual(['published', 'failed', 'not-attempted', 'published', 'published']);
    expect(report.reasons.get(1)).toBe('route failed');
  });
});
