import { marshall } from '@aws-sdk/util-dynamodb';
import { decodeEnvelope, type EventEnvelope, eventLogItemFromEnvelope } from '@tidemark/core';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createPublisher,
  PUBLISHER_DEFAULTS,
  type PublisherOptions,
} from '../../src/index';
import {
  awsError,
  envelopesFor,
  FakeDynamoDb,
  FakeKinesis,
  lambdaContext,
  memoryLogger,
  memoryMetrics,
  streamEventOf,
  streamRecord,
} from '../helpers/fakes';

const fastRetry = { retries: 5, minTimeoutMs: 0, maxTimeoutMs: 1 };

function setup(options: Partial<PublisherOptions> = {}) {
  const kinesis = new FakeKinesis();
  const { lines, logger } = memoryLogger();
  const metrics = memoryMetrics();
  const publisher = createPublisher({
    kinesis: kinesis as never,
    streamName: 'events',
    logger,
    metrics,
    retry: fastRetry,
    ...options,
  } as PublisherOptions);
  return { kinesis, publisher, lines, metrics };
}

/** Runs the handler through middy (as Lambda does) or through the plain function. */
const entryPoints = [
  [
    'the middy handler',
    (publisher: ReturnType<typeof createPublisher>, event: DynamoDBStreamEvent, context = lambdaContext()) =>
      publisher(structuredClone(event), context as Context),
  ],
  [
    'publishBatch',
    async (
      publisher: ReturnType<typeof createPublisher>,
      event: DynamoDBStreamEvent,
      context = lambdaContext(),
    ) => {
      const { batchItemFailures } = await publisher.publishBatch(event, context);
      return { batchItemFailures };
    },
  ],
] as const;

const versionsOf = (envelopes: readonly EventEnvelope[], id: string) =>
  envelopes.filter((e) => e.aggregateid === id).map((e) => e.aggregateversion);

