/**
 * Schema evolution on the real engine (checkpoints, held records and dead letters in DynamoDB
 * Local): a listener on schema version 1 reads version 2 (an added optional field its producer
 * declared readable), holds the aggregate at version 3 (a breaking change) while the others go on,
 * and, redeployed with a version 3 definition, applies the held events in order exactly once —
 * through the gap sweep for a quiet aggregate, and on the next record for a busy one.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createEnvelope, defineCatalog, defineEvent, type EventEnvelope, newCommandId } from '@tidemark/core';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { createConsumer } from '../../src/index';
import type { BatchSummary } from '../../src/types';
import { consumerTable } from '../helpers/integration-fixture';

/** The listener's definition before the breaking change: `by`. */
const IncrementedV1 = defineEvent({
  type: 'CounterIncremented',
  schemaVersion: 1,
  aggregateType: 'Counter',
  schema: z.object({ by: z.number().int().positive() }),
});

/** The producer's version 3 (and the listener's after its redeploy): `by` renamed to `amount`. */
const IncrementedV3 = defineEvent({
  type: 'CounterIncremented',
  schemaVersion: 3,
  aggregateType: 'Counter',
  schema: z.object({ amount: z.number().int().positive(), note: z.string().optional() }),
  upcast: (data, from) => {
    const old = data as { by: number; note?: string };
    return from < 3 ? { amount: old.by, ...(old.note === undefined ? {} : { note: old.note }) } : data;
  },
});

/** An envelope as the producer writes it at each schema version. */
function written(id: string, version: number, schemaVersion: 1 | 2 | 3): EventEnvelope {
  const data =
    schemaVersion === 1
      ? { by: version }
      : schemaVersion === 2
        ? { by: version, note: `v${version}` }
        : { amount: version };
  return createEnvelope({
    source: '/counters',
    type: 'CounterIncremented',
    aggregate: { type: 'Counter', id },
    version,
    commandId: newCommandId(),
    data,
    schemaVersion,
    // Version 2 only added an optional field: its producer declares it readable by version 1.
    ...(schemaVersion === 2 ? { readableFrom: 1 } : {}),
  });
}

/** A listener deploy: its catalog, what it applied (`id@version` → value read), its metrics and logs. */
function listener(aws: LocalAws, table: string, deploy: 'v1' | 'v3', now: () => Date) {
  const applied: string[] = [];
  const metrics = new Map<string, number>();
  const errors: string[] = [];
  const summaries: BatchSummary[] = [];
  const log = () => undefined;
  const common = {
    name: 'schema-listener',
    checkpoints: { tableName: table, dynamodb: aws.clientConfig },
    gapTimeoutSeconds: 60,
    clock: now,
    metrics: {
      addMetric: (name: string, _unit: 'Count', value: number) =>
        metrics.set(name, (metrics.get(name) ?? 0) + value),
    },
    logger: { debug: log, info: log, warn: log, error: (message: string) => void errors.push(message) },
    onBatchSummary: (summary: BatchSummary) => void summaries.push(summary),
  };
  const consumer =
    deploy === 'v1'
      ? createConsumer({
          ...common,
          events: defineCatalog([IncrementedV1]),
          handlers: {
            CounterIncremented: (event) =>
              void applied.push(`${event.aggregate.id}@${event.version}=${event.data.by}`),
          },
        })
      : createConsumer({
          ...common,
          events: defineCatalog([IncrementedV3]),
          handlers: {
            CounterIncremented: (event) =>
              void applied.push(`${event.aggregate.id}@${event.version}=${event.data.amount}`),
          },
        });
  const deliver = async (envelopes: EventEnvelope[]) => {
    const response = await consumer(kinesisEventFromEnvelopes(envelopes), fakeLambdaContext());
    return response.batchItemFailures;
  };
  return { consumer, applied, metrics, errors, summaries, deliver };
}

async function heldItems(aws: LocalAws, table: string, id: string): Promise<string[]> {
  const response = await aws.dynamodb.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': `consumer#schema-listener#Counter#${id}` }),
      ConsistentRead: true,
    }),
  );
  return (response.Items ?? [])
    .map((item) => String(unmarshall(item).sk))
    .filter((sk) => sk !== 'checkpoint');
}

