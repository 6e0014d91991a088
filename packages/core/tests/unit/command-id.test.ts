import { describe, expect, it } from 'vitest';
import {
  commandIdTime,
  compareCommandIds,
  InvalidCommandIdError,
  isCommandId,
  newCommandId,
  newCommandIdAfter,
  parseCommandId,
  smallestCommandIdAfter,
} from '../../src/index';

describe('command ids', () => {
  it('generates 10,000 strictly increasing ids within one millisecond', () => {
    const realNow = Date.now;
    const frozen = realNow();
    Date.now = () => frozen;
    try {
      const ids = Array.from({ length: 10_000 }, () => newCommandId());
      for (let i = 1; i < ids.length; i++) {
        expect(ids[i]! > ids[i - 1]!).toBe(true);
      }
      expect(new Set(ids).size).toBe(10_000);
      expect(commandIdTime(ids[0]!)).toBe(frozen);
      expect(commandIdTime(ids[9_999]!)).toBe(frozen);
    } finally {
      Date.now = realNow;
    }
  });

  it('recognises canonical ULIDs only', () => {
    expect(isCommandId(newCommandId())).toBe(true);
    expect(isCommandId('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true);
    expect(isCommandId('01arz3ndektsv4rrffq69g5fav')).toBe(false);
    expect(isCommandId('01ARZ3NDEKTSV4RRFFQ69G5FA')).toBe(false);
    expect(isCommandId('81ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false);
    expect(isCommandId(42)).toBe(false);
  });

  it('parses lower-case ids to canonical form', () => {
    expect(parseCommandId('01arz3ndektsv4rrffq69g5fav')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
  });

  it.each([
    ['not-a-ulid', /26 characters/],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAI', /Crockford base32/],
    ['81ARZ3NDEKTSV4RRFFQ69G5FAV', /out of range/],
    [123, /must be a string/],
  ])('refuses %s with a typed error naming the reason', (value, reason) => {
    const error = catchError(() => parseCommandId(value));
    expect(error).toBeInstanceOf(InvalidCommandIdError);
    expect((error as InvalidCommandIdError).code).toBe('COMMAND_ID_INVALID');
    expect((error as Error).message).toMatch(reason);
  });

  it('compares by time, then by randomness', () => {
    expect(compareCommandIds('01ARZ3NDEKTSV4RRFFQ69G5FAV', '01ARZ3NDEKTSV4RRFFQ69G5FAW')).toBe(-1);
    expect(compareCommandIds('01ARZ3NDEKTSV4RRFFQ69G5FAW', '01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(1);
    expect(compareCommandIds('01ARZ3NDEKTSV4RRFFQ69G5FAV', '01arz3ndektsv4rrffq69g5fav')).toBe(0);
  });

  it('extracts the timestamp from the first ten base32 characters', () => {
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const expected = [...'01ARZ3NDEK'].reduce((time, char) => time * 32 + alphabet.indexOf(char), 0);
    expect(commandIdTime('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(expected);
    expect(new Date(expected).getUTCFullYear()).toBe(2016);
  });

  it('finds the smallest id greater than another, with carry', () => {
    expect(smallestCommandIdAfter('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAW');
    expect(smallestCommandIdAfter('01ARZ3NDEKTSV4RRFFQ69G5FAZ')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FB0');
    expect(smallestCommandIdAfter('01ARZ3NDEKZZZZZZZZZZZZZZZZ')).toBe('01ARZ3NDEM0000000000000000');
    expect(() => smallestCommandIdAfter('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toThrow(InvalidCommandIdError);
  });

  it('makes a new id above a last id from a clock that runs ahead', () => {
    const future = '7ZZZZZZZZZ0000000000000000';
    const next = newCommandIdAfter(future);
    expect(next > future).toBe(true);
    expect(next).toBe('7ZZZZZZZZZ0000000000000001');
    const past = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    expect(newCommandIdAfter(past) > past).toBe(true);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
