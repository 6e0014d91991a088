import { describe, expect, it } from 'vitest';
import { sortKeys, stableJson } from '../../src/stable-json';

describe('stableJson', () => {
  it('gives the same text whatever order the keys were written in, at any depth', () => {
    expect(stableJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null } })).toBe(
      stableJson({ a: { c: null, d: [{ x: 2, y: 1 }] }, b: 1 }),
    );
    expect(stableJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('keeps the order of array items, which is meaningful', () => {
    expect(stableJson([2, 1])).not.toBe(stableJson([1, 2]));
  });

  it('writes undefined as a text of its own, so that it never equals a JSON value', () => {
    expect(stableJson(undefined)).toBe('undefined');
    expect(stableJson(undefined)).not.toBe(stableJson(null));
  });
});

describe('sortKeys', () => {
  it('copies without changing the input', () => {
    const input = { b: { d: 1, c: 2 }, a: 1 };
    const sorted = sortKeys(input);
    expect(Object.keys(sorted as object)).toEqual(['a', 'b']);
    expect(Object.keys((sorted as { b: object }).b)).toEqual(['c', 'd']);
    expect(Object.keys(input)).toEqual(['b', 'a']);
  });
});
