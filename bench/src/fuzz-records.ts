/**
 * Malformed Kinesis record payloads for fuzzing a consumer. Each case says what a correct consumer
 * must do with it: park it (dead letter with a reason) or skip it (an event type it does not handle).
 * Deterministic for a seed, so a failure can be replayed.
 */
import { createEnvelope, newCommandId } from '@tidemark/core';

/** What the consumer must do with a malformed record. */
export type FuzzExpectation = 'parked' | 'skipped';

/** The dead-letter reason a parked case must carry (the consumer's `ParkReason` for bad input). */
export type FuzzParkReason = 'undecodable' | 'invalid-envelope' | 'invalid-payload';

/** One malformed record. */
export interface FuzzCase {
  /** The kind of damage, e.g. `bad-base64`, `not-json`, `bad-ulid`. */
  readonly kind: string;
  /** The record's `kinesis.data` exactly as Lambda would deliver it (base64, unless the kind is bad base64). */
  readonly data: string;
  /** The record's partition key. */
  readonly partitionKey: string;
  /** What a correct consumer does with it. */
  readonly expect: FuzzExpectation;
  /** For a parked case: the reason the dead letter must give. */
  readonly reason?: FuzzParkReason;
}

/** A small fast deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

/** A valid envelope of `type` for the fuzzed aggregate, as a plain JSON object. */
function validEnvelope(type: string, aggregateId: string, version: number): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(
      createEnvelope({
        source: '/fuzz',
        type,
        aggregate: { type: 'Task', id: aggregateId },
        version,
        commandId: newCommandId(),
        data: { name: 'fuzzed task' },
      }),
    ),
  ) as Record<string, unknown>;
}

type Mutator = (random: () => number, aggregateId: string) => Omit<FuzzCase, 'partitionKey'>;

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** The attributes every Tidemark envelope must have. */
const REQUIRED_FIELDS = [
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'data',
  'aggregatetype',
  'aggregateid',
  'aggregateversion',
  'commandid',
  'schemaversion',
];

const parked = (kind: string, data: string, reason: FuzzParkReason): Omit<FuzzCase, 'partitionKey'> => ({
  kind,
  data,
  expect: 'parked',
  reason,
});

/**
 * The mutators, by kind. `handledType` is a type the fuzzed consumer handles; its payload schema
 * must require `name: string` (non-empty) — the `bad-payload` cases break exactly that.
 */
