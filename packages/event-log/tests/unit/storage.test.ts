import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dynamoDbItemSize,
  firstDifference,
  MAX_PAYLOAD_DEPTH,
  marshallItem,
  payloadIssues,
} from '../../src/storage';

describe('payloadIssues', () => {
  it('accepts JSON values, including empty strings, empty arrays and empty objects', () => {
    expect(payloadIssues({ a: '', b: [], c: {}, d: null, e: true, f: -0.5, g: [1, 'x', { h: [] }] })).toEqual(
      [],
    );
  });

  it('accepts an undefined property (JSON and DynamoDB both drop it)', () => {
    expect(payloadIssues({ a: undefined, b: 1 })).toEqual([]);
  });

  it.each([
    ['a Date', { at: new Date() }, 'data.at'],
    ['a Set', { tags: new Set(['a']) }, 'data.tags'],
    ['a Map', { m: new Map() }, 'data.m'],
    ['binary data', { bytes: new Uint8Array([1]) }, 'data.bytes'],
    ['a class instance', { x: new (class Point {})() }, 'data.x'],
    ['NaN', { n: Number.NaN }, 'data.n'],
    ['Infinity', { n: Number.POSITIVE_INFINITY }, 'data.n'],
    ['an unsafe integer', { n: 2 ** 53 + 2 }, 'data.n'],
    ['a number too large for DynamoDB', { n: 1e200 }, 'data.n'],
    ['a number too small for DynamoDB', { n: 1e-200 }, 'data.n'],
    ['a bigint', { n: 10n }, 'data.n'],
    ['a function', { f: () => 1 }, 'data.f'],
    ['undefined in an array', { list: [1, undefined] }, 'data.list[1]'],
    ['a lone surrogate', { s: 'a\uD800b' }, 'data.s'],
  ])('refuses %s with the path of the value', (_name, payload, path) => {
    const issues = payloadIssues(payload);
    expect(issues.map((issue) => issue.path)).toEqual([path]);
    expect(issues[0]!.code).toBe('not_storable');
  });

  it('refuses a circular reference instead of looping', () => {
    const payload: Record<string, unknown> = { a: 1 };
    payload.self = payload;
    expect(payloadIssues(payload).map((issue) => issue.path)).toEqual(['data.self']);
  });

  it('names keys that are not identifiers in brackets', () => {
    expect(payloadIssues({ 'a b': new Date(0) })[0]!.path).toBe('data["a b"]');
  });

  it('every payload it accepts survives marshall, unmarshall and JSON unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const payload = { value };
        fc.pre(payloadIssues(payload).length === 0);
        const stored = unmarshall(
          marshall(payload, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
        );
        expect(JSON.parse(JSON.stringify(stored))).toEqual(JSON.parse(JSON.stringify(payload)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('dynamoDbItemSize', () => {
  it('counts attribute names and string values in UTF-8 bytes', () => {
    expect(dynamoDbItemSize(marshallItem({ ab: 'héllo' }))).toBe(2 + 6);
  });

  it('counts numbers by significant digits', () => {
    expect(dynamoDbItemSize(marshallItem({ n: 12345 }))).toBe(1 + 4);
    expect(dynamoDbItemSize(marshallItem({ n: 0.5 }))).toBe(1 + 2);
  });

  it('counts maps and lists with their overhead', () => {
    // map: 3 + (1 + 1 name + 1 bool) ; list: 3 + (1 + 1 null)
    expect(dynamoDbItemSize(marshallItem({ m: { a: true }, l: [null] }))).toBe(1 + 6 + 1 + 5);
  });
});

describe('payloadIssues: everything marshall would change or DynamoDB would refuse', () => {
  const sparse = [1, 2, 3];
  delete sparse[1];
  const withProperty = Object.assign([1], { label: 'x' });
  it.each([
    ['-0', { n: -0 }, 'data.n'],
    ['a hole in a sparse array', { list: sparse }, 'data.list[1]'],
    ['an array with a named property', { list: withProperty }, 'data.list'],
    ['an empty key', { '': 1 }, 'data[""]'],
    ['an own __proto__ key', JSON.parse('{"__proto__": 1}'), 'data.__proto__'],
    ['a symbol key', { [Symbol('s')]: 1 }, 'data'],
    ['a getter', Object.defineProperty({}, 'g', { get: () => 1, enumerable: true }), 'data.g'],
    ['a non-enumerable property', Object.defineProperty({}, 'h', { value: 1, enumerable: false }), 'data.h'],
    ['a key with a lone surrogate', { 'k\uD800': 1 }, 'data["k\\ud800"]'],
  ])('refuses %s with the path of the value', (_name, payload, path) => {
    const issues = payloadIssues(payload);
    expect(issues.map((issue) => issue.path)).toEqual([path]);
    expect(issues[0]!.code).toBe('not_storable');
  });

  it(`accepts ${MAX_PAYLOAD_DEPTH} levels of maps and lists, the payload included, and refuses one more`, () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    expect(payloadIssues({ deep: nest(MAX_PAYLOAD_DEPTH - 1) })).toEqual([]);
    expect(payloadIssues({ deep: nest(MAX_PAYLOAD_DEPTH) })).toHaveLength(1);
  });

  it('accepts a null-prototype object (a plain map)', () => {
    expect(payloadIssues(Object.assign(Object.create(null), { a: 1 }))).toEqual([]);
  });
});

describe('firstDifference', () => {
  it('finds what marshall and unmarshall changed, and treats an undefined property as absent', () => {
    const roundTrip = (value: Record<string, unknown>) =>
      unmarshall(marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: false }));
    expect(firstDifference({ a: 1, b: undefined }, roundTrip({ a: 1, b: undefined }))).toBeUndefined();
    expect(firstDifference({ n: -0 }, roundTrip({ n: -0 }))).toBe('data.n');
    const sparse = [1, 2, 3];
    delete sparse[1];
    expect(firstDifference({ list: sparse }, roundTrip({ list: sparse }))).toBe('data.list');
    const proto = JSON.parse('{"__proto__": {"x": 1}}');
    expect(firstDifference(proto, roundTrip(proto))).toBe('data');
  });
});

describe('payloadIssues and the marshaller: a map with a "constructor" key', () => {
  // Counterexample of the DynamoDB Local property test (seed 338117): `{ constructor: {} }` reached
  // the marshaller, which threw a plain Error instead of a typed refusal.
  it.each([
    [{ constructor: {} }],
    [{ constructor: 'x' }],
    [{ a: { constructor: 1 } }],
    [[{ constructor: [] }]],
  ])('refuses %j before writing, as the marshaller would refuse it', (payload) => {
    expect(() => marshallItem({ data: payload })).toThrow(/Unsupported type/);
    expect(payloadIssues(payload)).toEqual([
      expect.objectContaining({ code: 'not_storable', message: expect.stringContaining('"constructor"') }),
    ]);
  });

  it.each([[{ constructor: null }], [{ constructor: 0 }], [{ constructor: { name: 'Object' } }]])(
    'accepts %j, which the marshaller stores as a map',
    (payload) => {
      expect(() => marshallItem({ data: payload })).not.toThrow();
      expect(payloadIssues(payload)).toEqual([]);
    },
  );
});
