import { describe, expect, it } from 'vitest';
import {
  alternatives,
  describeSchema,
  isAny,
  isNever,
  lookupRef,
  strip,
  typeList,
} from '../../src/json-schema';

describe('isAny and isNever', () => {
  it.each([
    [true, true, false],
    [false, false, true],
    [{}, true, false],
    [{ description: 'documented', title: 'T', default: 1 }, true, false],
    [{ type: 'string' }, false, false],
    [{ not: {} }, false, true],
    [{ not: true }, false, true],
    [{ not: { type: 'string' } }, false, false],
    [{ enum: [] }, false, true],
    [{ enum: [null] }, false, false],
  ])('%j: any %s, never %s', (node, any, never) => {
    expect(isAny(node)).toBe(any);
    expect(isNever(node)).toBe(never);
  });
});

describe('strip', () => {
  it('drops annotations and keeps every keyword that restricts values', () => {
    expect(strip({ type: 'string', description: 'd', $schema: 's', minLength: 1 })).toEqual({
      type: 'string',
      minLength: 1,
    });
    expect(strip(true)).toBe(true);
  });
});

describe('alternatives', () => {
  it('returns the branches as they are when nothing else constrains the node', () => {
    expect(alternatives({ anyOf: [{ type: 'string' }, { type: 'null' }], description: 'd' })).toEqual([
      { type: 'string' },
      { type: 'null' },
    ]);
  });

  it("applies the node's other keywords to each branch", () => {
    expect(alternatives({ oneOf: [{ minLength: 1 }, { maxLength: 3 }], type: 'string' })).toEqual([
      { allOf: [{ type: 'string' }, { minLength: 1 }] },
      { allOf: [{ type: 'string' }, { maxLength: 3 }] },
    ]);
  });

  it('is undefined for a node without anyOf or oneOf', () => {
    expect(alternatives({ type: 'string' })).toBeUndefined();
  });
});

describe('typeList', () => {
  it('reads one type, a list of types, or none', () => {
    expect(typeList({ type: 'string' })).toEqual(['string']);
    expect(typeList({ type: ['string', 'null'] })).toEqual(['string', 'null']);
    expect(typeList({ minLength: 1 })).toBeUndefined();
  });
});

describe('lookupRef', () => {
  const root = {
    $defs: {
      'a/b': { type: 'string' },
      'c~d': { type: 'number' },
      'e f': { type: 'boolean' },
      text: 'not a schema',
    },
  };

  it('resolves the root and JSON pointers with their escapes', () => {
    expect(lookupRef(root, '#')).toBe(root);
    expect(lookupRef(root, '#/$defs/a~1b')).toEqual({ type: 'string' });
    expect(lookupRef(root, '#/$defs/c~0d')).toEqual({ type: 'number' });
    expect(lookupRef(root, '#/$defs/e%20f')).toEqual({ type: 'boolean' });
  });

  it('is undefined for a missing target, a value that is not a schema or a reference outside the document', () => {
    expect(lookupRef(root, '#/$defs/missing')).toBeUndefined();
    expect(lookupRef(root, '#/$defs/text')).toBeUndefined();
    expect(lookupRef(root, '#/$defs/text/deeper')).toBeUndefined();
    expect(lookupRef(root, 'https://example.com/schema.json')).toBeUndefined();
  });
});

describe('describeSchema', () => {
  it.each([
    [true, 'any value'],
    [false, 'no value'],
    [{ enum: ['low', 'high'] }, '"low" | "high"'],
    [{ const: 3 }, '3'],
    [{ type: ['string', 'null'] }, 'string | null'],
    [{ anyOf: [{ type: 'string' }, { const: null }] }, 'string | null'],
    [{ minLength: 1 }, 'a constrained value'],
  ])('%j reads as %s', (node, text) => {
    expect(describeSchema(node)).toBe(text);
  });
});
