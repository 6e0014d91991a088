/**
 * The envelope's fast path (`envelope-fast-path.ts`) against the zod schemas it stands in for,
 * over valid envelopes and event-log items and over every kind of damage: each field replaced by
 * values of other types, empty, out of range or almost right (a lower-case ULID, a time without
 * offset), fields removed, optional attributes present as `undefined`, extension attributes, keys
 * named `__proto__`, payloads that are not plain objects. The public functions must answer exactly
 * what the schemas answer (the same value, fields in the same order, or the same error), and the
 * fast path must vouch for the plain valid ones (else this compares nothing).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_PATTERNS, validateEnvelope, validateItemEnvelope } from '../../src/envelope';
import { fastEnvelope, fastEventLogItem } from '../../src/envelope-fast-path';
import { envelopeOfItem } from '../../src/event-log';
import { EnvelopeValidationError, parseEventLogItem } from '../../src/index';
import { envelopeFromEventLogImage, envelopeSchema, toValidationIssues } from '../../src/internal';

const seed = Number(process.env.TIDEMARK_SEED ?? 20261130);

const ULID_A = '01JD3Q6Z5X8V7B2N4M6K8H0G2F';
const ULID_B = '01JD3Q6Z5X8V7B2N4M6K8H0G2G';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Values that break a field, or almost do. */
const DAMAGE: readonly unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  0,
  -1,
  1,
  2,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '1',
  true,
  [],
  ['a'],
  {},
  { a: 1 },
  ULID_A.toLowerCase(),
  `${ULID_A}0`,
  `8${ULID_A.slice(1)}`,
  ULID_A,
  '2026-11-30T08:00:00Z',
  '2026-11-30T08:00:00.123+01:00',
  '2026-11-30T08:00:00',
  '2026-11-30 08:00:00Z',
  '2026-13-30T08:00:00Z',
  '2026-11-30T08:00:00z',
  '2026-11-30T08:00:00-0800',
  '2026-11-30T08:00Z',
  '2025-02-29T08:00:00Z',
  TRACEPARENT,
  TRACEPARENT.toUpperCase(),
  '1.0',
  'application/json',
  new Date(0),
  Object.create(null),
];

const TIMES = [
  '2026-11-30T08:00:00Z',
  '2026-11-30T08:00:00.5Z',
  '2026-11-30T08:00:00.123456789Z',
  '2026-11-30T08:00:00+01:00',
  '2024-02-29T23:59:59-08:00',
];

const payload = fc.dictionary(
  // `__proto__` and `constructor` keys are damage of their own (the fast path leaves them to zod).
  fc.string({ maxLength: 8 }).filter((key) => key !== '__proto__' && key !== 'constructor'),
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 3 }),
  ),
  { maxKeys: 4, noNullPrototype: true },
);

const validEnvelope = fc
  .record({
    id: fc.constantFrom(ULID_A, ULID_B),
    source: fc.constantFrom('/tasks', 's'),
    type: fc.constantFrom('TaskCreated', 'T'),
    aggregateid: fc.string({ minLength: 1, maxLength: 6 }).filter((id) => !id.includes('#')),
    time: fc.constantFrom(...TIMES),
    data: payload,
    aggregatetype: fc.constantFrom('Task', 'A'),
    aggregateversion: fc.integer({ min: 1, max: 2 ** 40 }),
    commandid: fc.constantFrom(ULID_A, ULID_B),
    schemaversion: fc.integer({ min: 1, max: 5 }),
    readablefrom: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    correlationid: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }),
    causationid: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }),
    traceparent: fc.option(fc.constant(TRACEPARENT), { nil: undefined }),
    tracestate: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
  })
  .map((fields) => {
    const envelope: Record<string, unknown> = {
      specversion: '1.0',
      id: fields.id,
      source: fields.source,
      type: fields.type,
      subject: fields.aggregateid,
      time: fields.time,
      datacontenttype: 'application/json',
      data: fields.data,
      aggregatetype: fields.aggregatetype,
      aggregateid: fields.aggregateid,
      aggregateversion: fields.aggregateversion,
      commandid: fields.commandid,
      schemaversion: fields.schemaversion,
    };
    if (fields.readablefrom !== undefined)
      envelope.readablefrom = Math.min(fields.readablefrom, fields.schemaversion);
    for (const key of ['correlationid', 'causationid', 'traceparent', 'tracestate'] as const) {
      if (fields[key] !== undefined) envelope[key] = fields[key];
    }
    return envelope;
  });

/** Damage to a record: a field replaced, removed, or added; the payload made odd. */
const damage = (keys: readonly string[], payloadKey: string) =>
  fc
    .oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.constantFrom(...keys),
        value: fc.constantFrom(...DAMAGE),
      }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
      fc.record({
        kind: fc.constant('add' as const),
        key: fc.constantFrom(
          'extra',
          'specversion2',
          'constructor',
          'toString',
          'pk',
          'metadata',
          'readablefrom',
        ),
        value: fc.constantFrom(...DAMAGE),
      }),
      fc.record({
        kind: fc.constant('payload' as const),
        json: fc.constantFrom(
          '{"__proto__":{"x":1},"a":2}',
          '{"constructor":1}',
          '[]',
          '{"a":{"__proto__":1}}',
        ),
      }),
      fc.constant({ kind: 'proto-key' as const }),
      fc.constant({ kind: 'payload-symbol' as const }),
    )
    .map((change) => (record: Record<string, unknown>) => {
      const copy: Record<string, unknown> = { ...record };
      if (change.kind === 'set' || change.kind === 'add') copy[change.key] = change.value;
      else if (change.kind === 'delete') delete copy[change.key];
      else if (change.kind === 'payload') copy[payloadKey] = JSON.parse(change.json);
      else if (change.kind === 'proto-key') return { ...JSON.parse('{"__proto__":{"id":"x"}}'), ...copy };
      else copy[payloadKey] = { ...(copy[payloadKey] as object), [Symbol('s')]: 1 };
      return copy;
    });

