/**
 * Fuzzes the consumer's input on the real engines: over 1,000 malformed records (bad base64, not
 * UTF-8, not JSON, not an object, missing or mistyped fields, bad ULIDs, bad versions, bad
 * aggregates, bad payloads, records over 400 KB, unknown types), interleaved with good records.
 * Each malformed record must be parked with its reason (or, for an unknown type, skipped), nothing
 * may crash or block a shard, and the good records must still be applied exactly once, in order.
 */
import {
  aggregateKey,
  createEnvelope,
  type EventEnvelope,
  encodeEnvelope,
  newCommandId,
  safeDecodeEnvelope,
} from '@tidemark/core';
import { createKinesisEventSource, fakeLambdaContext, kinesisEventFromData } from '@tidemark/testing';
import { localAws } from '@tidemark/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchEvents, taskEvent } from '../../src/catalog';
import { type FuzzCase, fuzzCases } from '../../src/fuzz-records';
import {
  allDeadLetters,
  countingConsumer,
  createConsumerTable,
  putAll,
  sumSummaries,
} from '../helpers/consumer-harness';

const GOOD_AGGREGATES = 20;
const GOOD_VERSIONS = 10;

/** Good envelopes of `count` aggregates × `versions`, interleaved round-robin (v1 of all, then v2, …). */
function goodEnvelopes(prefix: string, count: number, versions: number): EventEnvelope[] {
  const envelopes: EventEnvelope[] = [];
  for (let version = 1; version <= versions; version += 1) {
    for (let a = 0; a < count; a += 1) {
      const input = taskEvent(version, `${prefix}-${a}`);
      envelopes.push(
        createEnvelope({
          source: '/fuzz',
          type: input.type,
          aggregate: { type: 'Task', id: `${prefix}-${a}` },
          version,
          commandId: newCommandId(),
          data: input.data,
        }),
      );
    }
  }
  return envelopes;
}

/** Interleaves good records among the bad ones: one good record after every `every` bad ones. */
function interleave<B, G>(bad: readonly B[], good: readonly G[], every: number): (B | G)[] {
  const out: (B | G)[] = [];
  let g = 0;
  bad.forEach((item, i) => {
    out.push(item);
    if ((i + 1) % every === 0 && g < good.length) out.push(good[g++] as G);
  });
  while (g < good.length) out.push(good[g++] as G);
  return out;
}

function expectOneDeadLetterPerParkedCase(
  cases: readonly FuzzCase[],
  deadLetters: readonly Awaited<ReturnType<typeof allDeadLetters>>[number][],
) {
  const byPartitionKey = new Map(deadLetters.map((d) => [d.record.partitionKey, d]));
  expect(deadLetters.length).toBe(byPartitionKey.size);
  const wrong: unknown[] = [];
  for (const c of cases) {
    const deadLetter = byPartitionKey.get(c.partitionKey);
    if (c.expect === 'skipped') {
      if (deadLetter) wrong.push({ kind: c.kind, expected: 'skipped', got: deadLetter.reason });
      continue;
    }
    if (deadLetter?.reason !== c.reason) {
      wrong.push({ kind: c.kind, expected: c.reason, got: deadLetter?.reason ?? 'no dead letter' });
    }
  }
  expect.soft(wrong).toEqual([]);
}

/**
 * The reference classification of the consumer README (bad input): data that is not base64, not
 * UTF-8, not JSON or not an object is `undecodable`; an object that is not an envelope (or names an
 * invalid aggregate) is `invalid-envelope`; a type the catalog does not declare is skipped; a payload
 * failing its schema is `invalid-payload`. Decoded from the whole record, base64 read strictly.
 */
function referenceOutcome(data: string): string {
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return 'undecodable';
  const result = safeDecodeEnvelope(Buffer.from(data, 'base64'));
  if (!result.success)
    return result.error.code === 'ENVELOPE_UNDECODABLE' ? 'undecodable' : 'invalid-envelope';
  try {
    aggregateKey({ type: result.envelope.aggregatetype, id: result.envelope.aggregateid });
  } catch {
    return 'invalid-envelope';
  }
  if (!benchEvents.has(result.envelope.type)) return 'skipped';
  try {
    benchEvents.parse(result.envelope);
  } catch {
    return 'invalid-payload';
  }
  return 'applied';
}