describe('schema evolution on DynamoDB Local', () => {
  test('holds an aggregate at an event it cannot read yet, goes on with the others, and applies the held events in order exactly once after the redeploy', async ({
    aws,
  }) => {
    const table = await consumerTable(aws);
    let now = new Date('2026-11-30T06:00:00.000Z');
    const clock = () => now;
    const old = listener(aws, table, 'v1', clock);

    // q (quiet after the breaking change) and b (busy): 1 at v1, 2 at v2 (compatible), then v3
    // (breaking) from version 3 on, interleaved with o (others), which stays at v1 and v2.
    const q = [written('q', 1, 1), written('q', 2, 2), written('q', 3, 3), written('q', 4, 3)];
    const b = [written('b', 1, 1), written('b', 2, 2), written('b', 3, 3)];
    const o = [written('o', 1, 1), written('o', 2, 2), written('o', 3, 1)];
    const firstBatch = [q[0]!, b[0]!, o[0]!, q[1]!, b[1]!, o[1]!, q[2]!, b[2]!, o[2]!, q[3]!];

    // Nothing blocks the shard: no record is reported failed.
    expect(await old.deliver(firstBatch)).toEqual([]);
    expect(old.applied).toEqual(['q@1=1', 'b@1=1', 'o@1=1', 'q@2=2', 'b@2=2', 'o@2=2', 'o@3=3']);
    // The version 2 events were read by the version 1 listener; the version 3 ones hold their aggregates.
    expect(old.metrics.get('EventsUnreadable')).toBe(2);
    expect(old.errors.filter((message) => message.includes('cannot read'))).toHaveLength(2);
    expect(old.summaries[0]).toMatchObject({ unreadable: 2, parked: 0, failed: 0 });
    expect(await old.consumer.deadLetters.list()).toEqual({ items: [] });
    expect((await old.consumer.gaps.list()).map((gap) => gap.aggregate.id).sort()).toEqual(['b', 'q']);
    expect(await heldItems(aws, table, 'q')).toHaveLength(2);

    // Delivered again (Lambda retries, or the mapping was recreated): still held, nothing applied twice.
    expect(await old.deliver(firstBatch)).toEqual([]);
    expect(old.applied).toHaveLength(7);
    // A later record of b while it is held waits behind the unreadable one.
    const b4 = written('b', 4, 3);
    expect(await old.deliver([b4])).toEqual([]);
    expect(old.applied).toHaveLength(7);
    // The gap timeout does not give up on an unreadable event: a sweep long after changes nothing.
    now = new Date(now.getTime() + 3_600_000);
    expect(await old.consumer.gaps.expire()).toEqual({ open: 2, expired: 0, stale: 0, applied: 0 });
    expect(old.applied).toHaveLength(7);
    expect(await old.consumer.deadLetters.list()).toEqual({ items: [] });

    // The listener redeploys with the version 3 definition on the same tables.
    const redeployed = listener(aws, table, 'v3', clock);
    // q gets no more records: the scheduled gap sweep applies its held events.
    expect(await redeployed.consumer.gaps.expire()).toMatchObject({ expired: 0, stale: 0 });
    expect(redeployed.applied.filter((key) => key.startsWith('q@'))).toEqual(['q@3=3', 'q@4=4']);
    // b's next record applies its held events first, then itself.
    const b5 = written('b', 5, 3);
    expect(await redeployed.deliver([b5])).toEqual([]);
    expect(redeployed.applied.filter((key) => key.startsWith('b@'))).toEqual(['b@3=3', 'b@4=4', 'b@5=5']);
    expect(await redeployed.consumer.gaps.list()).toEqual([]);
    expect(await heldItems(aws, table, 'q')).toEqual([]);
    expect(await heldItems(aws, table, 'b')).toEqual([]);

    // Exactly once: everything delivered again is a duplicate.
    expect(await redeployed.deliver([...firstBatch, b4, b5])).toEqual([]);
    expect(await redeployed.consumer.gaps.expire()).toEqual({ open: 0, expired: 0, stale: 0, applied: 0 });
    const all = [...old.applied, ...redeployed.applied].map((key) => key.split('=')[0]!);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(
      ['b@1', 'b@2', 'b@3', 'b@4', 'b@5', 'o@1', 'o@2', 'o@3', 'q@1', 'q@2', 'q@3', 'q@4'].sort(),
    );
    expect(redeployed.metrics.get('EventsUnreadable') ?? 0).toBe(0);
    expect(await redeployed.consumer.deadLetters.list()).toEqual({ items: [] });
  });

  test("parks events it cannot read yet with unreadableEvents: 'park', and the aggregate moves on", async ({
    aws,
  }) => {
    const table = await consumerTable(aws);
    const applied: number[] = [];
    const consumer = createConsumer({
      name: 'schema-parker',
      events: defineCatalog([IncrementedV1]),
      handlers: { CounterIncremented: (event) => void applied.push(event.version) },
      checkpoints: { tableName: table, dynamodb: aws.clientConfig },
      unreadableEvents: 'park',
    });
    const response = await consumer(
      kinesisEventFromEnvelopes([written('p', 1, 1), written('p', 2, 3), written('p', 3, 2)]),
      fakeLambdaContext(),
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(applied).toEqual([1, 3]);
    const { items } = await consumer.deadLetters.list();
    expect(items).toEqual([
      expect.objectContaining({
        reason: 'unsupported-schema-version',
        version: 2,
        eventType: 'CounterIncremented',
      }),
    ]);
    expect(await consumer.gaps.list()).toEqual([]);
  });
});
