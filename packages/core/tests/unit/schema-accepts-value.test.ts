import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../src/json-schema';
import { schemaAcceptsValue } from '../../src/schema-accepts-value';

const accepts = (schema: JsonSchema, value: unknown, root: JsonSchema = schema) =>
  schemaAcceptsValue(schema, value, root);

describe('schemaAcceptsValue', () => {
  it.each([
    ['a string within its length, counted in code points', { type: 'string', maxLength: 1 }, '😀', true],
    ['a string too long', { type: 'string', maxLength: 1 }, 'ab', false],
    ['a string too short', { type: 'string', minLength: 2 }, 'a', false],
    ['a string matching the pattern', { type: 'string', pattern: '^[a-z]+$' }, 'abc', true],
    ['a string not matching the pattern', { type: 'string', pattern: '^[a-z]+$' }, 'ABC', false],
    ['a value against an invalid pattern', { type: 'string', pattern: '(' }, 'a', false],
    ['an integer for number', { type: 'number' }, 3, true],
    ['a fraction for integer', { type: 'integer' }, 1.5, false],
    ['a value on an exclusive bound', { exclusiveMinimum: 0 }, 0, false],
    ['a value on an inclusive bound', { minimum: 0, maximum: 0 }, 0, true],
    ['a multiple', { multipleOf: 5 }, 15, true],
    ['not a multiple', { multipleOf: 5 }, 12, false],
    ['null for a nullable type', { type: ['string', 'null'] }, null, true],
    ['an object key order apart from the const', { const: { a: 1, b: 2 } }, { b: 2, a: 1 }, true],
    ['a value outside the enum', { enum: ['low', 'high'] }, 'mid', false],
    ['a value of one anyOf branch', { anyOf: [{ type: 'string' }, { type: 'null' }] }, null, true],
    ['a value of no oneOf branch', { oneOf: [{ type: 'string' }, { type: 'null' }] }, 1, false],
    ['a value failing one allOf branch', { allOf: [{ type: 'number' }, { minimum: 2 }] }, 1, false],
    ['anything for true', true, { any: 'thing' }, true],
    ['nothing for false', false, null, false],
    ['nothing for an empty enum', { enum: [] }, 'x', false],
  ])('%s', (_what, schema, value, expected) => {
    expect(accepts(schema as JsonSchema, value)).toBe(expected);
  });

  it('checks arrays: bounds, prefix items, then items', () => {
    const tuple = {
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: { type: 'number' },
      maxItems: 3,
    };
    expect(accepts(tuple, ['a', 1, 2])).toBe(true);
    expect(accepts(tuple, [1, 1])).toBe(false);
    expect(accepts(tuple, ['a', 'b'])).toBe(false);
    expect(accepts(tuple, ['a', 1, 2, 3])).toBe(false);
    expect(accepts({ type: 'array', minItems: 1 }, [])).toBe(false);
  });

  it('checks objects: required fields, declared fields and the others', () => {
    const closed = {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    };
    expect(accepts(closed, { name: 'a' })).toBe(true);
    expect(accepts(closed, {})).toBe(false);
    expect(accepts(closed, { name: 1 })).toBe(false);
    expect(accepts(closed, { name: 'a', extra: 1 })).toBe(false);
    expect(accepts({ type: 'object', additionalProperties: { type: 'number' } }, { a: 1, b: 'x' })).toBe(
      false,
    );
    expect(accepts({ type: 'object' }, [])).toBe(false);
  });

  it('follows $ref into the root document, and refuses what it cannot resolve', () => {
    const root = { $defs: { level: { enum: ['low', 'high'] } }, $ref: '#/$defs/level' };
    expect(accepts({ $ref: '#/$defs/level' }, 'low', root)).toBe(true);
    expect(accepts({ $ref: '#/$defs/level' }, 'mid', root)).toBe(false);
    expect(accepts({ $ref: '#/$defs/missing' }, 'low', root)).toBe(false);
  });

  it('refuses instead of recursing without end through a $ref to itself', () => {
    const loop = { $ref: '#' };
    expect(accepts(loop, 'x', loop)).toBe(false);
  });
});
