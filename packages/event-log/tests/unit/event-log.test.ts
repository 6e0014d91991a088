import { QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  createEnvelope,
  eventLogItemFromEnvelope,
  InvalidAggregateError,
  InvalidCommandIdError,
  newCommandId,
  newCommandIdAfter,
  RecordTooLargeError,
  UnknownEventTypeError,
} from '@tidemark/core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  ConfigurationError,
  CorruptEventLogItemError,
  createEventLog,
  EVENT_LOG_DEFAULTS,
  EventLogBusyError,
  MAX_EVENTS_PER_COMMAND,
  MAX_TRANSACTION_BYTES,
  TooManyEventsError,
  TRANSACTION_SIZE_MARGIN_BYTES,
} from '../../src/index';
import { awsError, catalog, FakeDynamoDb } from '../helpers/fakes';

const task = { type: 'Task', id: 't-1' } as const;
const PK = 'Task#t-1';

describe('createEventLog', () => {
  let dynamodb: FakeDynamoDb;
  let log: ReturnType<typeof makeLog>;
  const makeLog = (fake: FakeDynamoDb) =>
    createEventLog({
      tableName: 'events',
      dynamodb: fake as never,
      catalog,
      source: '/tests',
      retry: { minTimeoutMs: 0, maxTimeoutMs: 0 },
    });

  beforeEach(() => {
    dynamodb = new FakeDynamoDb();
    log = makeLog(dynamodb);
  });
  /** Appends the task's first event (a TaskCreated) under a new command id. */
  const appendCreated = () =>
    log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
  /** Another writer stores `version` with `commandId` just before the next transaction: the append loses the race. */
  const loseRaceTo = (version: number, commandId: string) => {
    dynamodb.beforeTransact = () => {
      dynamodb.beforeTransact = undefined;
      dynamodb.put(itemAt(version, commandId));
    };
  };

  it('appends the first events at versions 1..n in one transaction, without a version check', async () => {
    const commandId = newCommandId();
    const result = await log.append({
      aggregate: task,
      commandId,
      expectedVersion: 0,
      events: [
        { type: 'TaskCreated', data: { name: 'a' } },
        { type: 'TaskRenamed', data: { name: 'b' } },
      ],
      metadata: { correlationId: 'req-1' },
    });
    expect(result).toMatchObject({ aggregate: task, commandId, version: 2, duplicate: false });
    expect(result.events.map((e) => [e.aggregateversion, e.type, e.commandid])).toEqual([
      [1, 'TaskCreated', commandId],
      [2, 'TaskRenamed', commandId],
    ]);
    expect(result.events[0]!.data).toEqual({ name: 'a', tags: [] }); // the schema's output is stored
    expect(result.events[0]!.correlationid).toBe('req-1');
    expect(dynamodb.versions(PK)).toEqual([1, 2]);
    expect(dynamodb.get(PK, 1)!.payload).toEqual({ M: { name: { S: 'a' }, tags: { L: [] } } });
    expect(dynamodb.calls).toEqual(['Query', 'TransactWriteItems']);
  });

  it('appends after the head when command ids increase', async () => {
    await appendCreated();
    const result = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      expectedVersion: 1,
      events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
    });
    expect(result.version).toBe(2);
    expect(await log.head(task)).toEqual({ version: 2, lastCommandId: result.commandId });
  });

  it('refuses an unexpected version with a ConcurrencyError and writes nothing', async () => {
    const first = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        expectedVersion: 0,
        events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      retryable: true,
      httpStatus: 409,
      context: { aggregateKey: PK, expectedVersion: 0, actualVersion: 1, lastCommandId: first.commandId },
    });
    expect(dynamodb.versions(PK)).toEqual([1]);
  });

  it('tells a writer that lost the race with a stale expected version to reload (ConcurrencyError), even when its command id is now below the winner’s', async () => {
    await appendCreated();
    // Two writers decided on version 1 and made their ids; the later id won.
    const loserId = newCommandId();
    const winner = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      expectedVersion: 1,
      events: [{ type: 'TaskRenamed', data: { name: 'winner' } }],
    });
    const error = await log
      .append({
        aggregate: task,
        commandId: loserId,
        expectedVersion: 1,
        events: [{ type: 'TaskRenamed', data: { name: 'loser' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      context: { expectedVersion: 1, actualVersion: 2, lastCommandId: winner.commandId },
    });
    expect(dynamodb.versions(PK)).toEqual([1, 2]);
  });

  it('returns the first outcome for a retry of the last command and appends nothing', async () => {
    const commandId = newCommandId();
    const input = {
      aggregate: task,
      commandId,
      expectedVersion: 0,
      events: [
        { type: 'TaskCreated' as const, data: { name: 'a' } },
        { type: 'TaskRenamed' as const, data: { name: 'b' } },
      ],
    };
    const first = await log.append(input);
    const retry = await log.append(input); // expectedVersion 0 is stale now: the retry must still succeed
    expect(retry).toEqual({ ...first, duplicate: true });
    expect(dynamodb.versions(PK)).toEqual([1, 2]);
  });

  it('accepts the command id in lower case and stores it canonical', async () => {
    const commandId = newCommandId();
    const result = await log.append({
      aggregate: task,
      commandId: commandId.toLowerCase(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    expect(result.commandId).toBe(commandId);
  });

  it('finds an older retried command by binary search and returns its first outcome', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const commandId = newCommandId();
      ids.push(commandId);
      await log.append({
        aggregate: task,
        commandId,
        events: [
          { type: i === 0 ? 'TaskCreated' : 'TaskRenamed', data: { name: `n${i}` } },
          { type: 'TaskRenamed', data: { name: `m${i}` } },
        ],
      });
    }
    dynamodb.calls.length = 0;
    const retry = await log.append({
      aggregate: task,
      commandId: ids[6]!,
      events: [{ type: 'TaskRenamed', data: { name: 'x' } }],
    });
    expect(retry.duplicate).toBe(true);
    expect(retry.events.map((e) => e.aggregateversion)).toEqual([13, 14]);
    expect(retry.events.map((e) => e.data.name)).toEqual(['n6', 'm6']);
    expect(retry.version).toBe(14);
    expect(dynamodb.versions(PK)).toHaveLength(40);
    const gets = dynamodb.calls.filter((call) => call === 'GetItem').length;
    expect(gets).toBeLessThanOrEqual(Math.ceil(Math.log2(40)) + 1);
    expect(dynamodb.calls).not.toContain('TransactWriteItems');
  });

  it('refuses a stale command id that is not in the log, naming the last one', async () => {
    const stale = newCommandId();
    const first = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
    });
    const error = await log
      .append({ aggregate: task, commandId: stale, events: [{ type: 'TaskRenamed', data: { name: 'c' } }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandIdNotIncreasingError);
    expect((error as CommandIdNotIncreasingError).message).toContain('newCommandIdAfter');
    expect((error as CommandIdNotIncreasingError).context).toMatchObject({ commandId: stale, version: 2 });
    expect(stale < first.commandId).toBe(true);
    expect(dynamodb.versions(PK)).toEqual([1, 2]);
    // The fix the message names works.
    const head = await log.head(task);
    const next = await log.append({
      aggregate: task,
      commandId: newCommandIdAfter(head!.lastCommandId),
      events: [{ type: 'TaskRenamed', data: { name: 'c' } }],
    });
    expect(next.version).toBe(3);
  });

  it('turns a lost race into a ConcurrencyError carrying the winner', async () => {
    await appendCreated();
    const mine = newCommandId();
    const winner = newCommandIdAfter(mine);
    loseRaceTo(2, winner);
    const error = await log
      .append({
        aggregate: task,
        commandId: mine,
        expectedVersion: 1,
        events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).context).toMatchObject({ actualVersion: 2, lastCommandId: winner });
    expect(dynamodb.get(PK, 2)!.commandId!.S).toBe(winner);
  });

  it('without an expected version, a lost race is retried after the winner while the command id may still go after it', async () => {
    await appendCreated();
    const winner = newCommandId();
    const mine = newCommandIdAfter(winner);
    loseRaceTo(2, winner);
    const result = await log.append({
      aggregate: task,
      commandId: mine,
      events: [{ type: 'TaskRenamed', data: { name: 'b' } }],
    });
    expect(result).toMatchObject({ version: 3, duplicate: false });
    expect(dynamodb.get(PK, 3)!.commandId!.S).toBe(mine);
  });

  it('without an expected version, a lost race to a greater command id is a CommandIdNotIncreasingError (nothing stored)', async () => {
    await appendCreated();
    const mine = newCommandId();
    const winner = newCommandIdAfter(mine);
    loseRaceTo(2, winner);
    const error = await log
      .append({ aggregate: task, commandId: mine, events: [{ type: 'TaskRenamed', data: { name: 'b' } }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandIdNotIncreasingError);
    expect(dynamodb.versions(PK)).toEqual([1, 2]);
  });

  it('answers a duplicate when the winner of the race was the same command (a concurrent retry)', async () => {
    const commandId = newCommandId();
    loseRaceTo(1, commandId);
    const result = await log.append({
      aggregate: task,
      commandId,
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    expect(result.duplicate).toBe(true);
    expect(result.events.map((e) => e.aggregateversion)).toEqual([1]);
    expect(dynamodb.versions(PK)).toEqual([1]);
  });

  it('retries transient cancellations (transaction conflicts) and then succeeds', async () => {
    dynamodb.refuseTransact = (attempt) => (attempt <= 2 ? ['TransactionConflict'] : undefined);
    const result = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    expect(result.version).toBe(1);
    expect(dynamodb.transactAttempts).toBe(3);
  });

  it('gives up on persistent throttling with a retryable EventLogBusyError and writes nothing', async () => {
    dynamodb.refuseTransact = () => ['ThrottlingError'];
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'TaskCreated', data: { name: 'a' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventLogBusyError);
    expect(error).toMatchObject({
      retryable: true,
      context: { attempts: 4, reasons: ['ThrottlingError'], outcomeUnknown: false },
    });
    expect((error as Error).message).toContain('wrote nothing');
    expect(dynamodb.versions(PK)).toEqual([]);
  });

  it('does not claim nothing was written when the last attempt may have committed (InternalServerError)', async () => {
    // DynamoDB may commit a transaction and still answer 500: the outcome is unknown, and a caller
    // told "nothing was written" would retry with a new command id and append the events twice.
    const send = dynamodb.send.bind(dynamodb);
    dynamodb.send = async (command: unknown) => {
      const output = await send(command);
      if (command instanceof TransactWriteItemsCommand) throw awsError('InternalServerError');
      return output;
    };
    const once = createEventLog({
      tableName: 'events',
      dynamodb: dynamodb as never,
      catalog,
      source: '/tests',
      retry: { retries: 0 },
    });
    const input = {
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated' as const, data: { name: 'a' } }],
    };
    const error = await once.append(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventLogBusyError);
    expect(dynamodb.versions(PK)).toEqual([1]); // it was written
    expect(error).toMatchObject({ retryable: true, context: { outcomeUnknown: true } });
    expect((error as Error).message).not.toContain('wrote nothing');
    expect((error as Error).message).toContain('same command id');
    dynamodb.send = send;
    const retry = await once.append(input);
    expect(retry).toMatchObject({ duplicate: true, version: 1 });
    expect(dynamodb.versions(PK)).toEqual([1]);
  });

  it(`accepts ${MAX_EVENTS_PER_COMMAND} events in one command and refuses ${MAX_EVENTS_PER_COMMAND + 1}`, async () => {
    const events = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'TaskRenamed' as const, data: { name: `n${i}` } }));
    await appendCreated();
    const ok = await log.append({ aggregate: task, commandId: newCommandId(), events: events(99) });
    expect(ok.version).toBe(100);
    const error = await log
      .append({ aggregate: task, commandId: newCommandId(), events: events(100) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyEventsError);
    expect(error).toMatchObject({ context: { count: 100, limit: 99 } });
    expect(dynamodb.versions(PK)).toHaveLength(100);
  });

  it('refuses an event whose envelope would not fit a Kinesis record, before writing anything', async () => {
    // Control characters are escaped 6-fold in JSON: a 200 KB item becomes a 1.2 MB envelope.
    const text = '\u0001'.repeat(200_000);
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [
          { type: 'TaskCreated', data: { name: 'a' } },
          { type: 'NoteAdded', data: { text } },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).limit).toBe(1_048_576);
    expect(dynamodb.calls).not.toContain('TransactWriteItems');
  });

  it('refuses an event over the DynamoDB item limit, before writing anything', async () => {
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: 'x'.repeat(410_000) } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).limit).toBe(400 * 1024);
    expect(dynamodb.versions(PK)).toEqual([]);
  });

  it('refuses a command whose events together exceed the 4 MB transaction limit', async () => {
    const events = Array.from({ length: 12 }, () => ({
      type: 'NoteAdded' as const,
      data: { text: 'x'.repeat(380_000) },
    }));
    const error = await log
      .append({ aggregate: task, commandId: newCommandId(), events })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).limit).toBe(MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES);
    expect(dynamodb.versions(PK)).toEqual([]);
  });

  it('refuses invalid payloads listing every issue with its path', async () => {
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [
          { type: 'TaskCreated', data: { name: '' } },
          { type: 'NoteAdded', data: { text: 'ok', extra: new Set([1]) } },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect((error as AppendValidationError).issues.map((issue) => issue.path)).toEqual([
      'events[0].data.name',
      'events[1].data.extra',
    ]);
    expect(dynamodb.calls).toEqual([]);
  });

  it('refuses a payload whose schema output cannot be stored (a transform to Date)', async () => {
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'DateStamped', data: { at: '2026-01-01' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect((error as AppendValidationError).issues[0]!.path).toBe('events[0].data.at');
  });

  it('refuses an event type of another aggregate type', async () => {
    const error = await log
      .append({
        aggregate: { type: 'Project', id: 'p' },
        commandId: newCommandId(),
        events: [{ type: 'TaskCreated', data: { name: 'a' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect((error as AppendValidationError).message).toContain('belongs to aggregate type Task');
  });

  it('refuses malformed input with typed errors', async () => {
    const event = { type: 'TaskCreated' as const, data: { name: 'a' } };
    await expect(log.append({ aggregate: task, commandId: 'nope', events: [event] })).rejects.toBeInstanceOf(
      InvalidCommandIdError,
    );
    await expect(
      log.append({ aggregate: { type: 'Ta#sk', id: '1' }, commandId: newCommandId(), events: [event] }),
    ).rejects.toBeInstanceOf(InvalidAggregateError);
    await expect(
      log.append({ aggregate: task, commandId: newCommandId(), events: [] }),
    ).rejects.toBeInstanceOf(AppendValidationError);
    await expect(
      log.append({ aggregate: task, commandId: newCommandId(), expectedVersion: -1, events: [event] }),
    ).rejects.toBeInstanceOf(AppendValidationError);
    await expect(
      log.append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'Nope', data: {} } as never],
      }),
    ).rejects.toBeInstanceOf(UnknownEventTypeError);
    const extra = log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [event],
      extra: 1,
    } as never);
    await expect(extra).rejects.toBeInstanceOf(AppendValidationError);
    await expect(extra).rejects.toThrow('extra: unknown key; expected one of aggregate, commandId, events');
    expect(dynamodb.calls).toEqual([]);
  });

  it('reads an aggregate back in version order, page by page, parsed by the catalog', async () => {
    await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'n0' } }],
    });
    for (let i = 1; i < 25; i += 1) {
      await log.append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'TaskRenamed', data: { name: `n${i}` } }],
      });
    }
    dynamodb.calls.length = 0;
    const events = await log.readAll(task, { pageSize: 10 });
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(events[0]!.type).toBe('TaskCreated');
    expect(dynamodb.calls.filter((call) => call === 'Query')).toHaveLength(3);

    const slice: number[] = [];
    for await (const envelope of log.readEnvelopes(task, { fromVersion: 5, toVersion: 7, pageSize: 2 })) {
      slice.push(envelope.aggregateversion);
    }
    expect(slice).toEqual([5, 6, 7]);
    expect(await log.readAll({ type: 'Task', id: 'none' })).toEqual([]);
    expect(await log.head({ type: 'Task', id: 'none' })).toBeUndefined();
    for (const [options, option] of [
      [{ fromVersion: 5, toVersion: 4 }, 'toVersion'],
      [{ pagesize: 4 }, 'pagesize'],
      [{ pageSize: 10_001 }, 'pageSize'],
      [{ fromVersion: 0 }, 'fromVersion'],
      [{ fromVersion: 1.5 }, 'fromVersion'],
    ] as const) {
      expect(() => log.readEnvelopes(task, options as never)).toThrow(ConfigurationError);
      expect(() => log.read(task, options as never)).toThrow(
        expect.objectContaining({ factory: 'read', option }),
      );
    }
    expect(() => log.read(task, { pagesize: 4 } as never)).toThrow('read: unknown option "pagesize"');
  });

  it('reports an item that is not an event as corrupt instead of skipping it', async () => {
    dynamodb.put(marshall({ pk: PK, sk: 1, something: 'else' }));
    await expect(log.readAll(task)).rejects.toBeInstanceOf(CorruptEventLogItemError);
  });

  it('rejects unknown options and a missing source at creation', () => {
    const base = { tableName: 'events', catalog, source: '/x' };
    for (const [options, option] of [
      [{ ...base, tablename: 'x' }, 'tablename'],
      [{ ...base, source: '' }, 'source'],
      [{ ...base, source: '/\ud800' }, 'source'],
      [{ ...base, tableName: 'ab' }, 'tableName'],
      [{ ...base, catalog: {} }, 'catalog'],
      [{ ...base, retry: { retries: 101 } }, 'retry.retries'],
      [{ ...base, retry: { retries: 2, minTimeout: 5 } }, 'retry.minTimeout'],
      [{ ...base, retry: { maxTimeoutMs: -1 } }, 'retry.maxTimeoutMs'],
      [{ ...base, clock: Date.now() }, 'clock'],
      [{ ...base, dynamodb: { regoin: 'eu-west-1' } }, 'dynamodb.regoin'],
    ] as const) {
      expect(() => createEventLog(options as never)).toThrow(ConfigurationError);
      expect(() => createEventLog(options as never)).toThrow(
        expect.objectContaining({ factory: 'createEventLog', option, code: 'CONFIGURATION_INVALID' }),
      );
    }
    expect(() => createEventLog({ ...base, source: '' })).toThrow(/^createEventLog: source: /);
    expect(Object.isFrozen(EVENT_LOG_DEFAULTS) && Object.isFrozen(EVENT_LOG_DEFAULTS.retry)).toBe(true);
  });

  it('refuses an unknown key in an append input as a validation issue at that key', async () => {
    const rejection = log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'x' } }],
      expectedVerison: 0,
    } as never);
    await expect(rejection).rejects.toBeInstanceOf(AppendValidationError);
    await expect(rejection).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'expectedVerison', code: 'unrecognized_keys' })],
    });
    await expect(log.append(null as never)).rejects.toBeInstanceOf(AppendValidationError);
  });
  it('a retried command id returns its first outcome when a newer command lands between its reads', async () => {
    const commandId = newCommandId();
    const first = await log.append({
      aggregate: task,
      commandId,
      events: [
        { type: 'TaskCreated', data: { name: 'a' } },
        { type: 'TaskRenamed', data: { name: 'b' } },
      ],
    });
    const other = makeLog(dynamodb);
    const send = dynamodb.send.bind(dynamodb);
    let armed = true;
    // Right after the retry reads the head, another caller appends a newer command.
    dynamodb.send = async (command: unknown) => {
      const output = await send(command);
      if (armed && command instanceof QueryCommand) {
        armed = false;
        await other.append({
          aggregate: task,
          commandId: newCommandIdAfter(commandId),
          events: [{ type: 'TaskRenamed', data: { name: 'c' } }],
        });
      }
      return output;
    };
    const retry = await log.append({
      aggregate: task,
      commandId,
      events: [
        { type: 'TaskCreated', data: { name: 'a' } },
        { type: 'TaskRenamed', data: { name: 'b' } },
      ],
    });
    expect(armed).toBe(false);
    expect(retry).toEqual({ ...first, duplicate: true });
    expect(dynamodb.versions(PK)).toEqual([1, 2, 3]);
  });

  it('stores the command range on every item', async () => {
    await appendCreated();
    await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [
        { type: 'TaskRenamed', data: { name: 'b' } },
        { type: 'TaskRenamed', data: { name: 'c' } },
      ],
    });
    const ranges = [1, 2, 3].map((sk) => {
      const item = dynamodb.get(PK, sk)!;
      return [Number(item.commandFirstVersion!.N), Number(item.commandLastVersion!.N)];
    });
    expect(ranges).toEqual([
      [1, 1],
      [2, 3],
      [2, 3],
    ]);
  });

  it.each([
    ['a lone high surrogate', 'id-\uD83D'],
    ['a lone low surrogate', '\uDE00-id'],
    ['a reversed pair', 'id\uDE00\uD83D'],
  ])('refuses an aggregate id with %s before writing (no two ids may share a key)', async (_name, id) => {
    const error = await log
      .append({
        aggregate: { type: 'Task', id },
        commandId: newCommandId(),
        events: [{ type: 'TaskCreated', data: { name: 'a' } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect((error as AppendValidationError).issues[0]!.path).toBe('aggregate.id');
    expect(dynamodb.calls).toEqual([]);
  });

  it('accepts an aggregate id with a well-formed surrogate pair', async () => {
    const result = await log.append({
      aggregate: { type: 'Task', id: 'id-\uD83D\uDE00' },
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    expect(result.version).toBe(1);
  });

  it('refuses metadata with a lone surrogate', async () => {
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'TaskCreated', data: { name: 'a' } }],
        metadata: { correlationId: 'c-\uD800' },
      })
      .catch((e: unknown) => e);
    expect((error as AppendValidationError).issues[0]!.path).toBe('metadata.correlationId');
  });

  const deep = (levels: number): unknown => (levels === 0 ? 'leaf' : { n: deep(levels - 1) });
  const sparse = [1, 2, 3];
  delete sparse[1];
  const withProto = JSON.parse('{"__proto__": {"x": 1}}');
  const withSymbol = { [Symbol('s')]: 1 };
  const arrayWithProperty = Object.assign([1], { label: 'x' });
  const withGetter = Object.defineProperty({}, 'g', { get: () => 1, enumerable: true });
  it.each([
    ['a sparse array', sparse, 'events[0].data.extra[1]'],
    ['an empty map key', { '': 1 }, 'events[0].data.extra[""]'],
    ['an own __proto__ key', withProto, 'events[0].data.extra.__proto__'],
    ['a symbol key', withSymbol, 'events[0].data.extra'],
    ['an array with a named property', arrayWithProperty, 'events[0].data.extra'],
    ['an accessor property', withGetter, 'events[0].data.extra.g'],
    ['-0', -0, 'events[0].data.extra'],
    ['nesting deeper than DynamoDB allows', deep(31), 'events[0].data.extra'],
  ])('refuses a payload with %s with a typed error before writing', async (_name, extra, path) => {
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: { text: 't', extra } }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendValidationError);
    expect((error as AppendValidationError).issues.map((issue) => issue.path)[0]).toContain(path);
    expect(dynamodb.calls).toEqual([]);
  });

  it('accepts nesting up to the limit and returns exactly what it stored', async () => {
    const result = await log.append({
      aggregate: task,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: 't', extra: deep(30) } }],
    });
    const stored = await log.readEnvelopes(task)[Symbol.asyncIterator]().next();
    expect(stored.value!.data).toEqual(result.events[0]!.data);
    expect(JSON.stringify(stored.value!.data)).toBe(JSON.stringify(result.events[0]!.data));
  });

  it('counts the whole transaction (items, the version check, expressions) against the limit', async () => {
    await appendCreated();
    // Just under the limit by the items' payload bytes alone, over it once everything is counted.
    const limit = MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES;
    const count = 11;
    const text = 'x'.repeat(Math.floor(limit / count) - 100);
    const error = await log
      .append({
        aggregate: task,
        commandId: newCommandId(),
        events: Array.from({ length: count }, () => ({ type: 'NoteAdded' as const, data: { text } })),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).size).toBeGreaterThan(limit);
    expect((error as RecordTooLargeError).size).toBeLessThan(limit + count * 400);
    expect(dynamodb.versions(PK)).toEqual([1]);
  });
});

function itemAt(version: number, commandId: string) {
  const envelope = createEnvelope({
    source: '/other-writer',
    type: version === 1 ? 'TaskCreated' : 'TaskRenamed',
    aggregate: task,
    version,
    commandId,
    data: { name: 'other' },
  });
  return marshall(eventLogItemFromEnvelope(envelope), { removeUndefinedValues: true });
}