const ENVELOPE_KEYS = [
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
  'readablefrom',
  'correlationid',
  'causationid',
  'traceparent',
  'tracestate',
];

/** A value's outcome, comparable: the value with its keys in order, or the error's issues. */
function outcome(read: () => unknown) {
  try {
    const value = read() as Record<string, unknown>;
    return { value, keys: Object.keys(value), dataKeys: Object.keys(value.data as object) };
  } catch (error) {
    if (!(error instanceof EnvelopeValidationError)) return { thrown: String(error) };
    return { error: { message: error.message, issues: error.issues, context: error.context } };
  }
}

/** What the envelope schema alone answers (the path before the fast one). */
function bySchema(value: unknown) {
  const result = envelopeSchema.safeParse(value);
  if (result.success) return result.data;
  throw new EnvelopeValidationError(toValidationIssues(result.error), {});
}

describe('the envelope fast path (seeded differential property)', () => {
  it(`validateEnvelope answers as envelopeSchema for valid and damaged envelopes (seed ${seed})`, () => {
    console.info(`envelope fast path property: seed ${seed} (set TIDEMARK_SEED to replay)`);
    let vouched = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        validEnvelope,
        fc.array(damage(ENVELOPE_KEYS, 'data'), { maxLength: 3 }),
        (valid, changes) => {
          const value = changes.reduce((record, change) => change(record), valid);
          const schema = outcome(() => bySchema(value));
          const actual = outcome(() => validateEnvelope(value));
          if ('value' in schema) {
            // Node's strict equality (prototypes, key order aside, NaN equal to itself: an own
            // `constructor: NaN` would defeat vitest's type check).
            if (!isDeepStrictEqual(actual, schema)) expect(actual).toStrictEqual(schema);
            if (fastEnvelope(value, ENVELOPE_PATTERNS) !== undefined) vouched += 1;
          } else {
            // The errors come from the schema itself: same success, same issues.
            const issues = (result: ReturnType<typeof outcome>) =>
              'error' in result ? result.error?.issues : undefined;
            expect(issues(schema)).toBeDefined();
            expect(issues(actual)).toStrictEqual(issues(schema));
            expect(fastEnvelope(value, ENVELOPE_PATTERNS)).toBeUndefined();
            refused += 1;
          }
        },
      ),
      { seed, numRuns: 4000 },
    );
    // Both sides were exercised.
    expect(vouched).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(500);
  });

  it('vouches for every plain valid envelope, and returns a copy (the payload too)', () => {
    fc.assert(
      fc.property(validEnvelope, (valid) => {
        const checked = fastEnvelope(valid, ENVELOPE_PATTERNS);
        expect(checked).toStrictEqual(envelopeSchema.parse(valid));
        expect(checked).not.toBe(valid);
        expect(checked?.data).not.toBe(valid.data);
      }),
      { seed, numRuns: 500 },
    );
  });
});

const ITEM_KEYS = [
  'pk',
  'sk',
  'aggregateType',
  'aggregateId',
  'eventId',
  'eventType',
  'schemaVersion',
  'readableFrom',
  'commandId',
  'time',
  'source',
  'payload',
  'metadata',
];

const validItem = validEnvelope.chain((envelope) =>
  fc
    .record({
      metadata: fc.option(
        fc.record(
          {
            correlationId: fc.constantFrom('c', '', 7),
            causationId: fc.constantFrom('k', ''),
            traceparent: fc.constantFrom(TRACEPARENT, 'bad'),
            tracestate: fc.constantFrom('a=b', ''),
            other: fc.constant('kept out'),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
      commandRange: fc.boolean(),
    })
    .map(({ metadata, commandRange }) => {
      const item: Record<string, unknown> = {
        pk: `${envelope.aggregatetype}#${envelope.aggregateid}`,
        sk: envelope.aggregateversion,
        aggregateType: envelope.aggregatetype,
        aggregateId: envelope.aggregateid,
        eventId: envelope.id,
        eventType: envelope.type,
        schemaVersion: envelope.schemaversion,
        commandId: envelope.commandid,
        time: envelope.time,
        source: envelope.source,
        payload: envelope.data,
      };
      if (envelope.readablefrom !== undefined) item.readableFrom = envelope.readablefrom;
      if (metadata !== undefined) item.metadata = metadata;
      // What the event log writes besides the event.
      if (commandRange) Object.assign(item, { commandFirstVersion: 1, commandLastVersion: 2 });
      return item;
    }),
);

describe('the event-log item fast path (seeded differential property)', () => {
  it(`envelopeFromEventLogImage answers as the item schema + the envelope's remainder (seed ${seed})`, () => {
    let vouched = 0;
    let refused = 0;
    fc.assert(
      fc.property(validItem, fc.array(damage(ITEM_KEYS, 'payload'), { maxLength: 3 }), (valid, changes) => {
        const value = changes.reduce((record, change) => change(record), valid);
        // The path before the fast one: both zod schemas.
        const schema = outcome(() => validateItemEnvelope(envelopeOfItem(parseEventLogItem(value))));
        const actual = outcome(() => envelopeFromEventLogImage(value));
        if (!isDeepStrictEqual(actual, schema)) expect(actual).toStrictEqual(schema);
        if (fastEventLogItem(value, ENVELOPE_PATTERNS) === undefined) {
          if ('error' in schema || 'thrown' in schema) refused += 1;
        } else {
          expect('value' in schema).toBe(true);
          vouched += 1;
        }
      }),
      { seed, numRuns: 4000 },
    );
    expect(vouched).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(500);
  });
});