describe.each(entryPoints)('createPublisher through %s', (_name, invoke) => {
  it('publishes every INSERT as its envelope, partitioned by aggregate, and reports no failure', async () => {
    const { kinesis, publisher, metrics } = setup();
    const envelopes = [...envelopesFor('a', 1, 3), ...envelopesFor('b', 1, 2)];
    const response = await invoke(publisher, streamEventOf(envelopes));
    expect(response).toEqual({ batchItemFailures: [] });
    const accepted = kinesis.accepted.get('events')!;
    expect(accepted.map((entry) => entry.envelope)).toHaveLength(5);
    expect(accepted.every((entry) => entry.key === `Task#${entry.envelope.aggregateid}`)).toBe(true);
    expect(accepted.map((entry) => entry.envelope).sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [...envelopes].sort((x, y) => x.id.localeCompare(y.id)),
    );
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2, 3]);
    // One wave: a1–a3 packed in one record, b1–b2 in another.
    expect(kinesis.calls.map((call) => call.keys)).toEqual([['Task#a', 'Task#b']]);
    expect(metrics.counts.find((m) => m.name === 'RecordsPublished')).toMatchObject({
      value: 5,
      unit: 'Count',
    });
  });

  it('with packRuns false, publishes one event per record in waves of one record per aggregate', async () => {
    const { kinesis, publisher, metrics } = setup({ packRuns: false });
    const envelopes = [...envelopesFor('a', 1, 3), ...envelopesFor('b', 1, 2)];
    const response = await invoke(publisher, streamEventOf(envelopes));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2, 3]);
    // waves: [a1 b1] [a2 b2] [a3]
    expect(kinesis.calls.map((call) => call.keys)).toEqual([
      ['Task#a', 'Task#b'],
      ['Task#a', 'Task#b'],
      ['Task#a'],
    ]);
    expect(metrics.counts.find((m) => m.name === 'RecordsPublished')).toMatchObject({
      value: 5,
      unit: 'Count',
    });
  });

  it('publishes 1,000 events of distinct aggregates in 2 PutRecords calls', async () => {
    const { kinesis, publisher } = setup();
    const envelopes = Array.from({ length: 1000 }, (_, i) => envelopesFor(`t${i}`, 1, 1)[0]!);
    const response = await invoke(publisher, streamEventOf(envelopes));
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.calls.map((call) => call.keys.length)).toEqual([500, 500]);
  });

  it('retries only the failed entries, and never puts a later version before an earlier one', async () => {
    // One event per record, so that a2 and b2 wait for a later wave behind a1's retry.
    const { kinesis, publisher, metrics } = setup({ packRuns: false });
    let failedOnce = false;
    kinesis.fate = (key, callIndex) => {
      if (key === 'Task#a' && callIndex === 0 && !failedOnce) {
        failedOnce = true;
        return 'ProvisionedThroughputExceededException';
      }
      return 'ok';
    };
    const response = await invoke(
      publisher,
      streamEventOf([...envelopesFor('a', 1, 2), ...envelopesFor('b', 1, 2)]),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.calls.map((call) => call.keys)).toEqual([
      ['Task#a', 'Task#b'],
      ['Task#a'], // the retry carries only the failed entry
      ['Task#a', 'Task#b'],
    ]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2]);
    expect(metrics.counts.find((m) => m.name === 'PublishRetries')!.value).toBe(1);
  });

  it('publishes an aggregate in version order when the stream delivers its items out of order', async () => {
    const { kinesis, publisher } = setup();
    const a = envelopesFor('a', 1, 3);
    const b = envelopesFor('b', 1, 2);
    // The items of one transaction (a2, a3) may reach the stream in any order.
    const response = await invoke(publisher, streamEventOf([a[0]!, b[1]!, a[2]!, b[0]!, a[1]!]));
    expect(response.batchItemFailures).toEqual([]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2, 3]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1, 2]);
  });

  it('reports the stream-earliest record when a version it holds back first fails', async () => {
    const { kinesis, publisher } = setup({
      retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 },
      packRuns: false,
    });
    // Wave 1 (call 0) carries a1; every later call carries a2, which keeps failing.
    kinesis.fate = (_key, callIndex) => (callIndex === 0 ? 'ok' : 'InternalFailure');
    const a = envelopesFor('a', 1, 3);
    const event = streamEventOf([a[0]!, a[2]!, a[1]!]);
    const response = await invoke(publisher, event);
    // a2 failed, so a3 (earlier in the stream) was never sent: Lambda must redeliver from a3.
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber },
    ]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1]);
  });

  it('reports the earliest unpublished record and publishes nothing after it for that aggregate', async () => {
    const { kinesis, publisher, metrics } = setup({
      retry: { retries: 2, minTimeoutMs: 0, maxTimeoutMs: 0 },
    });
    kinesis.fate = (key) => (key === 'Task#b' ? 'InternalFailure' : 'ok');
    const a = envelopesFor('a', 1, 3);
    const b = envelopesFor('b', 1, 2);
    const event = streamEventOf([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]);
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber },
    ]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2, 3]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([]);
    // b2 was never sent: b1 could not be published
    expect(kinesis.calls.filter((call) => call.keys.includes('Task#b'))).toHaveLength(3);
    expect(metrics.counts.find((m) => m.name === 'RecordsUnpublished')!.value).toBe(2);
  });

  it('retries whole calls that fail (throttling, network) as whole waves', async () => {
    const { kinesis, publisher } = setup();
    kinesis.callError = (callIndex) =>
      callIndex < 2
        ? awsError(callIndex === 0 ? 'ProvisionedThroughputExceededException' : 'TimeoutError')
        : undefined;
    const response = await invoke(
      publisher,
      streamEventOf([...envelopesFor('a', 1, 1), ...envelopesFor('b', 1, 1)]),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(kinesis.calls.map((call) => [call.keys.length, call.error])).toEqual([
      [2, 'ProvisionedThroughputExceededException'],
      [2, 'TimeoutError'],
      [2, undefined],
    ]);
  });

  it('does not retry a call that cannot succeed (stream not found) and reports the first record', async () => {
    const { kinesis, publisher, lines } = setup();
    kinesis.callError = () => awsError('ResourceNotFoundException');
    const event = streamEventOf([...envelopesFor('a', 1, 2), ...envelopesFor('b', 1, 1)]);
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(kinesis.calls).toHaveLength(1);
    expect(lines.some((line) => line.level === 'error' && line.message.includes('cannot succeed'))).toBe(
      true,
    );
  });

  it('makes MODIFY and REMOVE loud (error log with coordinates, historyRewritten), skips keyless items, publishes the rest', async () => {
    const { kinesis, publisher, lines, metrics } = setup();
    const [a1, a2] = envelopesFor('a', 1, 2);
    const event: DynamoDBStreamEvent = {
      Records: [
        streamRecord({ ...eventLogItemFromEnvelope(a1!) }),
        streamRecord({ ...eventLogItemFromEnvelope(a1!) }, 'MODIFY'),
        streamRecord({ ...eventLogItemFromEnvelope(a1!) }, 'REMOVE'),
        streamRecord({ pk: 7, sk: 'not a version', hello: 'world' }),
        streamRecord({ ...eventLogItemFromEnvelope(a2!) }),
      ],
    };
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2]);
    const count = (name: string) => metrics.counts.filter((m) => m.name === name).map((m) => m.value);
    // One count per invocation: the MODIFY and the REMOVE (the log line tells them apart).
    expect(count('HistoryRewrites')).toEqual([2]);
    // Rewrites are counted once, as HistoryRewrites (the metric an alarm watches), never as skips.
    expect(count('RecordsSkipped')).toEqual([1]);
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(3);
    const modified = errors.find((line) => line.attributes.eventName === 'MODIFY')!;
    expect(modified.message).toContain('History rewritten');
    expect(modified.attributes).toMatchObject({ aggregateKey: 'Task#a', aggregateVersion: 1 });
    expect(modified.attributes.change).toEqual({ changedAttributes: [] });
    const removed = errors.find((line) => line.attributes.eventName === 'REMOVE')!;
    expect(removed.attributes).toMatchObject({
      aggregateKey: 'Task#a',
      aggregateVersion: 1,
      change: { removed: true },
    });
  });

  it("with onHistoryRewrite 'fail', reports the rewrite as the earliest record not published", async () => {
    const { kinesis, publisher } = setup({ onHistoryRewrite: 'fail' });
    const [a1, a2] = envelopesFor('a', 1, 2);
    const [b1] = envelopesFor('b', 1, 1);
    const modify = streamRecord({ ...eventLogItemFromEnvelope(a1!) }, 'MODIFY');
    const event: DynamoDBStreamEvent = {
      Records: [
        streamRecord({ ...eventLogItemFromEnvelope(a1!) }),
        modify,
        streamRecord({ ...eventLogItemFromEnvelope(a2!) }),
        streamRecord({ ...eventLogItemFromEnvelope(b1!) }),
      ],
    };
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: modify.dynamodb!.SequenceNumber }]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1]);
  });

  it('treats an inserted item with event keys that is not an event as poison: earlier versions and other aggregates go out', async () => {
    const { kinesis, publisher, lines, metrics } = setup();
    const [x1, , x3] = envelopesFor('x', 1, 3);
    const [b1] = envelopesFor('b', 1, 1);
    const bad = streamRecord({ pk: 'Task#x', sk: 2, hello: 'world' });
    const event: DynamoDBStreamEvent = {
      Records: [
        streamRecord({ ...eventLogItemFromEnvelope(x3!) }),
        bad,
        streamRecord({ ...eventLogItemFromEnvelope(x1!) }),
        streamRecord({ ...eventLogItemFromEnvelope(b1!) }),
      ],
    };
    const response = await invoke(publisher, event);
    expect(versionsOf(kinesis.all(), 'x')).toEqual([1]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1]);
    // x3 (first in the batch) was not published: the earliest stream record not published.
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(metrics.counts.find((m) => m.name === 'UnpublishableRecords')!.value).toBe(1);
    const logged = lines.find(
      (line) => line.level === 'error' && line.attributes.reason?.toString().startsWith('not an event'),
    )!;
    expect(logged.attributes).toMatchObject({
      aggregateKey: 'Task#x',
      aggregateVersion: 2,
      sequenceNumber: bad.dynamodb!.SequenceNumber,
    });
  });

  it('never logs payloads', async () => {
    const { kinesis, publisher, lines } = setup({ retry: { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 } });
    kinesis.fate = () => 'InternalFailure';
    const secret = 'top-secret-payload-value';
    await invoke(publisher, streamEventOf(envelopesFor('a', 1, 2, { name: secret })));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('routes each event to the stream the route picks, by name or ARN', async () => {
    const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/audit';
    const { kinesis, publisher } = setup({
      streamName: undefined,
      route: (envelope) => (envelope.aggregateid === 'a' ? 'tasks' : arn),
    } as Partial<PublisherOptions>);
    await invoke(publisher, streamEventOf([...envelopesFor('a', 1, 1), ...envelopesFor('b', 1, 1)]));
    expect(kinesis.accepted.get('tasks')!.map((entry) => entry.envelope.aggregateid)).toEqual(['a']);
    expect(kinesis.accepted.get(arn)!.map((entry) => entry.envelope.aggregateid)).toEqual(['b']);
  });

  it('holds back an aggregate whose route throws, and reports it', async () => {
    const { kinesis, publisher } = setup({
      streamName: undefined,
      route: (envelope) => {
        if (envelope.aggregateid === 'b') throw new Error('no route for b');
        return 'events';
      },
    } as Partial<PublisherOptions>);
    const event = streamEventOf([...envelopesFor('a', 1, 1), ...envelopesFor('b', 1, 2)]);
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber },
    ]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1]);
  });

  it('stops retrying when the Lambda is out of time and reports what is left', async () => {
    const { kinesis, publisher } = setup({
      safetyMarginMs: 100,
      retry: { retries: 1000, minTimeoutMs: 20, maxTimeoutMs: 20 },
    });
    kinesis.fate = () => 'ProvisionedThroughputExceededException';
    const event = streamEventOf(envelopesFor('a', 1, 2));
    const response = await invoke(publisher, event, lambdaContext(1000));
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(kinesis.calls.length).toBeGreaterThan(1);
    // At least 20 ms between attempts within a 1 s budget: far fewer than the 1,000 retries allowed.
    expect(kinesis.calls.length).toBeLessThanOrEqual(51);
  });

  it('reports an event whose envelope is over 1 MiB as unpublished instead of dropping it', async () => {
    const { kinesis, publisher } = setup();
    const [big] = envelopesFor('a', 1, 1, { name: '\u0001'.repeat(200_000) });
    const [after] = envelopesFor('b', 1, 1);
    const event = streamEventOf([big!, after!]);
    const response = await invoke(publisher, event);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(kinesis.all().map((e) => e.aggregateid)).toEqual(['b']);
  });

  it('answers an empty batch with no failures and no call', async () => {
    const { kinesis, publisher } = setup();
    expect(await invoke(publisher, { Records: [] })).toEqual({ batchItemFailures: [] });
    expect(kinesis.calls).toEqual([]);
  });
});

