/**
 * Property: however the stream orders and repeats the records, wherever batches are cut and
 * whichever handler calls fail (then succeed on a later delivery), a consumer driven with Lambda's
 * ReportBatchItemFailures semantics applies every event exactly once, in version order per
 * aggregate, and never early.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import type { KinesisEvent } from '../../src/types';
import { history, kinesisEvent, lambdaContext, memoryLogger, taskEvents } from '../helpers/events';
import { FakeDynamoDb } from '../helpers/fake-dynamodb';
import { NAME, TABLE } from '../helpers/harness';

const scenario = fc.record({
  aggregates: fc.integer({ min: 1, max: 4 }),
  versions: fc.integer({ min: 1, max: 6 }),
  duplicates: fc.array(fc.nat(), { maxLength: 8 }),
  order: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
  failures: fc.array(fc.nat({ max: 30 }), { maxLength: 6 }),
  transactional: fc.boolean(),
});

describe('createConsumer under any delivery', () => {
  it('applies every event exactly once, in version order, never early', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const db = new FakeDynamoDb();
        const applied = new Map<string, number[]>();
        // Each listed (aggregate, version) fails on its first delivery.
        const failOnce = new Set(s.failures.map((n) => `t${n % s.aggregates}@${(n % s.versions) + 1}`));
        const apply = (event: { aggregate: { id: string }; version: number }) => {
          const key = `${event.aggregate.id}@${event.version}`;
          if (failOnce.delete(key)) throw new Error(`transient failure of ${key}`);
          const list = applied.get(event.aggregate.id) ?? [];
          // Never early: the previous version was applied just before.
          expect(event.version).toBe(list.length + 1);
          list.push(event.version);
          applied.set(event.aggregate.id, list);
        };
        const consumer = createConsumer({
          name: NAME,
          events: taskEvents,
          handlers: { TaskCreated: apply, TaskRenamed: apply },
          checkpoints: { tableName: TABLE, dynamodb: db as never },
          maxAttempts: 100,
          transactional: s.transactional,
          logger: memoryLogger(),
        });

        const envelopes = Array.from({ length: s.aggregates }, (_, index) =>
          history(`t${index}`, 1, s.versions),
        ).flat();
        const withDuplicates = [...envelopes, ...s.duplicates.map((n) => envelopes[n % envelopes.length]!)];
        const shuffled = withDuplicates
          .map((envelope, index) => ({ envelope, key: s.order[index % s.order.length]! * 1000 + index }))
          .sort((a, b) => a.key - b.key)
          .map(({ envelope }) => envelope);
        const stream = kinesisEvent(shuffled).Records;

        // Lambda: deliver from the position, move past the batch or back to the failed record.
        let position = 0;
        for (let invocation = 0; position < stream.length; invocation += 1) {
          expect(invocation).toBeLessThan(200);
          const size = s.batchSizes[invocation % s.batchSizes.length]!;
          const batch: KinesisEvent = { Records: stream.slice(position, position + size) };
          const response = await consumer(batch, lambdaContext());
          const failed = response.batchItemFailures[0]?.itemIdentifier;
          position =
            failed === undefined
              ? position + batch.Records.length
              : stream.findIndex((record) => record.kinesis.sequenceNumber === failed);
        }

        for (let index = 0; index < s.aggregates; index += 1) {
          expect(applied.get(`t${index}`)).toEqual(Array.from({ length: s.versions }, (_, v) => v + 1));
        }
        expect(db.items(TABLE).filter((item) => item.sk!.S!.startsWith('held#'))).toEqual([]);
      }),
      { numRuns: 150, seed: 20261123 },
    );
  });

  it('moves DynamoDB effects and checkpoints together in transactional mode whatever DynamoDB call fails', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (s, faultSeed) => {
        const db = new FakeDynamoDb();
        // One DynamoDB call in five fails, at pseudo-random places (mulberry32).
        let state = faultSeed;
        const random = () => {
          state = (state + 0x6d2b79f5) | 0;
          let t = Math.imul(state ^ (state >>> 15), 1 | state);
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const maybeFail = () =>
          random() < 0.2 ? Object.assign(new Error('injected'), { name: 'InternalServerError' }) : undefined;
        for (const operation of ['BatchGetItem', 'PutItem', 'TransactWriteItems', 'BatchWriteItem']) {
          db.failNext(operation, maybeFail, 10_000);
        }
        const consumer = createConsumer({
          name: NAME,
          events: taskEvents,
          transactional: true,
          handlers: {
            TaskCreated: (event, context) => stage(event, context.transaction),
            TaskRenamed: (event, context) => stage(event, context.transaction),
          },
          checkpoints: { tableName: TABLE, dynamodb: db as never },
          maxAttempts: 1_000,
          logger: memoryLogger(),
        });
        const stage = (
          event: { aggregate: { id: string }; version: number },
          transaction: { put(put: never): void },
        ) =>
          transaction.put({
            TableName: 'effects',
            Item: { pk: { S: event.aggregate.id }, sk: { S: String(event.version) } },
            // A second application of one event would be refused here.
            ConditionExpression: 'attribute_not_exists(pk)',
          } as never);

        const envelopes = Array.from({ length: s.aggregates }, (_, index) =>
          history(`t${index}`, 1, s.versions),
        ).flat();
        const withDuplicates = [...envelopes, ...s.duplicates.map((n) => envelopes[n % envelopes.length]!)];
        const stream = kinesisEvent(
          withDuplicates
            .map((envelope, index) => ({ envelope, key: s.order[index % s.order.length]! * 1000 + index }))
            .sort((a, b) => a.key - b.key)
            .map(({ envelope }) => envelope),
        ).Records;

        let position = 0;
        for (let invocation = 0; position < stream.length; invocation += 1) {
          expect(invocation).toBeLessThan(2_000);
          const size = s.batchSizes[invocation % s.batchSizes.length]!;
          const batch: KinesisEvent = { Records: stream.slice(position, position + size) };
          let failed: string | undefined;
          try {
            failed = (await consumer(batch, lambdaContext())).batchItemFailures[0]?.itemIdentifier;
          } catch {
            continue; // the invocation failed as a whole: Lambda retries the same batch
          }
          position =
            failed === undefined
              ? position + batch.Records.length
              : stream.findIndex((record) => record.kinesis.sequenceNumber === failed);
        }

        const effects = db
          .items('effects')
          .map((item) => `${item.pk!.S}@${item.sk!.S}`)
          .sort();
        expect(effects).toEqual(
          envelopes.map((envelope) => `${envelope.aggregateid}@${envelope.aggregateversion}`).sort(),
        );
        for (let index = 0; index < s.aggregates; index += 1) {
          const checkpoint = db.get(TABLE, `consumer#${NAME}#Task#t${index}`, 'checkpoint')!;
          expect(checkpoint.version).toEqual({ N: String(s.versions) });
        }
        expect(db.items(TABLE).filter((item) => item.pk!.S === `consumer#${NAME}#dead-letters`)).toEqual([]);
      }),
      { numRuns: 100, seed: 20261124 },
    );
  });
});
