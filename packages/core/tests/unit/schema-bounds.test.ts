import { describe, expect, it } from 'vitest';
import { compareLowerBound, compareNumericBounds, compareUpperBound } from '../../src/schema-bounds';

const reasons = (found: readonly { path: string; reason: string }[]) => found.map((entry) => entry.reason);

describe('compareLowerBound', () => {
  it('keeps a reader minimum the writer guarantees', () => {
    expect(compareLowerBound({ minLength: 3 }, { minLength: 2 }, 'minLength', 'name', 'length')).toEqual([]);
    expect(compareLowerBound({ minLength: 2 }, { minLength: 2 }, 'minLength', 'name', 'length')).toEqual([]);
    expect(compareLowerBound({}, { minLength: 0 }, 'minLength', 'name', 'length')).toEqual([]);
  });

  it('reports a reader minimum the writer does not guarantee, at the path', () => {
    expect(compareLowerBound({}, { minItems: 1 }, 'minItems', 'tags', 'number of items')).toEqual([
      {
        path: 'tags',
        reason: 'narrowed: the reader requires a number of items of at least 1, the writer guarantees only 0',
      },
    ]);
    expect(compareLowerBound({ minLength: 1 }, { minLength: 2 }, 'minLength', 'name', 'length')).toHaveLength(
      1,
    );
  });
});

describe('compareUpperBound', () => {
  it('keeps a reader maximum the writer stays within', () => {
    expect(compareUpperBound({ maxLength: 5 }, { maxLength: 5 }, 'maxLength', 'name', 'length')).toEqual([]);
    expect(compareUpperBound({ maxLength: 5 }, {}, 'maxLength', 'name', 'length')).toEqual([]);
  });

  it('reports a reader maximum the writer may exceed', () => {
    expect(reasons(compareUpperBound({}, { maxLength: 5 }, 'maxLength', 'name', 'length'))).toEqual([
      'narrowed: the reader accepts a length of at most 5, the writer may write any',
    ]);
    expect(
      reasons(compareUpperBound({ maxLength: 6 }, { maxLength: 5 }, 'maxLength', 'name', 'length')),
    ).toEqual(['narrowed: the reader accepts a length of at most 5, the writer may write 6']);
  });
});

describe('compareNumericBounds', () => {
  it.each([
    ['the same inclusive range', { minimum: 0, maximum: 10 }, { minimum: 0, maximum: 10 }, 0],
    ['a narrower writer', { minimum: 1, maximum: 9 }, { minimum: 0, maximum: 10 }, 0],
    ['an exclusive writer bound at the reader inclusive one', { exclusiveMinimum: 0 }, { minimum: 0 }, 0],
    ['an inclusive writer bound at the reader exclusive one', { minimum: 0 }, { exclusiveMinimum: 0 }, 1],
    ['a wider writer on both ends', { minimum: -1, maximum: 11 }, { minimum: 0, maximum: 10 }, 2],
    ['no writer bound', {}, { minimum: 0, exclusiveMaximum: 10 }, 2],
    ['a reader without bounds', { minimum: 5 }, {}, 0],
    // The writer's tighter bound counts: minimum 0 and exclusiveMinimum 0 guarantee > 0.
    ['the tighter of two writer bounds', { minimum: 0, exclusiveMinimum: 0 }, { exclusiveMinimum: 0 }, 0],
    ['the tighter of two reader bounds', { minimum: 1 }, { minimum: 2, exclusiveMinimum: 0 }, 1],
  ])('%s: %j read as %j gives %i problems', (_what, writer, reader, count) => {
    expect(compareNumericBounds(writer, reader, 'n')).toHaveLength(count);
  });

  it('says which bound and what the writer guarantees', () => {
    expect(reasons(compareNumericBounds({ minimum: 0 }, { exclusiveMinimum: 0, maximum: 3 }, 'n'))).toEqual([
      'narrowed: the reader requires a value > 0, the writer guarantees >= 0',
      'narrowed: the reader requires a value <= 3, the writer guarantees no upper bound',
    ]);
  });
});
