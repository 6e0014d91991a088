/**
 * The consumer's grants are a hand-kept list (`CONSUMER_TABLE_ACTIONS`). This test keeps it honest:
 * it runs the real `createConsumer` on the strict in-memory DynamoDB through every path that writes
 * (apply, gap held and closed, park with chunked data, handler out of attempts, gap sweep, redrive,
 * transactional commit) and checks that every action it sends to its table is in the list, and that
 * the list holds no action the consumer never sends.
 */
import { CONSUMER_TABLE_TTL_ATTRIBUTE, consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { defineCatalog, defineEvent } from '@tidemark/core';
import {
  buildEnvelopes,
  fakeLambdaContext,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
} from '@tidemark/testing';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONSUMER_TABLE_ACTIONS, CONSUMER_TTL_ATTRIBUTE, TRANSACTIONAL_WRITE_ACTIONS } from '../../src/index';

const Counted = defineEvent({
  type: 'Counted',
  schemaVersion: 1,
  aggregateType: 'Counter',
  schema: z.object({ n: z.number() }),
});
const catalog = defineCatalog([Counted]);
const TABLE = 'consumer-state';
const EFFECTS = 'effects';

/** The IAM action each request (and each item of a transaction) needs. */
function actionsOf(operation: string, input: Readonly<Record<string, unknown>>): [string, string][] {
  if (operation === 'TransactWriteItems') {
    const items = (input.TransactItems ?? []) as Record<string, { TableName: string }>[];
    const kinds: Record<string, string> = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
    };
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, body]): [string, string] => [
        body.TableName,
        `dynamodb:${kinds[kind]}`,
      ]),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const tables = Object.keys((input.RequestItems ?? {}) as Record<string, unknown>);
    return tables.map((table): [string, string] => [table, `dynamodb:${operation}`]);
  }
  return [[String(input.TableName), `dynamodb:${operation}`]];
}

describe('CONSUMER_TABLE_ACTIONS', () => {
  it('names the TTL attribute the consumer writes', () => {
    expect(CONSUMER_TTL_ATTRIBUTE).toBe(CONSUMER_TABLE_TTL_ATTRIBUTE);
  });

  it('covers every action the consumer sends to its table, and nothing it never sends', async () => {
    const used = new Map<string, Set<string>>();
    const dynamodb = new FakeDynamoDB({
      onBeforeSend: (call) => {
        for (const [table, action] of actionsOf(call.operation, call.input)) {
          if (!used.has(table)) used.set(table, new Set());
          used.get(table)!.add(action);
        }
      },
    });
    dynamodb.createTable(consumerTableDescription(TABLE));
    dynamodb.createTable({
      TableName: EFFECTS,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    const failing = new Set<number>();
    let now = new Date('2026-11-30T10:00:00Z');
    const options = {
      name: 'coverage',
      events: catalog,
      checkpoints: { tableName: TABLE, dynamodb: dynamodb.client },
      maxAttempts: 1,
      gapTimeoutSeconds: 60,
      clock: () => now,
    } as const;
    const plain = createConsumer({
      ...options,
      handlers: {
        Counted: (event) => {
          if (failing.has(event.data.n)) throw new Error(`refuses ${event.data.n}`);
        },
      },
    });
    const context = () => fakeLambdaContext({ timeoutSeconds: 60 });
    const history = buildEnvelopes(6, {
      type: 'Counted',
      aggregate: { type: 'Counter', id: 'c-1' },
      data: { n: 0 },
    }).map((envelope, index) => ({ ...envelope, data: { n: index + 1 } }));
    const [v1, v2, v3, v4, , v6] = history; // v5 never arrives

    // Apply, then a gap held (v3 before v2), then closed.
    await plain(kinesisEventFromEnvelopes([v1!, v3!]), context());
    await plain(kinesisEventFromEnvelopes([v2!]), context());
    // A handler out of attempts (parked), then a poison record with large data (chunked dead letter).
    failing.add(4);
    await plain(kinesisEventFromEnvelopes([v4!]), context());
    await plain(kinesisEventFromData(['x'.repeat(600 * 1024)]), context());
    // A gap the sweep expires (v6 held, v5 never arrives), and a stale open-gap entry (an aggregate
    // that holds nothing, as an older consumer version could leave) the sweep retires conditionally.
    await plain(kinesisEventFromEnvelopes([v6!]), context());
    dynamodb.seed(TABLE, [
      {
        pk: { S: 'consumer#coverage#gaps' },
        sk: { S: 'Counter#c-stale' },
        kind: { S: 'gap' },
        consumer: { S: 'coverage' },
        aggregateType: { S: 'Counter' },
        aggregateId: { S: 'c-stale' },
        openSince: { S: now.toISOString() },
      },
    ]);
    now = new Date(now.getTime() + 10 * 60_000);
    await plain.gaps.expire();
    expect((await plain.gaps.list()).map((gap) => gap.aggregate.id)).toEqual([]);
    // Redrive of the parked handler failure, deleting its dead letter.
    failing.clear();
    const parked = (await plain.deadLetters.list()).items;
    const reasons = parked.map((letter) => letter.reason).sort();
    expect(reasons).toEqual(['gap-expired', 'handler-failed', 'undecodable']);
    const handlerFailed = parked.find((letter) => letter.reason === 'handler-failed')!;
    expect(await plain.deadLetters.redrive(handlerFailed.id)).toMatchObject({ outcome: 'applied' });
    await plain.deadLetters.delete(parked.find((letter) => letter.reason === 'undecodable')!.id);

    // Transactional mode: staged writes commit with the checkpoint.
    const transactional = createConsumer({
      ...options,
      name: 'coverage-tx',
      transactional: true,
      handlers: {
        Counted: (event, { transaction }) => {
          transaction.put({
            TableName: EFFECTS,
            Item: { id: { S: `${event.aggregate.id}#${event.version}` } },
          });
        },
      },
    });
    await transactional(kinesisEventFromEnvelopes([v1!, v2!]), context());

    const onTable = [...(used.get(TABLE) ?? [])].sort();
    expect(onTable).toEqual([...CONSUMER_TABLE_ACTIONS].sort());
    const onEffects = [...(used.get(EFFECTS) ?? [])];
    expect(onEffects).toEqual(['dynamodb:PutItem']);
    expect(onEffects.every((action) => TRANSACTIONAL_WRITE_ACTIONS.includes(action))).toBe(true);
    expect([...used.keys()].sort()).toEqual([EFFECTS, TABLE].sort());
  });
});