describe('createPublisher options', () => {
  const refusal = (options: unknown, option: string) => {
    expect(() => createPublisher(options as never)).toThrow(ConfigurationError);
    expect(() => createPublisher(options as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID', factory: 'createPublisher', option }),
    );
  };

  it('needs exactly one of streamName, streamArn and route', () => {
    expect(() => createPublisher({} as never)).toThrow(
      'createPublisher: streamName: expected exactly one of streamName, streamArn or route; none was given',
    );
    refusal({}, 'streamName');
    refusal({ streamName: 'a', streamArn: 'arn:x' }, 'streamArn');
    refusal({ streamName: 'a', route: () => 'a' }, 'route');
    refusal({ streamArn: 'not-an-arn' }, 'streamArn');
    refusal({ streamName: '' }, 'streamName');
    refusal({ route: 'task-events' }, 'route');
    expect(() => createPublisher({ streamArn: 'not-an-arn' })).toThrow('expected an ARN');
  });

  it('rejects unknown options and bad values so typos fail fast, naming the option', () => {
    expect(() => createPublisher({ streamName: 's', retires: 3 } as never)).toThrow(
      'createPublisher: unknown option "retires"',
    );
    refusal({ streamName: 's', retires: 3 }, 'retires');
    refusal({ streamName: 's', retry: { retries: -1 } }, 'retry.retries');
    refusal({ streamName: 's', retry: { factor: 0.5 } }, 'retry.factor');
    refusal({ streamName: 's', retry: { minTimeout: 5 } }, 'retry.minTimeout');
    refusal({ streamName: 's', safetyMarginMs: 99 }, 'safetyMarginMs');
    refusal({ streamName: 's', defaultTimeBudgetMs: 0 }, 'defaultTimeBudgetMs');
    refusal({ streamName: 's', maxConcurrentCalls: 65 }, 'maxConcurrentCalls');
    refusal({ streamName: 's', onHistoryRewrite: 'ignore' }, 'onHistoryRewrite');
    refusal({ streamName: 's', tableName: 'ab' }, 'tableName');
    refusal({ streamName: 's', kinesis: { regoin: 'eu-west-1' } }, 'kinesis.regoin');
    refusal({ streamName: 's', dynamodb: 'eu-west-1' }, 'dynamodb');
    refusal({ streamName: 's', logger: { info() {} } }, 'logger');
    refusal({ streamName: 's', metrics: () => {} }, 'metrics');
    refusal({ streamName: 's', packRuns: 'yes' }, 'packRuns');
    refusal(null, '');
  });

  it('defaults every optional setting from PUBLISHER_DEFAULTS, which is frozen', () => {
    expect(Object.isFrozen(PUBLISHER_DEFAULTS) && Object.isFrozen(PUBLISHER_DEFAULTS.retry)).toBe(true);
    expect(() => createPublisher({ streamName: 's', ...PUBLISHER_DEFAULTS })).not.toThrow();
  });

  it('works with middy middlewares added by the user', async () => {
    const { kinesis, publisher } = setup();
    const seen: string[] = [];
    publisher.use({
      before: (request: { event: DynamoDBStreamEvent }) => {
        seen.push(`before:${request.event.Records.length}`);
      },
      after: (request: { response: unknown }) => {
        seen.push(`after:${JSON.stringify(request.response)}`);
      },
    });
    await publisher(streamEventOf(envelopesFor('a', 1, 1)), lambdaContext() as Context);
    expect(seen).toEqual(['before:1', 'after:{"batchItemFailures":[]}']);
    expect(kinesis.all()).toHaveLength(1);
  });

  it('decodes to valid envelopes on the stream', async () => {
    const { kinesis, publisher } = setup();
    const [a1] = envelopesFor('a', 1, 1);
    await publisher.publishBatch(streamEventOf([a1!]));
    const data = new TextEncoder().encode(JSON.stringify(kinesis.all()[0]));
    expect(decodeEnvelope(data)).toEqual(a1);
  });
});

describe('createPublisher under random partial failures (property)', () => {
  const batchArbitrary = fc
    .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 })
    .chain((counts) =>
      fc
        .shuffledSubarray(
          counts.flatMap((count, aggregate) => Array.from({ length: count }, () => aggregate)),
          { minLength: counts.reduce((sum, count) => sum + count, 0) },
        )
        .map((order) => ({ counts, order })),
    );
  const fatesArbitrary = fc.array(fc.constantFrom<'ok' | 'fail' | 'call'>('ok', 'ok', 'fail', 'call'), {
    minLength: 0,
    maxLength: 60,
  });

  it('loses nothing, reports the earliest unpublished record, and first publishes each aggregate in version order', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchArbitrary,
        fatesArbitrary,
        fc.integer({ min: 0, max: 3 }),
        async ({ counts, order }, fates, retries) => {
          // Stream order: the shuffled interleaving, each aggregate's versions ascending.
          const byAggregate = counts.map((count, aggregate) => envelopesFor(`agg${aggregate}`, 1, count));
          const next = counts.map(() => 0);
          const envelopes = order.map((aggregate) => byAggregate[aggregate]![next[aggregate]!++]!);

          const { kinesis, publisher } = setup({ retry: { retries, minTimeoutMs: 0, maxTimeoutMs: 0 } });
          let fateIndex = 0;
          const draw = () => fates[fateIndex++] ?? 'ok';
          kinesis.callError = () => (draw() === 'call' ? awsError('InternalFailure') : undefined);
          kinesis.fate = () => (draw() === 'fail' ? 'ProvisionedThroughputExceededException' : 'ok');

          // Lambda's behaviour: redeliver from the reported record until nothing is reported.
          let event = streamEventOf(envelopes);
          let remaining = envelopes;
          for (let invocation = 0; invocation < 50 && remaining.length > 0; invocation += 1) {
            const before = new Set(kinesis.all().map((e) => e.id));
            const { batchItemFailures } = await publisher.publishBatch(event, lambdaContext());
            const after = new Set(kinesis.all().map((e) => e.id));
            expect(batchItemFailures.length).toBeLessThanOrEqual(1);
            const failureAt = batchItemFailures[0]
              ? event.Records.findIndex(
                  (r) => r.dynamodb!.SequenceNumber === batchItemFailures[0]!.itemIdentifier,
                )
              : remaining.length;
            expect(failureAt).toBeGreaterThanOrEqual(0);
            // Nothing lost: everything before the reported record was published in this invocation.
            remaining.slice(0, failureAt).forEach((envelope) => {
              expect(after.has(envelope.id)).toBe(true);
            });
            // The reported record itself was not published in this invocation.
            if (failureAt < remaining.length)
              expect(after.has(remaining[failureAt]!.id) && !before.has(remaining[failureAt]!.id)).toBe(
                false,
              );
            remaining = remaining.slice(failureAt);
            event = { Records: event.Records.slice(failureAt) };
          }
          expect(remaining).toEqual([]);

          // Every event arrived, and first arrivals per aggregate are in version order.
          const firstSeen = new Set<string>();
          const firstArrivals = new Map<string, number[]>();
          for (const envelope of kinesis.all()) {
            if (firstSeen.has(envelope.id)) continue;
            firstSeen.add(envelope.id);
            const list = firstArrivals.get(envelope.aggregateid) ?? [];
            list.push(envelope.aggregateversion);
            firstArrivals.set(envelope.aggregateid, list);
          }
          counts.forEach((count, aggregate) => {
            expect(firstArrivals.get(`agg${aggregate}`)).toEqual(
              Array.from({ length: count }, (_, i) => i + 1),
            );
          });
          // Never two records of one aggregate in one call, nor in flight at once.
          for (const call of kinesis.calls) expect(new Set(call.keys).size).toBe(call.keys.length);
          expect(kinesis.maxInFlightPerKey).toBe(1);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Items of one command as the event log writes them: each with its command's version range. */
function commandItems(id: string, from: number, to: number, data: Record<string, unknown> = {}) {
  return envelopesFor(id, from, to, data).map((envelope) => ({
    ...eventLogItemFromEnvelope(envelope),
    commandFirstVersion: from,
    commandLastVersion: to,
  }));
}

describe('createPublisher: whole commands in order across batch boundaries', () => {
  const setupWithLog = (options: Partial<PublisherOptions> = {}) => {
    const dynamodb = new FakeDynamoDb();
    const context = setup({ dynamodb: dynamodb as never, ...options });
    const store = (items: Record<string, unknown>[]) => {
      for (const item of items) dynamodb.put(marshall(item, { removeUndefinedValues: true }));
      return items;
    };
    return { ...context, dynamodb, store };
  };
  const batch = (...items: Record<string, unknown>[]): DynamoDBStreamEvent => ({
    Records: items.map((item) => streamRecord(item)),
  });

  it('publishes a shuffled whole command in version order without reading the log', async () => {
    const { kinesis, publisher, dynamodb, store } = setupWithLog();
    const [v1, v2, v3] = store(commandItems('a', 1, 3));
    const result = await publisher.publishBatch(batch(v3!, v1!, v2!), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1, 2, 3]);
    expect(result.summary).toMatchObject({ commandsCompleted: 0, completionQueries: 0 });
    expect(dynamodb.calls).toEqual([]);
  });

  it('completes a command split over two invocations from the log, so no version goes out before an earlier one', async () => {
    const { kinesis, publisher, dynamodb, store, metrics } = setupWithLog();
    const [v1, v2] = store(commandItems('a', 1, 2));
    const [v3] = store(commandItems('a', 3, 3));
    const first = await publisher.publishBatch(batch(v2!), lambdaContext());
    expect(first.batchItemFailures).toEqual([]);
    expect(first.summary).toMatchObject({ commandsCompleted: 1, completionQueries: 1, published: 1 });
    expect(dynamodb.calls).toEqual(['Query']);
    expect(metrics.counts.find((m) => m.name === 'CommandsCompleted')!.value).toBe(1);
    const second = await publisher.publishBatch(batch(v1!, v3!), lambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    const arrivals = versionsOf(kinesis.all(), 'a');
    expect(arrivals.filter((version, index) => arrivals.indexOf(version) === index)).toEqual([1, 2, 3]);
  });

  it('a poison event inside a split command holds back only the later versions, and the report names the earliest record not published', async () => {
    const { kinesis, publisher, store } = setupWithLog({
      streamName: undefined,
      route: (envelope) => {
        if (envelope.aggregateid === 'a' && envelope.aggregateversion === 2) throw new Error('no route');
        return 'events';
      },
    } as Partial<PublisherOptions>);
    const [, , v3, v4] = store(commandItems('a', 1, 4));
    const [b1] = store(commandItems('b', 1, 1));
    const event = batch(v4!, b1!, v3!);
    const result = await publisher.publishBatch(event, lambdaContext());
    expect(versionsOf(kinesis.all(), 'a')).toEqual([1]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1]);
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
  });

  it('a version missing from the log (deleted) is poison for its aggregate only', async () => {
    const { kinesis, publisher, dynamodb, store, lines } = setupWithLog();
    const [, v2] = store(commandItems('a', 1, 2));
    await dynamodb.delete('Task#a', 1);
    const [b1] = store(commandItems('b', 1, 1));
    const event = batch(v2!, b1!);
    const result = await publisher.publishBatch(event, lambdaContext());
    expect(versionsOf(kinesis.all(), 'a')).toEqual([]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1]);
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber },
    ]);
    expect(
      lines.some(
        (line) => line.level === 'error' && String(line.attributes.reason).includes('not in the event log'),
      ),
    ).toBe(true);
  });

  it('when the log cannot be read, the split command waits for the retry and other aggregates go out', async () => {
    const { kinesis, publisher, dynamodb, store } = setupWithLog();
    const [, v2] = store(commandItems('a', 1, 2));
    const [b1] = store(commandItems('b', 1, 1));
    dynamodb.send = async () => {
      throw awsError('ProvisionedThroughputExceededException');
    };
    const event = batch(b1!, v2!);
    const result = await publisher.publishBatch(event, lambdaContext());
    expect(versionsOf(kinesis.all(), 'a')).toEqual([]);
    expect(versionsOf(kinesis.all(), 'b')).toEqual([1]);
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber },
    ]);
  });

  it('reads the table named by the stream ARN unless tableName is given', async () => {
    const { publisher, dynamodb, store } = setupWithLog({ tableName: 'other-table' });
    const [, v2] = store(commandItems('a', 1, 2));
    const tables: string[] = [];
    const send = dynamodb.send.bind(dynamodb);
    dynamodb.send = async (command: unknown) => {
      tables.push((command as { input: { TableName: string } }).input.TableName);
      return send(command);
    };
    await publisher.publishBatch(batch(v2!), lambdaContext());
    expect(tables).toEqual(['other-table']);
    const fromArn = setupWithLog();
    fromArn.store(commandItems('c', 1, 2));
    const seen: string[] = [];
    const sendArn = fromArn.dynamodb.send.bind(fromArn.dynamodb);
    fromArn.dynamodb.send = async (command: unknown) => {
      seen.push((command as { input: { TableName: string } }).input.TableName);
      return sendArn(command);
    };
    await fromArn.publisher.publishBatch(batch(commandItems('c', 1, 2)[1]!), lambdaContext());
    expect(seen).toEqual(['events']);
  });
});
