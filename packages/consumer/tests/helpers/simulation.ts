/**
 * A seeded, deterministic simulation of the consumer in production: the real engine against the
 * strict DynamoDB model (`@tidemark/testing/fakes`) with seeded throttling, server errors, lost
 * answers, unprocessed keys and transaction conflicts, driven by a model of Lambda's Kinesis event
 * source — batches per shard, redelivery from the reported sequence number, invocations killed at
 * any DynamoDB call or inside a handler, zombies that keep running after the kill, two shards of a
 * resharded stream carrying one aggregate at once, gap sweeps racing batches, clock jumps — over
 * input with corrupt, oversized, shuffled, duplicated, misrouted and forged records.
 *
 * `simulate(seed)` runs one world and returns what happened; `violations(report)` checks the
 * invariants. The same seed gives the same run.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  encodeEnvelope,
  encodeEnvelopeBatch,
  envelopePartitionKey,
  KINESIS_LIMITS,
} from '@tidemark/core';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import { vi } from 'vitest';
import { createConsumer } from '../../src/consumer';
import { consumerTableDescription } from '../../src/table-keys';
import type { BatchSummary, KinesisRecord, TransactionalHandlerContext } from '../../src/types';
import { TaskCreated, TaskRenamed, taskEnvelope, taskEvents } from './events';

/** The consumer's TaskRenamed after the producer's schema version 3 (same payload as version 2). */
const TaskRenamedV3 = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 3,
  aggregateType: 'Task',
  schema: TaskRenamed.schema,
  upcast: (data, from) => (from === 1 ? { ...(data as object), reason: 'unknown' } : data),
});

type HandledEvent = { aggregate: { id: string }; version: number };

const TABLE = 'consumer-state';
const EFFECTS = 'effects';
/** Further writes some handlers stage with each effect (so an aggregate's writes split). */
const EXTRAS = 'effect-extras';
const MAX_ATTEMPTS = 3;
const GAP_TIMEOUT_SECONDS = 60;

/** A seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Invocation {
  killed: boolean;
  kill: () => void;
}

/**
 * Which simulated invocation the running code belongs to. One storage for every world, never one
 * per world: on Node 20 and 22 an `AsyncLocalStorage` that has run stays registered with the
 * process until `disable()`, and every promise created afterwards copies the store of each one
 * registered, so a storage per world made each world slower than the one before (2,000 worlds in
 * one process took minutes instead of seconds). A world's code only ever sees its own invocations:
 * the store travels with the asynchronous context that one of its invocations started.
 */
const invocationScope = new AsyncLocalStorage<Invocation>();

interface StreamRecord {
  readonly record: KinesisRecord;
  /** The real event it carries (`id@version`), if any. */
  readonly event?: string;
}

/** What one simulated world did. */
export interface SimulationReport {
  readonly seed: number;
  /** Every real event, `id@version`. */
  readonly events: readonly string[];
  /** Effects in commit order (`id@version`). */
  readonly commits: readonly string[];
  /** Dead letters (reason, aggregate id, version, missing range). */
  readonly deadLetters: readonly {
    reason: string;
    id?: string;
    version?: number;
    missing?: { from: number; to: number };
  }[];
  /** Per record (shard:index), the most consecutive deliveries stuck at it that made an attempt. */
  readonly worstStuck: number;
  /** Kills injected. */
  readonly kills: number;
  /** Events whose staged writes were committed in parts, not in one transaction. */
  readonly splitEvents: readonly string[];
  /** Calls DynamoDB refused as invalid (an oversized or malformed write). */
  readonly invalidWrites: readonly string[];
  /** Shards that did not drain within the invocation budget. */
  readonly blockedShards: readonly number[];
  readonly invocations: number;
  /** Times a batch met an event it could not read yet (before the redeploy that reads it). */
  readonly unreadable: number;
  /** Packed records (several events in one Kinesis record) the stream carried. */
  readonly packedRecords: number;
  /** Entries of packed records that were not envelopes (each must be parked alone). */
  readonly badEntries: number;
}

/**
 * Runs one world. Timers are simulated (the consumer's backoff for unprocessed keys waits in
 * simulated time): a pump advances them 100 ms per turn of the event loop. The backoff's jitter
 * (`Math.random`) is drawn from the seed too: how long a shard's batch waits decides how the two
 * shards interleave, so with real jitter a seed did not always replay the same run.
 */