export function mutators(handledType: string): Record<string, Mutator> {
  const envelope = (aggregateId: string) => validEnvelope(handledType, aggregateId, 1);
  const json = (value: unknown) => b64(JSON.stringify(value));
  return {
    // Not base64 at all: Lambda never sends this, but a consumer must still not crash or lose it.
    'bad-base64': (random) =>
      parked(
        'bad-base64',
        pick(random, ['%%%not base64%%%', 'eyJh*', '====', 'abc', 'ey J hIjo xfQ', '{"specversion":"1.0"}']),
        'undecodable',
      ),
    'not-utf8': (random) =>
      parked(
        'not-utf8',
        b64(
          Uint8Array.from({ length: 8 + Math.floor(random() * 32) }, () => 0x80 + Math.floor(random() * 64)),
        ),
        'undecodable',
      ),
    'not-json': (random) =>
      parked(
        'not-json',
        b64(pick(random, ['{', 'hello', '{"a":1', '<xml/>', '{"specversion":"1.0",}', 'NaN'])),
        'undecodable',
      ),
    'not-an-object': (random) =>
      parked(
        'not-an-object',
        // An array is a packed record (CloudEvents JSON batch): empty, or of a non-object, it is undecodable.
        b64(pick(random, ['[]', '42', '"text"', 'null', 'true', '[42]'])),
        'undecodable',
      ),
    'missing-field': (random, id) => {
      const value = envelope(id);
      delete value[pick(random, REQUIRED_FIELDS)];
      return parked('missing-field', json(value), 'invalid-envelope');
    },
    'wrong-field-type': (random, id) => {
      const value = envelope(id);
      // Every value here is wrong for its field (an integer would be a valid version, `{}` valid data).
      const field = pick(random, REQUIRED_FIELDS);
      const numeric = field === 'aggregateversion' || field === 'schemaversion';
      value[field] =
        field === 'data'
          ? pick(random, [42, null, [], true, 'text'])
          : pick(random, numeric ? [null, [], {}, true, '', '1'] : [42, null, [], {}, true, '']);
      return parked('wrong-field-type', json(value), 'invalid-envelope');
    },
    'bad-ulid': (random, id) => {
      const value = envelope(id);
      value[pick(random, ['id', 'commandid'])] = pick(random, [
        'not-a-ulid',
        '01ARZ3NDEKTSV4RRFFQ69G5FA', // 25 characters
        '81ARZ3NDEKTSV4RRFFQ69G5FAV', // beyond the largest ULID
        '01ARZ3NDEKTSV4RRFFQ69G5FAU', // U is not Crockford base32
        '01arz3ndektsv4rrffq69g5fav', // lower case
        '',
      ]);
      return parked('bad-ulid', json(value), 'invalid-envelope');
    },
    'bad-version': (random, id) => {
      const value = envelope(id);
      value.aggregateversion = pick(random, [0, -1, -42, 1.5, 2.000001, Number.MAX_SAFE_INTEGER + 2, '3']);
      return parked('bad-version', json(value), 'invalid-envelope');
    },
    'bad-aggregate': (random, id) => {
      const value = envelope(id);
      if (random() < 0.5) value.aggregatetype = pick(random, ['Task#Sub', 'Ta sk', 'T'.repeat(65)]);
      else {
        const longId = `${id}-${'x'.repeat(300)}`;
        value.aggregateid = longId;
        value.subject = longId;
      }
      return parked('bad-aggregate', json(value), 'invalid-envelope');
    },
    'bad-payload': (random, id) => {
      const value = envelope(id);
      value.data = pick(random, [{}, { name: 42 }, { name: '' }, { other: 'x' }]);
      return parked('bad-payload', json(value), 'invalid-payload');
    },
    // Larger than a DynamoDB item (400 KB): a dead-letter store must still keep it.
    oversized: (random, id) => {
      const value = envelope(id);
      const filler = 'x'.repeat(450_000 + Math.floor(random() * 200_000));
      if (random() < 0.5) {
        value.data = { name: filler };
        value.aggregateversion = -1;
        return parked('oversized', json(value), 'invalid-envelope');
      }
      value.data = { name: 42, filler };
      return parked('oversized', json(value), 'invalid-payload');
    },
    'unknown-type': (random, id) => {
      const value = envelope(id);
      value.type = pick(random, ['TaskArchived', 'SomethingElse', 'task_created']);
      return { kind: 'unknown-type', data: json(value), expect: 'skipped' };
    },
  };
}

/**
 * `count` malformed records spread over the kinds. Each case has an aggregate of its own
 * (`fuzz-<seed>-<i>`, version 1), so a case whose envelope is valid is never a duplicate or a gap
 * of another: what happens to it depends on its damage alone.
 *
 * @example
 * ```ts
 * const cases = fuzzCases({ seed: 7, count: 1_000, handledType: 'TaskCreated' });
 * ```
 */
export function fuzzCases(options: {
  readonly seed: number;
  readonly count: number;
  readonly handledType: string;
  /** Kinds to leave out (e.g. `bad-base64` for records that travel through real Kinesis). Default: none. */
  readonly exclude?: readonly string[];
}): FuzzCase[] {
  const random = seededRandom(options.seed);
  const { oversized, ...rest } = mutators(options.handledType);
  const excluded = new Set(options.exclude ?? []);
  const common = Object.entries(rest)
    .filter(([kind]) => !excluded.has(kind))
    .map(([, mutate]) => mutate);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < options.count; i += 1) {
    // Oversized records are heavy to store: one in a hundred.
    const mutate = (
      i % 100 === 99 && !excluded.has('oversized') ? oversized : common[i % common.length]
    ) as Mutator;
    const aggregateId = `fuzz-${options.seed}-${i}`;
    cases.push({ ...mutate(random, aggregateId), partitionKey: `Task#${aggregateId}` });
  }
  return cases;
}