describe('fuzzing the consumer input', () => {
  let tableName: string;
  beforeAll(async () => {
    tableName = await createConsumerTable(await localAws(), 'fuzz');
  });
  afterAll(async () => (await localAws()).faults.clear());

  it('generates cases whose expected outcome is the one the documented classification gives', () => {
    const cases = [1107, 2207, 4242].flatMap((seed) =>
      fuzzCases({ seed, count: 1_000, handledType: 'TaskCreated' }),
    );
    const kinds = new Set(cases.map((c) => c.kind));
    expect(kinds.size).toBe(12);
    const mismatched = cases
      .map((c) => ({
        kind: c.kind,
        expected: c.expect === 'skipped' ? 'skipped' : c.reason,
        reference: referenceOutcome(c.data),
      }))
      .filter((c) => c.expected !== c.reference);
    expect(mismatched).toEqual([]);
  });

  it('parks 1,000 malformed records delivered through Kinesis with their reasons, skips unknown types, and still applies every good record once, in order', async () => {
    const aws = await localAws();
    const { streamName } = await aws.createKinesisStream({ prefix: 'fuzz', shardCount: 2 });
    // Bad base64 cannot travel through Kinesis (it carries bytes): the next test delivers it.
    const cases = fuzzCases({
      seed: 1107,
      count: 1_000,
      handledType: 'TaskCreated',
      exclude: ['bad-base64'],
    });
    const good = goodEnvelopes('good', GOOD_AGGREGATES, GOOD_VERSIONS);
    const records = interleave(
      cases.map((c) => ({ data: Buffer.from(c.data, 'base64'), partitionKey: c.partitionKey })),
      good.map((envelope) => ({
        data: encodeEnvelope(envelope),
        partitionKey: `Task#${envelope.aggregateid}`,
      })),
      5,
    );
    await putAll(aws, streamName, records);

    const { consumer, effects } = countingConsumer({ aws, name: 'fuzz-kinesis', tableName });
    const source = createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName,
      handler: consumer,
      batchSize: 100,
      reportBatchItemFailures: true,
      functionTimeoutSeconds: 60,
    });
    try {
      await source.start();
      await source.drain({ timeoutMs: 110_000 });
    } finally {
      await source.stop();
    }

    // No crash, no blocked shard: every invocation succeeded and nothing was given up on.
    expect(source.invocations.filter((i) => i.outcome !== 'success')).toEqual([]);
    expect(source.onFailure).toEqual([]);
    const received = source.invocations.reduce((sum, i) => sum + i.sequenceNumbers.length, 0);
    expect(received).toBe(records.length);

    // Each malformed record parked with its reason, unknown types skipped.
    const deadLetters = await allDeadLetters(consumer);
    expectOneDeadLetterPerParkedCase(cases, deadLetters);
    const parkedCases = cases.filter((c) => c.expect === 'parked');
    expect(deadLetters.length).toBe(parkedCases.length);
    const totals = sumSummaries(effects.summaries);
    expect(totals.skipped).toBe(cases.length - parkedCases.length);
    expect(totals.parked).toBe(parkedCases.length);

    // Oversized records (over a DynamoDB item) are parked too, whole (their data chunked).
    const oversized = deadLetters.filter((d) => d.record.dataBytes > 400_000);
    expect(oversized.length).toBe(cases.filter((c) => c.kind === 'oversized').length);
    for (const d of oversized) {
      expect(d.record.dataTruncated).toBeUndefined();
      expect(
        Buffer.from(d.record.data, d.record.dataEncoding === 'text' ? 'utf8' : 'base64').byteLength,
      ).toBe(d.record.dataBytes);
    }

    // Good records: applied exactly once each, in version order.
    for (let a = 0; a < GOOD_AGGREGATES; a += 1) {
      expect(effects.applied.get(`Task#good-${a}`)).toEqual(
        Array.from({ length: GOOD_VERSIONS }, (_, i) => i + 1),
      );
    }
    const fuzzEffects = [...effects.applied.keys()].filter((key) => key.startsWith('Task#fuzz-'));
    expect(fuzzEffects).toEqual([]);
    console.log(
      `fuzz through Kinesis: ${cases.length} malformed + ${good.length} good records, ${source.invocations.length} invocations; parked ${deadLetters.length}, skipped ${totals.skipped}, applied ${totals.applied}`,
    );
  });

  it('parks records whose data is not base64 (delivered directly: Kinesis cannot carry them), keeping the raw data, and applies the good ones', async () => {
    const aws = await localAws();
    const bad = fuzzCases({ seed: 2207, count: 120, handledType: 'TaskCreated' });
    const badBase64 = bad.filter((c) => c.kind === 'bad-base64');
    expect(badBase64.length).toBeGreaterThanOrEqual(5);
    const good = goodEnvelopes('direct', 5, 6);
    const entries = interleave(
      bad.map((c) => ({ case: c })),
      good.map((envelope) => ({ envelope })),
      4,
    );
    // Build a Lambda-shaped event, then put the raw, not-base64 text where Lambda puts base64.
    const event = kinesisEventFromData(
      entries.map((entry) =>
        'case' in entry
          ? { data: 'placeholder', partitionKey: entry.case.partitionKey }
          : { data: encodeEnvelope(entry.envelope), partitionKey: `Task#${entry.envelope.aggregateid}` },
      ),
    );
    const records = event.Records.map((record, i) => {
      const entry = entries[i]!;
      return 'case' in entry ? { ...record, kinesis: { ...record.kinesis, data: entry.case.data } } : record;
    });

    const { consumer, effects } = countingConsumer({ aws, name: 'fuzz-direct', tableName });
    // Two batches, as Lambda would split them; the second repeats nothing.
    const half = Math.ceil(records.length / 2);
    for (const batch of [records.slice(0, half), records.slice(half)]) {
      const response = await consumer({ Records: batch }, fakeLambdaContext({ timeoutSeconds: 60 }));
      expect(response.batchItemFailures).toEqual([]);
    }

    const deadLetters = await allDeadLetters(consumer);
    expectOneDeadLetterPerParkedCase(bad, deadLetters);
    // The dead letter keeps the raw record: the data exactly as it arrived.
    const byPartitionKey = new Map(deadLetters.map((d) => [d.record.partitionKey, d]));
    const altered = badBase64
      .map((c) => ({ sent: c.data, kept: byPartitionKey.get(c.partitionKey)?.record.data }))
      .filter(({ sent, kept }) => kept !== sent);
    expect.soft(altered).toEqual([]);
    for (let a = 0; a < 5; a += 1) {
      expect(effects.applied.get(`Task#direct-${a}`)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
  it('applies a valid event larger than 300 KiB instead of parking it (an event log item may hold up to 400 KB)', async () => {
    const aws = await localAws();
    const { streamName } = await aws.createKinesisStream({ prefix: 'fuzz-large' });
    const envelopes = [1, 2].map((version) =>
      createEnvelope({
        source: '/fuzz',
        type: version === 1 ? 'TaskCreated' : 'TaskRenamed',
        aggregate: { type: 'Task', id: 'large-0' },
        version,
        commandId: newCommandId(),
        data: { name: version === 1 ? 'x'.repeat(330_000) : 'small' },
      }),
    );
    expect(encodeEnvelope(envelopes[0]!).byteLength).toBeGreaterThan(300 * 1024);
    await putAll(
      aws,
      streamName,
      envelopes.map((envelope) => ({ data: encodeEnvelope(envelope), partitionKey: 'Task#large-0' })),
    );
    const { consumer, effects } = countingConsumer({ aws, name: 'fuzz-large', tableName });
    const source = createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName,
      handler: consumer,
      reportBatchItemFailures: true,
      functionTimeoutSeconds: 30,
    });
    try {
      await source.start();
      await source.drain({ timeoutMs: 30_000 });
    } finally {
      await source.stop();
    }
    expect((await allDeadLetters(consumer)).map((d) => `${d.reason}: ${d.message}`)).toEqual([]);
    expect(effects.applied.get('Task#large-0')).toEqual([1, 2]);
  });
  it('holds a valid event larger than a DynamoDB item behind a gap and applies it when the gap closes, without blocking the shard', async () => {
    const aws = await localAws();
    const { streamName } = await aws.createKinesisStream({ prefix: 'fuzz-held' });
    // Control characters take 1 byte in the event log item and 6 in the JSON envelope: the log
    // accepts this event (a 100 KB item), and its Kinesis record is about 600 KB.
    const envelope = (version: number, name: string) =>
      createEnvelope({
        source: '/fuzz',
        type: version === 1 ? 'TaskCreated' : 'TaskRenamed',
        aggregate: { type: 'Task', id: 'held-0' },
        version,
        commandId: newCommandId(),
        data: { name },
      });
    const big = envelope(3, '\u0001'.repeat(100_000));
    expect(encodeEnvelope(big).byteLength).toBeGreaterThan(400_000);
    // Version 3 arrives before version 2: a gap, so version 3 must be held.
    await putAll(
      aws,
      streamName,
      [envelope(1, 'first'), big, envelope(2, 'second')].map((e) => ({
        data: encodeEnvelope(e),
        partitionKey: 'Task#held-0',
      })),
    );
    const { consumer, effects } = countingConsumer({ aws, name: 'fuzz-held', tableName });
    const source = createKinesisEventSource({
      kinesis: aws.kinesis,
      streamName,
      handler: consumer,
      batchSize: 2,
      reportBatchItemFailures: true,
      maximumRetryAttempts: 3,
      functionTimeoutSeconds: 30,
    });
    try {
      await source.start();
      await source.drain({ timeoutMs: 60_000 });
    } finally {
      await source.stop();
    }
    const notSucceeded = source.invocations
      .filter((i) => i.outcome !== 'success')
      .map((i) => ({ outcome: i.outcome, response: i.response, error: String(i.error ?? '') }));
    expect.soft(notSucceeded).toEqual([]);
    expect(source.onFailure).toEqual([]);
    expect((await allDeadLetters(consumer)).map((d) => `${d.reason}: ${d.message}`)).toEqual([]);
    expect(effects.applied.get('Task#held-0')).toEqual([1, 2, 3]);
  });
});