export async function simulate(seed: number): Promise<SimulationReport> {
  // Replaced, not spied on: a spy would record every call of every world.
  const realRandom = Math.random;
  Math.random = prng(seed ^ 0x1177e2);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  let pumping = true;
  const pump = (async () => {
    while (pumping) {
      await new Promise((resolve) => setImmediate(resolve));
      vi.advanceTimersByTime(100);
    }
  })();
  try {
    return await world(seed);
  } finally {
    pumping = false;
    await pump;
    vi.useRealTimers();
    Math.random = realRandom;
  }
}

async function world(seed: number): Promise<SimulationReport> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  let now = Date.UTC(2026, 10, 30, 12);
  const zombies: (() => void)[] = [];
  let killsLeft = Math.floor(random() * 4);
  let kills = 0;
  const commits: string[] = [];
  const invalidWrites: string[] = [];
  const splitEvents: string[] = [];
  // In some worlds handlers stage many writes per event, some of them large, so an aggregate's
  // writes in a batch pass 100 actions or 4 MB and are committed in several transactions. Drawn
  // from their own generator: the worlds without them are the ones the seeds always made.
  const writesRandom = prng(seed ^ 0x7e57ed);
  const wideWrites = writesRandom() < 0.4;
  const writesSalt = Math.floor(writesRandom() * 2 ** 30);
  // In some worlds handlers commit the aggregate's earlier events before they run (as a handler
  // that reads its own writes does), so commits also happen inside handlers.
  const commitEarlierRate = writesRandom() < 0.3 ? 0.5 : 0;
  /** The extra writes an event's handler stages (the same on every attempt). */
  const extrasOf = (event: string): { count: number; padBytes: number } => {
    if (!wideWrites) return { count: 0, padBytes: 0 };
    const draw = prng(
      writesSalt ^ [...event].reduce((hash, char) => Math.imul(hash, 31) + char.charCodeAt(0), 7),
    );
    const big = draw() < 0.25;
    return big
      ? { count: Math.floor(draw() * 21), padBytes: 150 * 1024 }
      : { count: Math.floor(draw() * 71), padBytes: 0 };
  };
  const pKillCall = 0.03;

  const tryKill = (): Promise<void> | undefined => {
    const invocation = invocationScope.getStore();
    if (!invocation || invocation.killed || killsLeft === 0 || !chance(pKillCall)) return undefined;
    killsLeft -= 1;
    kills += 1;
    invocation.killed = true;
    invocation.kill();
    // The call (or handler) hangs; the invocation is dead to Lambda but keeps running if released.
    return new Promise<void>((resolve) => zombies.push(resolve));
  };

  const faultRate = random() * 0.04;
  const db = new FakeDynamoDB({
    now: () => now,
    faults: {
      seed,
      maxFaults: 40,
      all: {
        throttleRate: faultRate,
        serverErrorRate: faultRate / 2,
        lostResponseRate: faultRate / 2,
        unprocessedRate: faultRate,
        transactionConflictRate: faultRate,
      },
    },
    onBeforeSend: () => tryKill(),
    onAfterSend: (outcome) => {
      const name = (outcome.error as Error | undefined)?.name;
      if (name === 'ValidationException')
        invalidWrites.push(`${outcome.operation}: ${(outcome.error as Error).message}`);
      if (outcome.operation === 'TransactWriteItems' && outcome.applied) {
        for (const item of (outcome.input.TransactItems as {
          Put?: { TableName: string; Item: Record<string, AttributeValue> };
        }[]) ?? []) {
          if (item.Put?.TableName === EFFECTS) {
            const effect = unmarshall(item.Put.Item) as { id: string; version: number };
            commits.push(`${effect.id}@${effect.version}`);
          }
        }
        // An event's writes all commit in one transaction, with its effect.
        const extras = new Map<string, number>();
        const effects = new Set<string>();
        for (const item of (outcome.input.TransactItems as {
          Put?: { TableName: string; Item: Record<string, AttributeValue> };
        }[]) ?? []) {
          if (item.Put?.TableName === EXTRAS) {
            const event = item.Put.Item.pk!.S!;
            extras.set(event, (extras.get(event) ?? 0) + 1);
          } else if (item.Put?.TableName === EFFECTS) {
            const effect = unmarshall(item.Put.Item) as { id: string; version: number };
            effects.add(`${effect.id}@${effect.version}`);
          }
        }
        for (const event of new Set([...effects, ...extras.keys()])) {
          if (!effects.has(event) || (extras.get(event) ?? 0) !== extrasOf(event).count)
            splitEvents.push(event);
        }
      }
    },
  });
  const { TableName: _t, ...description } = consumerTableDescription(TABLE);
  db.createTable({ ...description, TableName: TABLE });
  db.createTable({ ...description, TableName: EFFECTS });
  db.createTable({ ...description, TableName: EXTRAS });

  // A producer's breaking change, in some worlds: one TaskRenamed is written at schema version 3,
  // which the consumer cannot read until it is redeployed with a definition at that version (after
  // a random number of invocations, or once the shards drained). Drawn from its own generator, so
  // the worlds without it are the ones the seeds always made.
  const schemaRandom = prng(seed ^ 0x5c4e3a);
  const schemaChange = schemaRandom() < 0.2;
  const redeployAt = Math.floor(schemaRandom() * 40);
  const options = {
    name: 'sim',
    transactional: true as const,
    maxAttempts: MAX_ATTEMPTS,
    gapTimeoutSeconds: GAP_TIMEOUT_SECONDS,
    maxHeldPerAggregate: 4 + Math.floor(random() * 4),
    concurrency: 1 + Math.floor(random() * 4),
    checkpoints: { tableName: TABLE, dynamodb: db.client },
    logger: process.env.SIMULATION_LOG
      ? {
          debug() {},
          info() {},
          warn: (message: string, ...details: unknown[]) =>
            console.log('WARN', message, JSON.stringify(details)),
          error: (message: string, ...details: unknown[]) =>
            console.log('ERROR', message, JSON.stringify(details).slice(0, 300)),
        }
      : { debug() {}, info() {}, warn() {}, error() {} },
    clock: () => new Date(now),
    onBatchSummary: (summary: BatchSummary) => {
      unreadable += summary.unreadable;
      lastSummary = summary;
    },
    handlers: {
      TaskCreated: (event: HandledEvent, context: TransactionalHandlerContext) => handle(event, context),
      TaskRenamed: (event: HandledEvent, context: TransactionalHandlerContext) => handle(event, context),
    },
  };
  let unreadable = 0;
  let consumer = createConsumer({ ...options, events: taskEvents });
  let redeployed = false;
  const redeploy = () => {
    if (redeployed) return;
    redeployed = true;
    consumer = createConsumer({ ...options, events: defineCatalog([TaskCreated, TaskRenamedV3]) });
  };
  let lastSummary: BatchSummary | undefined;
  const handlerFailure = random() * 0.08;
  let poison: string | undefined;
  async function handle(event: HandledEvent, context: TransactionalHandlerContext): Promise<void> {
    if (`${event.aggregate.id}@${event.version}` === poison) {
      // This event kills its invocation every time (say, out of memory): the runtime dies for good.
      const invocation = invocationScope.getStore();
      if (invocation && !invocation.killed) {
        invocation.killed = true;
        invocation.kill();
      }
      await new Promise<never>(() => undefined);
    }
    const hang = tryKill();
    if (hang) await hang;
    if (commitEarlierRate > 0 && writesRandom() < commitEarlierRate)
      await context.transaction.commitEarlier();
    if (chance(handlerFailure)) throw new Error('handler failed (simulated)');
    context.transaction.put({
      TableName: EFFECTS,
      Item: marshall({
        pk: `${event.aggregate.id}`,
        sk: String(event.version),
        id: event.aggregate.id,
        version: event.version,
      }),
    });
    const extras = extrasOf(`${event.aggregate.id}@${event.version}`);
    for (let index = 0; index < extras.count; index += 1) {
      context.transaction.put({
        TableName: EXTRAS,
        Item: {
          pk: { S: `${event.aggregate.id}@${event.version}` },
          sk: { S: String(index) },
          ...(extras.padBytes > 0 ? { pad: { S: 'p'.repeat(extras.padBytes) } } : {}),
        },
      });
    }
  }

  // The stream: each aggregate's versions in order per publisher batch; one aggregate may span
  // both shards of a split (parent first, then child), so both shards carry it at once.
  const aggregates = 1 + Math.floor(random() * 4);
  const versions = 1 + Math.floor(random() * 6);
  const shards: StreamRecord[][] = [[], []];
  const events: string[] = [];
  const splitAt = Math.floor(random() * (versions + 1));
  let sequence = 1000n;
  const push = (shard: number, data: Uint8Array | string, partitionKey: string, event?: string) => {
    sequence += 1n + BigInt(Math.floor(random() * 5));
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    shards[shard]!.push({
      record: {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey,
          sequenceNumber: String(sequence),
          data: bytes.toString('base64'),
          approximateArrivalTimestamp: now / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-00000000000${shard}:${sequence}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/sim',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/sim',
      } as KinesisRecord,
      ...(event ? { event } : {}),
    });
  };
  const envelopes: EventEnvelope[] = [];
  for (let a = 0; a < aggregates; a += 1) {
    for (let v = 1; v <= versions; v += 1) {
      const big = chance(0.01);
      envelopes.push(
        big
          ? taskEnvelope(`t${a}`, v, {
              type: v === 1 ? 'TaskCreated' : 'TaskRenamed',
              data:
                v === 1 ? { name: 'x'.repeat(380 * 1024) } : { name: 'y'.repeat(380 * 1024), reason: 'typo' },
            })
          : taskEnvelope(`t${a}`, v),
      );
      events.push(`t${a}@${v}`);
    }
  }
  if (schemaChange && versions >= 2) {
    // One TaskRenamed (every copy of it) is written at schema version 3.
    const a = Math.floor(schemaRandom() * aggregates);
    const v = 2 + Math.floor(schemaRandom() * (versions - 1));
    envelopes[a * versions + v - 1] = taskEnvelope(`t${a}`, v, { schemaVersion: 3 });
  }
  // Interleave aggregates (each in version order), then route; shuffle a little (publisher batches).
  const queues = Array.from({ length: aggregates }, (_, a) =>
    envelopes.filter((e) => e.aggregateid === `t${a}`),
  );
  // In half the worlds the publisher packs runs of an aggregate's versions into one record (the
  // CloudEvents JSON batch format), some with an entry that is not an envelope in the middle. Drawn
  // from their own generator, so the worlds without packing are the ones the seeds always made.
  const packRandom = prng(seed ^ 0x9ac4ed);
  const packing = packRandom() < 0.5;
  let packedRecords = 0;
  let badEntries = 0;
  const shardOf = (envelope: EventEnvelope) =>
    aggregates === 1 || envelope.aggregateid === 't0'
      ? envelope.aggregateversion > splitAt
        ? 1
        : 0
      : envelope.aggregateid.charCodeAt(1) % 2;
  while (queues.some((queue) => queue.length > 0)) {
    const queue = pick(queues.filter((q) => q.length > 0));
    const envelope = queue.shift()!;
    const shard = shardOf(envelope);
    if (packing) {
      // A run of up to 5 consecutive versions on one shard, within 1 MiB with the partition key.
      const run = [envelope];
      const want = 1 + Math.floor(packRandom() * 5);
      const bytes = (list: readonly EventEnvelope[]) =>
        encodeEnvelopeBatch(list).byteLength + Buffer.byteLength(envelopePartitionKey(envelope));
      while (
        run.length < want &&
        queue.length > 0 &&
        shardOf(queue[0]!) === shard &&
        bytes([...run, queue[0]!]) <= KINESIS_LIMITS.maxRecordBytes
      ) {
        run.push(queue.shift()!);
      }
      if (run.length > 1) {
        const entries: unknown[] = [...run];
        if (packRandom() < 0.1) {
          // A bad entry among good ones: parked on its own, its neighbours applied.
          entries.splice(1 + Math.floor(packRandom() * (run.length - 1)), 0, { not: 'an envelope' });
          badEntries += 1;
        }
        packedRecords += 1;
        const data = new TextEncoder().encode(JSON.stringify(entries));
        const label = run.map((e) => `${e.aggregateid}@${e.aggregateversion}`).join('+');
        push(shard, data, envelopePartitionKey(envelope), label);
        if (chance(0.1)) push(pick([0, 1]), data, envelopePartitionKey(envelope)); // duplicate
        continue;
      }
    }
    push(
      shard,
      encodeEnvelope(envelope),
      envelopePartitionKey(envelope),
      `${envelope.aggregateid}@${envelope.aggregateversion}`,
    );
    if (chance(0.1)) push(pick([0, 1]), encodeEnvelope(envelope), envelopePartitionKey(envelope)); // duplicate
    if (chance(0.05)) push(pick([0, 1]), '\u0000garbage', 'Task#t0');
    if (chance(0.04)) push(pick([0, 1]), encodeEnvelope(envelope), 'Task#elsewhere');
    if (chance(0.03))
      push(
        pick([0, 1]),
        encodeEnvelope(taskEnvelope(envelope.aggregateid, 1_000_000 + Math.floor(random() * 1e9))),
        `Task#${envelope.aggregateid}`,
      );
  }
  if (chance(0.15)) poison = pick(events);

  const faultTotal = () => Object.values(db.faultStats).reduce((sum, count) => sum + count, 0);

  // The event source: one loop per shard, both at once.
  let invocations = 0;
  let worstStuck = 0;
  const blockedShards: number[] = [];
  const invoke = <T>(
    run: () => Promise<T>,
  ): Promise<{ killed: true } | { value: T } | { error: unknown }> => {
    let kill: () => void = () => undefined;
    const killed = new Promise<{ killed: true }>((resolve) => {
      kill = () => resolve({ killed: true });
    });
    const invocation: Invocation = { killed: false, kill };
    const running = invocationScope.run(invocation, run).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return Promise.race([running, killed]);
  };
  const maybeReleaseZombie = () => {
    if (zombies.length > 0 && chance(0.3)) zombies.splice(Math.floor(random() * zombies.length), 1)[0]!();
  };
  const tick = () => {
    now += chance(0.08) ? (GAP_TIMEOUT_SECONDS + 5) * 1000 : Math.floor(random() * 2000);
    maybeReleaseZombie();
  };
  const sweep = () =>
    invoke(() => consumer.gaps.expire({ getRemainingTimeInMillis: () => 60_000 })).then(() => undefined);

  const runShard = async (shardIndex: number) => {
    const records = shards[shardIndex]!;
    let position = 0;
    let stuckAt = -1;
    let stuck = 0;
    for (let round = 0; position < records.length; round += 1) {
      if (round > 400) {
        blockedShards.push(shardIndex);
        return;
      }
      const batchSize = 1 + Math.floor(random() * 5);
      const batch = records.slice(position, position + batchSize);
      const faultsBefore = faultTotal();
      lastSummary = undefined;
      invocations += 1;
      if (schemaChange && invocations > redeployAt) redeploy();
      const outcome = await invoke(() =>
        consumer({ Records: batch.map((entry) => entry.record) }, undefined as never),
      );
      let next = position;
      if ('value' in outcome) {
        const failed = outcome.value.batchItemFailures[0]?.itemIdentifier;
        next =
          failed === undefined
            ? position + batch.length
            : records.findIndex((entry) => entry.record.kinesis.sequenceNumber === failed);
      }
      // A delivery that made no progress and met no injected fault, nor waited for a sweep's
      // claim, made an attempt (or died).
      const faulted =
        faultTotal() > faultsBefore ||
        ('value' in outcome && ((lastSummary as BatchSummary | undefined)?.deferred ?? 0) > 0);
      if (next === position && !faulted) {
        stuck = stuckAt === position ? stuck + 1 : 1;
        stuckAt = position;
        worstStuck = Math.max(worstStuck, stuck);
      }
      if (process.env.SIMULATION_LOG) {
        console.log(
          `shard ${shardIndex} @${position} [${batch.map((entry) => entry.event ?? '-').join(' ')}] -> ${'killed' in outcome ? 'killed' : 'error' in outcome ? `error ${String(outcome.error)}` : `next ${next}`}${faultTotal() > faultsBefore ? ' (faults)' : ''}`,
        );
      }
      position = next;
      tick();
      if (chance(0.15)) void sweep();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all([runShard(0), runShard(1)]);

  // Let the world settle: zombies finish, the consumer is redeployed, time passes, sweeps run until
  // nothing is held. A held event that kills every sweep takes maxAttempts + 1 of them to be
  // parked, and injected faults and kills can fail others: up to 20 sweeps.
  while (zombies.length > 0) zombies.shift()!();
  if (schemaChange) redeploy();
  for (let round = 0; round < 20; round += 1) {
    now += (GAP_TIMEOUT_SECONDS + 5) * 1000;
    await new Promise((resolve) => setImmediate(resolve));
    const outcome = await invoke(() => consumer.gaps.expire({ getRemainingTimeInMillis: () => 60_000 }));
    while (zombies.length > 0) zombies.shift()!();
    const open = await consumer.gaps.list().then(
      (gaps) => gaps.length,
      () => 1, // the model refused the read (an injected fault): look again
    );
    if ('value' in outcome && outcome.value.open === 0 && open === 0) break;
  }

  const deadLetters: SimulationReport['deadLetters'][number][] = [];
  for (const item of db.dump(TABLE)) {
    const raw = unmarshall(item) as Record<string, unknown>;
    if (raw.kind !== 'dead-letter') continue;
    deadLetters.push({
      reason: raw.reason as string,
      ...(raw.aggregate ? { id: (raw.aggregate as { id: string }).id } : {}),
      ...(raw.version === undefined ? {} : { version: Number(raw.version) }),
      ...(raw.missing ? { missing: raw.missing as { from: number; to: number } } : {}),
    });
  }
  return {
    seed,
    events,
    commits,
    deadLetters,
    worstStuck,
    kills,
    splitEvents,
    invalidWrites,
    blockedShards,
    invocations,
    unreadable,
    packedRecords,
    badEntries,
  };
}

/** The invariants of one run; an empty list when they all hold. */
export function violations(report: SimulationReport): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const lastApplied = new Map<string, number>();
  for (const commit of report.commits) {
    if (seen.has(commit)) found.push(`applied twice: ${commit}`);
    seen.add(commit);
    const [id, version] = commit.split('@') as [string, string];
    const before = lastApplied.get(id) ?? 0;
    if (Number(version) < before) found.push(`out of order: ${commit} after version ${before}`);
    lastApplied.set(id, Math.max(before, Number(version)));
  }
  for (const event of report.events) {
    if (seen.has(event)) continue;
    const [id, version] = event.split('@') as [string, string];
    const v = Number(version);
    // Every event is delivered (the shards drain), so a gap report alone does not account for it:
    // arriving after its gap expired, it must be applied or parked under its own version.
    const parked = report.deadLetters.some(
      (letter) => letter.id === id && letter.version === v && letter.reason !== 'gap-expired',
    );
    if (!parked) found.push(`lost: ${event} neither applied nor parked`);
  }
  for (const letter of report.deadLetters) {
    if (letter.reason === 'handler-failed' && seen.has(`${letter.id}@${letter.version}`)) {
      found.push(`parked as failed but applied: ${letter.id}@${letter.version}`);
    }
  }
  // Deliveries stuck at one record without an injected fault: maxAttempts counted attempts, one
  // death that could not be pinned, one per random kill (it can land outside any handler), and up
  // to maxAttempts more when injected faults made a death's count or the isolation be lost.
  const bound = 2 * MAX_ATTEMPTS + 1 + report.kills;
  if (report.worstStuck > bound)
    found.push(`a record was delivered ${report.worstStuck} times without progress (bound ${bound})`);
  for (const write of report.invalidWrites) found.push(`DynamoDB refused a write: ${write.slice(0, 200)}`);
  for (const event of new Set(report.splitEvents)) found.push(`staged writes of ${event} committed in parts`);
  for (const shard of report.blockedShards) found.push(`shard ${shard} blocked`);
  // Each bad entry of a packed record is parked on its own (no aggregate: it is not an envelope).
  const invalidLetters = report.deadLetters.filter(
    (letter) => letter.reason === 'invalid-envelope' && letter.id === undefined,
  ).length;
  if (invalidLetters < report.badEntries)
    found.push(`${report.badEntries} bad entries of packed records but ${invalidLetters} parked`);
  return found;
}
