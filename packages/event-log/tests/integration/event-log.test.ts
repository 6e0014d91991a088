/** The event log's invariants on DynamoDB Local: races, command ids, sizes, storage, paging. */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { newCommandId, newCommandIdAfter, RecordTooLargeError } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  EventLogBusyError,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
} from '../../src/index';
import { MAX_PAYLOAD_DEPTH } from '../../src/storage';
import { testEventLog } from '../helpers/integration-fixture';

const countItems = async (
  aws: { dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient },
  tableName: string,
  pk: string,
) =>
  (
    await aws.dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        Select: 'COUNT',
      }),
    )
  ).Count;

describe('createEventLog on DynamoDB Local', () => {
  test('concurrent appends to one aggregate: exactly one writer wins each version', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'contended' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'start' } }],
    });

    // Round after round, 6 writers race for the same next version with expectedVersion.
    for (let round = 0; round < 4; round += 1) {
      const head = (await log.head(aggregate))!;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, writer) =>
          log.append({
            aggregate,
            commandId: newCommandIdAfter(head.lastCommandId),
            expectedVersion: head.version,
            events: [{ type: 'TaskRenamed', data: { name: `round ${round} writer ${writer}` } }],
          }),
        ),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(
        lost.map((o) =>
          o.reason instanceof ConcurrencyError && o.reason.retryable ? 'ConcurrencyError' : String(o.reason),
        ),
      ).toEqual(Array(lost.length).fill('ConcurrencyError'));
      expect((await log.head(aggregate))!.version).toBe(head.version + 1);
    }

    // Without expectedVersion, writers that retry on ConcurrencyError all get in, one version each.
    const writers = 5;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let attempt = 0; attempt < 50; attempt += 1) {
          const head = (await log.head(aggregate))!;
          try {
            await log.append({
              aggregate,
              commandId: newCommandIdAfter(head.lastCommandId),
              events: [{ type: 'TaskRenamed', data: { name: `free writer ${writer}` } }],
            });
            return;
          } catch (error) {
            if (!(error instanceof ConcurrencyError || error instanceof CommandIdNotIncreasingError))
              throw error;
          }
        }
        throw new Error(`writer ${writer} never got in`);
      }),
    );
    const events = await log.readAll(aggregate);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 1 + 4 + writers }, (_, i) => i + 1));
    const commandIds = events.map((e) => e.commandId);
    expect([...commandIds].sort()).toEqual(commandIds); // strictly increasing with versions
    expect(new Set(commandIds).size).toBe(commandIds.length);
  });

  test('appends survive failing and throttled transactions: every command lands once, versions stay contiguous', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName, {
      retry: { retries: 10, minTimeoutMs: 1, maxTimeoutMs: 20 },
    });
    const aggregate = { type: 'Task', id: 'flaky' };
    await aws.faults.set({
      seed: 11,
      dynamodb: { failureRate: 0.5, operations: ['TransactWriteItems'], error: 'InternalServerError' },
    });
    const commandIds: string[] = [];
    try {
      for (let i = 0; i < 15; i += 1) {
        const commandId = newCommandId();
        commandIds.push(commandId);
        await log.append({
          aggregate,
          commandId,
          events: [{ type: i === 0 ? 'TaskCreated' : 'TaskRenamed', data: { name: `n${i}` } }],
        });
      }
    } finally {
      const stats = await aws.faults.stats();
      await aws.faults.clear();
      expect(stats.dynamodbFailed).toBeGreaterThan(0);
    }
    const events = await log.readAll(aggregate);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(events.map((e) => e.commandId)).toEqual(commandIds);
  });

  test('a stale command id is refused and nothing is written', async ({ aws, eventLogTable }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'stale' };
    const stale = newCommandId();
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    await expect(
      log.append({ aggregate, commandId: stale, events: [{ type: 'TaskRenamed', data: { name: 'b' } }] }),
    ).rejects.toBeInstanceOf(CommandIdNotIncreasingError);
    expect(await countItems(aws, eventLogTable.tableName, 'Task#stale')).toBe(1);
  });

  test('an older retried command is found by binary search and returns its first outcome', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'older' };
    const results = [];
    for (let i = 0; i < 9; i += 1) {
      results.push(
        await log.append({
          aggregate,
          commandId: newCommandId(),
          events: [{ type: i === 0 ? 'TaskCreated' : 'TaskRenamed', data: { name: `n${i}` } }],
        }),
      );
    }
    const retry = await log.append({
      aggregate,
      commandId: results[3]!.commandId,
      events: [{ type: 'TaskRenamed', data: { name: 'n3' } }],
    });
    expect(retry).toEqual({ ...results[3], duplicate: true });
    expect(await countItems(aws, eventLogTable.tableName, 'Task#older')).toBe(9);
  });

  test('an oversized event is refused before anything is written', async ({ aws, eventLogTable }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'big' };
    await expect(
      log.append({
        aggregate,
        commandId: newCommandId(),
        events: [
          { type: 'TaskCreated', data: { name: 'small' } },
          { type: 'NoteAdded', data: { text: '\u0002'.repeat(190_000) } },
        ],
      }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(await countItems(aws, eventLogTable.tableName, 'Task#big')).toBe(0);
  });

  test('payloads come back exactly: empty strings, empty lists and maps, nulls, numbers', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Note', id: 'shapes' };
    const extra = {
      empty: '',
      list: [],
      map: {},
      nested: { a: [{ b: '' }, null, true, 0], c: { d: {} } },
      numbers: [0, -1, 0.1, 1.5e-20, 123456789.125, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-7],
      unicode: 'héllo 🌊 \u0000 "quoted"',
    };
    const { events } = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: '', extra } }],
    });
    const [read] = await log.readAll(aggregate);
    expect(read!.data).toEqual({ text: '', extra });
    expect(JSON.parse(JSON.stringify(events[0]!.data))).toEqual({ text: '', extra });
  });

  test('reads a long aggregate page by page', async ({ aws, eventLogTable }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'long' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    for (let i = 0; i < 3; i += 1) {
      await log.append({
        aggregate,
        commandId: newCommandId(),
        events: Array.from({ length: 80 }, (_, k) => ({
          type: 'TaskRenamed' as const,
          data: { name: `n${i}.${k}` },
        })),
      });
    }
    const all = await log.readAll(aggregate, { pageSize: 37 });
    expect(all.map((e) => e.version)).toEqual(Array.from({ length: 241 }, (_, i) => i + 1));
    const window = await log.readAll(aggregate, { fromVersion: 100, toVersion: 140, pageSize: 9 });
    expect(window.map((e) => e.version)).toEqual(Array.from({ length: 41 }, (_, i) => i + 100));
    expect(await log.head(aggregate)).toEqual({ version: 241, lastCommandId: all[240]!.commandId });
  });

  test('many writers retrying their command ids: every stored command answers its first outcome, none is stored twice', async ({
    aws,
    eventLogTable,
  }) => {
    const seed = Number(process.env.TIDEMARK_SEED ?? Date.now() % 100_000);
    console.log(`event-log concurrency seed: ${seed}`);
    let state = seed;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const log = testEventLog(aws, eventLogTable.tableName, {
      retry: { retries: 6, minTimeoutMs: 5, maxTimeoutMs: 50 },
    });
    const aggregate = { type: 'Task', id: 'retried' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 's' } }],
    });
    type Call = { commandId: string; outcome: PromiseSettledResult<Awaited<ReturnType<typeof log.append>>> };
    const calls: Call[] = [];
    const writer = async (w: number) => {
      for (let c = 0; c < 5; c += 1) {
        const commandId = newCommandId();
        const events = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => ({
          type: 'TaskRenamed' as const,
          data: { name: `w${w}c${c}e${k}` },
        }));
        // The first call and its retries overlap (a lost response retried at once), and one more
        // retry comes after everyone else may have appended.
        const attempts = await Promise.allSettled(
          Array.from({ length: 3 }, async (_, r) => {
            await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5 * r)));
            return log.append({ aggregate, commandId, events });
          }),
        );
        for (const outcome of attempts) calls.push({ commandId, outcome });
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 10)));
        const late = await Promise.allSettled([log.append({ aggregate, commandId, events })]);
        calls.push({ commandId, outcome: late[0]! });
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));

    const stored = [];
    for await (const envelope of log.readEnvelopes(aggregate)) stored.push(envelope);
    expect(stored.map((event) => event.aggregateversion)).toEqual(stored.map((_, index) => index + 1));
    const byCommand = new Map<string, number[]>();
    for (const event of stored)
      byCommand.set(event.commandid, [...(byCommand.get(event.commandid) ?? []), event.aggregateversion]);
    let storedCommands = 0;
    let busy = 0;
    for (const [commandId, versions] of byCommand) {
      // Stored once: its versions are contiguous.
      expect(versions).toEqual(versions.map((_, index) => versions[0]! + index));
      const ofCommand = calls.filter((call) => call.commandId === commandId);
      if (ofCommand.length === 0) continue;
      storedCommands += 1;
      const ids = stored.filter((event) => event.commandid === commandId).map((event) => event.id);
      for (const call of ofCommand) {
        // Every call of a stored command answers its first outcome; none tells to use a new id.
        // A stored command is never answered with an error telling to decide again or to use a
        // new id; under this contention a call may only run out of attempts (retry, same id).
        if (call.outcome.status === 'rejected') {
          expect(call.outcome.reason).toBeInstanceOf(EventLogBusyError);
          busy += 1;
        }
        if (call.outcome.status === 'fulfilled')
          expect(call.outcome.value.events.map((e) => e.id)).toEqual(ids);
      }
      expect(
        ofCommand.filter((call) => call.outcome.status === 'fulfilled' && !call.outcome.value.duplicate),
      ).toHaveLength(1);
    }
    for (const call of calls) {
      if (byCommand.has(call.commandId)) continue;
      expect(call.outcome.status).toBe('rejected');
      if (call.outcome.status === 'rejected')
        expect(
          [CommandIdNotIncreasingError, ConcurrencyError].some(
            (type) => call.outcome.status === 'rejected' && call.outcome.reason instanceof type,
          ),
        ).toBe(true);
    }
    console.log(`stored commands: ${storedCommands}, calls: ${calls.length}, busy answers: ${busy}`);
    expect(storedCommands).toBeGreaterThan(0);
  });

  test("stores payloads nested to DynamoDB's limit and refuses one level more with a typed error", async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'deep' };
    const deep = (levels: number): unknown => (levels === 0 ? 'leaf' : { n: deep(levels - 1) });
    const list = (levels: number): unknown => (levels === 0 ? 1 : [list(levels - 1)]);
    const result = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [
        { type: 'NoteAdded', data: { text: 'maps', extra: deep(MAX_PAYLOAD_DEPTH - 1) } },
        { type: 'NoteAdded', data: { text: 'lists', extra: list(MAX_PAYLOAD_DEPTH - 1) } },
      ],
    });
    const back = [];
    for await (const envelope of log.readEnvelopes(aggregate)) back.push(envelope.data);
    expect(back).toEqual(result.events.map((event) => event.data));
    const error = await log
      .append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: 'too deep', extra: deep(MAX_PAYLOAD_DEPTH) } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect(await log.head(aggregate)).toMatchObject({ version: 2 });
  });

  test('a command just inside the counted transaction limit is stored; one just over is refused before DynamoDB sees it', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'big-command' };
    await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 's' } }],
    });
    const limit = MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES;
    const count = 11;
    // Fill each item to its share of the limit, less the item's other attributes (about 700 bytes).
    const fitting = 'x'.repeat(Math.floor(limit / count) - 1_200);
    const stored = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: Array.from({ length: count }, () => ({ type: 'NoteAdded' as const, data: { text: fitting } })),
    });
    expect(stored.version).toBe(1 + count);
    const over = 'x'.repeat(Math.floor(limit / count));
    const error = await log
      .append({
        aggregate,
        commandId: newCommandId(),
        events: Array.from({ length: count }, () => ({ type: 'NoteAdded' as const, data: { text: over } })),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(await log.head(aggregate)).toMatchObject({ version: 1 + count });
  });

  test('ids that differ only in a lone surrogate never share a key: both are refused', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    for (const id of ['user-\uD83D', 'user-\uD83E']) {
      const error = await log
        .append({
          aggregate: { type: 'Task', id },
          commandId: newCommandId(),
          events: [{ type: 'TaskCreated', data: { name: 'a' } }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendValidationError);
    }
    expect(await countItems(aws, eventLogTable.tableName, 'Task#user-\uFFFD')).toBe(0);
  });

  test('map keys DynamoDB returns in another order (seed 623797 of the property below) read back as the same value', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Note', id: 'key-order' };
    const extra = [{ '\u{14906}': null, '\u0000': [] }];
    const result = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: 't', extra } }],
    });
    const back = [];
    for await (const envelope of log.readEnvelopes(aggregate)) back.push(envelope.data);
    expect(back).toEqual([{ text: 't', extra }]);
    expect(sameValue(result.events[0]!.data, back[0])).toBe(true);
    expect(canonicalJson(back[0])).toBe(canonicalJson(result.events[0]!.data));
  });

  test('a map with a "constructor" key the marshaller reads as a class (seed 338117 of the property below) is refused typed, nothing stored', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Note', id: 'constructor-key' };
    const refused = await log
      .append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: 't', extra: [{ constructor: {} }] } }],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppendValidationError);
    expect(await log.head(aggregate)).toBeUndefined();
  });

  test('any JS value: stored exactly as given and as append returned it, or refused with a typed error (property)', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const seed = Number(process.env.TIDEMARK_SEED ?? Date.now() % 1_000_000);
    console.log(`storable-values property seed: ${seed}`);
    let run = 0;
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything({
            key: fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('', '__proto__', 'constructor')),
            maxDepth: 4,
            stringUnit: 'binary',
            withBigInt: true,
            withBoxedValues: true,
            withDate: true,
            withMap: true,
            withNullPrototype: true,
            withObjectString: true,
            withSet: true,
            withSparseArray: true,
            withTypedArray: true,
          }),
          // Values that look storable, with one hazard somewhere inside.
          fc.letrec<{ value: unknown }>((tie) => ({
            value: fc.oneof(
              { depthSize: 'small' },
              {
                arbitrary: fc.constantFrom<unknown>(
                  -0,
                  0,
                  1e-7,
                  2 ** 53,
                  '',
                  'a\uD800',
                  '\uDC00',
                  null,
                  true,
                ),
                weight: 4,
              },
              fc.double(),
              fc.string(),
              fc.sparseArray(tie('value'), { maxLength: 4 }),
              fc.array(tie('value'), { maxLength: 3 }),
              fc
                .array(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('', '__proto__')), tie('value')), {
                  maxLength: 3,
                })
                .map((entries) => {
                  const object: Record<string, unknown> = {};
                  for (const [key, value] of entries)
                    Object.defineProperty(object, key, {
                      value,
                      enumerable: true,
                      writable: true,
                      configurable: true,
                    });
                  return object;
                }),
            ),
          })).value,
        ),
        async (extra) => {
          run += 1;
          const aggregate = { type: 'Note', id: `any-${run}` };
          let result: Awaited<ReturnType<typeof log.append>>;
          try {
            result = await log.append({
              aggregate,
              commandId: newCommandId(),
              events: [{ type: 'NoteAdded', data: { text: 't', extra } }],
            });
          } catch (error) {
            // Refused before writing, with a typed error, and nothing stored.
            expect(error).toBeInstanceOf(AppendValidationError);
            expect(await log.head(aggregate)).toBeUndefined();
            return;
          }
          stored += 1;
          const back = [];
          for await (const envelope of log.readEnvelopes(aggregate)) back.push(envelope.data);
          expect(back).toHaveLength(1);
          // The log gives back what was given, value for value (-0, holes, keys), and append returned it.
          expect(sameValue({ text: 't', extra }, back[0])).toBe(true);
          expect(sameValue(result.events[0]!.data, back[0])).toBe(true);
          // As JSON, too — with keys in one order: a DynamoDB map keeps no key order (nor does a JSON
          // object), so readers get the keys in the order DynamoDB gives them.
          expect(canonicalJson(back[0])).toBe(canonicalJson(result.events[0]!.data));
        },
      ),
      { seed, numRuns: 200 },
    );
    console.log(`stored ${stored} of ${run}`);
    expect(stored).toBeGreaterThan(0);
  });
});

/** JSON text with every object's keys sorted (by UTF-16 code units, as JavaScript sorts strings). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((key) => [key, (inner as Record<string, unknown>)[key]]),
        )
      : inner,
  );
}

/**
 * Deep equality of what was given and what was stored that tells -0 from 0, holes from undefined,
 * and own keys exactly; an object property of `given` that is undefined counts as absent (JSON and
 * the log drop it).
 */
function sameValue(given: unknown, stored: unknown): boolean {
  if (typeof given !== 'object' || given === null || typeof stored !== 'object' || stored === null)
    return Object.is(given, stored);
  // A null-prototype object is a plain map like any other: only arrays and plain objects compare equal.
  if (Array.isArray(given) !== Array.isArray(stored) || !isPlain(given) || !isPlain(stored)) return false;
  const record = given as Record<PropertyKey, unknown>;
  const keys = Reflect.ownKeys(given).filter((key) => Array.isArray(given) || record[key] !== undefined);
  if (keys.length !== Reflect.ownKeys(stored).length) return false;
  return keys.every(
    (key) =>
      Object.hasOwn(stored, key) && sameValue(record[key], (stored as Record<PropertyKey, unknown>)[key]),
  );
}

const isPlain = (value: object) =>
  Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value));
