/**
 * The publisher's promise under everything the stream can hand it, over the strict Kinesis and
 * DynamoDB models: poison records (over 1 MiB, not an event, unroutable), MODIFY and REMOVE of
 * event items, a command's items shuffled, commands split over invocations, entry failures, and
 * Lambda's retry from the reported record (a batch that keeps failing is discarded after its
 * retries, as the on-failure destination would take it). Seeded; the seed is printed.
 */
import { type AttributeValue, CreateTableCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  createEnvelope,
  decodeEnvelopeRecord,
  type EventEnvelope,
  eventLogItemFromEnvelope,
  eventLogTableDescription,
  newCommandId,
} from '@tidemark/core';
import { FakeDynamoDB, FakeKinesis } from '@tidemark/testing/fakes';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/index';
import { memoryLogger } from '../helpers/fakes';

const TABLE = 'events';
const STREAM = 'events';
const ARN = `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/stream/2026-01-01T00:00:00.000`;
const MAX_ATTEMPTS = 3;

type Kind = 'valid' | 'oversized' | 'not-an-event' | 'unroutable';
interface PlannedEvent {
  readonly key: string;
  readonly version: number;
  readonly kind: Kind;
}

const aggregateArb = fc.array(
  fc.array(
    // Twelve valid events for each kind of poison (the same choices, in the same order, as listing them).
    fc.constantFrom<Kind>(
      ...Array.from({ length: 12 }, (): Kind => 'valid'),
      'oversized',
      'not-an-event',
      'unroutable',
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  ),
  { minLength: 1, maxLength: 4 },
);

const scenarioArb = fc.record({
  aggregates: fc.array(aggregateArb, { minLength: 1, maxLength: 4 }),
  interleaving: fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
  shuffles: fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
  rewrites: fc.array(fc.record({ at: fc.nat(), of: fc.nat(), remove: fc.boolean() }), { maxLength: 3 }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
  kinesisSeed: fc.nat(),
  packRuns: fc.boolean(),
});

/** The events of a Kinesis record: one envelope, or a packed run (a CloudEvents JSON batch). */
function eventsOf(data: Uint8Array): EventEnvelope[] {
  return decodeEnvelopeRecord(data).entries.map((entry) => {
    if (!entry.success) throw entry.error;
    return entry.envelope;
  });
}

describe('publisher property: order, poison, rewrites, split commands', () => {
  it('first arrivals in version order, nothing unpublished reported done, nothing earlier than poison held', async () => {
    const seed = Number(process.env.TIDEMARK_SEED ?? Date.now() % 1_000_000);
    console.log(`publisher property seed: ${seed}`);
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) => runScenario(scenario)),
      {
        seed,
        numRuns: 40,
      },
    );
  }, 120_000);
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

async function runScenario(scenario: Scenario) {
  const dynamodb = new FakeDynamoDB();
  await dynamodb.client.send(new CreateTableCommand(eventLogTableDescription(TABLE)));
  const kinesis = new FakeKinesis({ faults: { seed: scenario.kinesisSeed, entryThrottleRate: 0.1 } });
  kinesis.createStream(STREAM, 2);

  // The log: each aggregate's commands, items as the event log writes them.
  const planned = new Map<string, PlannedEvent>(); // by `${key}@${version}`
  const commandsOf: { key: string; items: Record<string, AttributeValue>[] }[][] = [];
  const unroutable = new Set<string>();
  scenario.aggregates.forEach((commands, a) => {
    const id = `agg-${a}`;
    const key = `Task#${id}`;
    let version = 0;
    const list: { key: string; items: Record<string, AttributeValue>[] }[] = [];
    for (const kinds of commands) {
      const first = version + 1;
      const last = version + kinds.length;
      const commandId = newCommandId();
      const items = kinds.map((kind) => {
        version += 1;
        planned.set(`${key}@${version}`, { key, version, kind });
        const envelope = createEnvelope({
          source: '/property',
          type: 'TaskRenamed',
          aggregate: { type: 'Task', id },
          version,
          commandId,
          // Control characters take 6 bytes each in JSON: 180,000 of them make a 1.08 MB envelope.
          data: { name: kind === 'oversized' ? '\u0001'.repeat(180_000) : `v${version}` },
        });
        if (kind === 'unroutable') unroutable.add(envelope.id);
        const item =
          kind === 'not-an-event'
            ? {
                pk: key,
                sk: version,
                note: 'not an event',
                commandFirstVersion: first,
                commandLastVersion: last,
              }
            : { ...eventLogItemFromEnvelope(envelope), commandFirstVersion: first, commandLastVersion: last };
        return marshall(item, { removeUndefinedValues: true });
      });
      list.push({ key, items });
    }
    commandsOf.push(list);
  });
  dynamodb.seed(
    TABLE,
    commandsOf.flat().flatMap((command) => command.items),
  );

  // The stream: aggregates interleaved, each command's items shuffled, commands of one aggregate
  // in order; rewrites of already inserted items appended at random later points.
  let sequence = 0;
  const record = (
    eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
    item: Record<string, AttributeValue>,
  ): DynamoDBRecord => {
    sequence += 1;
    return {
      eventID: `e${sequence}`,
      eventName,
      eventSource: 'aws:dynamodb',
      eventSourceARN: ARN,
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: { pk: item.pk, sk: item.sk } as never,
        ...(eventName === 'REMOVE' ? {} : { NewImage: item as never }),
        SequenceNumber: String(sequence).padStart(21, '0'),
        StreamViewType: 'NEW_IMAGE',
      },
    };
  };
  const cursors = commandsOf.map(() => 0);
  const stream: DynamoDBRecord[] = [];
  let draw = 0;
  const next = (values: readonly number[]) => values[draw++ % values.length]!;
  while (cursors.some((cursor, a) => cursor < commandsOf[a]!.length)) {
    const open = cursors.flatMap((cursor, a) => (cursor < commandsOf[a]!.length ? [a] : []));
    const a = open[next(scenario.interleaving) % open.length]!;
    const items = [...commandsOf[a]![cursors[a]!]!.items];
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = next(scenario.shuffles) % (i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    for (const item of items) stream.push(record('INSERT', item));
    cursors[a] = cursors[a]! + 1;
  }
  const removed = new Set<string>();
  for (const rewrite of scenario.rewrites) {
    const inserts = stream.filter((r) => r.eventName === 'INSERT');
    const target = inserts[rewrite.of % inserts.length]!;
    const at = stream.indexOf(target) + 1 + (rewrite.at % (stream.length - stream.indexOf(target)));
    const item = target.dynamodb!.NewImage as Record<string, AttributeValue>;
    stream.splice(at, 0, record(rewrite.remove ? 'REMOVE' : 'MODIFY', item));
    if (rewrite.remove && !removed.has(`${item.pk!.S}@${item.sk!.N}`)) {
      removed.add(`${item.pk!.S}@${item.sk!.N}`);
      await dynamodb.client.send(
        new DeleteItemCommand({ TableName: TABLE, Key: { pk: item.pk!, sk: item.sk! } }),
      );
    }
  }

  const publisher = createPublisher({
    kinesis: kinesis.client,
    dynamodb: dynamodb.client,
    route: (envelope) => {
      if (unroutable.has(envelope.id)) throw new Error('no route for this event');
      return STREAM;
    },
    logger: memoryLogger().logger,
    retry: { retries: 10, minTimeoutMs: 0, maxTimeoutMs: 1 },
    packRuns: scenario.packRuns,
  });

  // Lambda: batches from the checkpoint; a reported failure moves the checkpoint to it and retries;
  // a batch that fails MAX_ATTEMPTS times is discarded (on-failure destination).
  const published = () => {
    const ids = new Set<string>();
    for (const stored of kinesis.records(STREAM))
      for (const envelope of eventsOf(stored.Data)) ids.add(envelope.id);
    return ids;
  };
  const eventIdOf = (r: DynamoDBRecord) => r.dynamodb?.NewImage?.eventId?.S;
  const kindOf = (r: DynamoDBRecord) =>
    planned.get(`${r.dynamodb?.Keys?.pk?.S}@${r.dynamodb?.Keys?.sk?.N}`)!.kind;
  let position = 0;
  let batchIndex = 0;
  let attempts = 0;
  let batchEnd = 0;
  let invocations = 0;
  while (position < stream.length) {
    invocations += 1;
    expect(invocations).toBeLessThan(500);
    if (attempts === 0)
      batchEnd = Math.min(
        stream.length,
        position + scenario.batchSizes[batchIndex++ % scenario.batchSizes.length]!,
      );
    const batch = stream.slice(position, batchEnd);
    const result = await publisher.publishBatch({ Records: batch });
    const failedAt =
      result.batchItemFailures.length === 0
        ? batch.length
        : batch.findIndex((r) => r.dynamodb!.SequenceNumber === result.batchItemFailures[0]!.itemIdentifier);
    expect(result.batchItemFailures.length).toBeLessThanOrEqual(1);
    expect(failedAt).toBeGreaterThanOrEqual(0);
    // Nothing unpublished is reported as done.
    const now = published();
    for (const r of batch.slice(0, failedAt)) {
      if (r.eventName !== 'INSERT') continue;
      expect(kindOf(r)).toBe('valid');
      expect(now.has(eventIdOf(r)!)).toBe(true);
    }
    if (failedAt === batch.length) {
      position = batchEnd;
      attempts = 0;
    } else {
      position += failedAt;
      attempts += 1;
      if (attempts >= MAX_ATTEMPTS) {
        position = batchEnd; // discarded to the on-failure destination
        attempts = 0;
      }
    }
  }

  // First arrivals of each aggregate's versions are in order.
  const firsts = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const stored of kinesis.records(STREAM)) {
    const envelopes = eventsOf(stored.Data);
    if (!scenario.packRuns) expect(envelopes).toHaveLength(1);
    // A packed record holds consecutive versions of one aggregate.
    envelopes.forEach((envelope, position) => {
      if (position > 0) expect(envelope.aggregateversion).toBe(envelopes[position - 1]!.aggregateversion + 1);
    });
    for (const envelope of envelopes) {
      if (seen.has(envelope.id)) continue;
      seen.add(envelope.id);
      const key = `${envelope.aggregatetype}#${envelope.aggregateid}`;
      firsts.set(key, [...(firsts.get(key) ?? []), envelope.aggregateversion]);
      expect(stored.PartitionKey).toBe(key);
    }
  }
  for (const versions of firsts.values()) {
    for (let i = 1; i < versions.length; i += 1) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
  }
  // Nothing earlier than a poison record (or a deleted version) is held back.
  const publishedVersions = new Map<string, Set<number>>();
  for (const [key, versions] of firsts) publishedVersions.set(key, new Set(versions));
  const firstBlock = new Map<string, number>();
  for (const event of planned.values()) {
    const blocked = event.kind !== 'valid' || removed.has(`${event.key}@${event.version}`);
    if (blocked && event.version < (firstBlock.get(event.key) ?? Number.POSITIVE_INFINITY))
      firstBlock.set(event.key, event.version);
  }
  for (const event of planned.values()) {
    if (event.version < (firstBlock.get(event.key) ?? Number.POSITIVE_INFINITY)) {
      expect(publishedVersions.get(event.key)?.has(event.version)).toBe(true);
    }
    if (event.kind !== 'valid')
      expect(publishedVersions.get(event.key)?.has(event.version) ?? false).toBe(false);
  }
}
