import { KINESIS_LIMITS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { PUT_RECORDS_LIMITS, planWaves, splitIntoCalls, type WaveRecord } from '../../src/waves';

const record = (key: string, size = 100, stream = 's'): WaveRecord => ({ key, size, stream });
const distinct = (count: number, size = 100) =>
  Array.from({ length: count }, (_, i) => record(`Task#${i}`, size));

describe('splitIntoCalls', () => {
  it('puts 1,000 records of distinct aggregates in 2 calls', () => {
    const calls = splitIntoCalls(distinct(1000));
    expect(calls.map((call) => call.length)).toEqual([500, 500]);
  });

  it('fills a call with exactly 500 records, and starts another at the 501st', () => {
    expect(splitIntoCalls(distinct(500)).map((call) => call.length)).toEqual([500]);
    expect(splitIntoCalls(distinct(501)).map((call) => call.length)).toEqual([500, 1]);
  });

  it('fills a call up to exactly 5 MiB, partition keys included, and no further', () => {
    const five = KINESIS_LIMITS.maxPutRecordsBytes;
    const exact = [
      record('A#1', five / 5),
      record('A#2', five / 5),
      record('A#3', five / 5),
      record('A#4', five / 5),
      record('A#5', five / 5),
    ];
    expect(splitIntoCalls(exact).map((call) => call.length)).toEqual([5]);
    const oneOver = [...exact.slice(0, 4), record('A#5', five / 5 + 1)];
    expect(splitIntoCalls(oneOver).map((call) => call.length)).toEqual([4, 1]);
  });

  it('sends a 1 MiB record (the largest allowed) alone when nothing else fits', () => {
    const big = KINESIS_LIMITS.maxRecordBytes;
    const calls = splitIntoCalls([
      record('A#1', big),
      record('A#2', big),
      record('A#3', big),
      record('A#4', big),
      record('A#5', big),
      record('A#6', 1),
    ]);
    expect(calls.map((call) => call.map((r) => r.key))).toEqual([
      ['A#1', 'A#2', 'A#3', 'A#4', 'A#5'],
      ['A#6'],
    ]);
  });

  it('keeps the order of records within each call and groups by stream', () => {
    const calls = splitIntoCalls([record('A#1', 1, 'x'), record('A#2', 1, 'y'), record('A#3', 1, 'x')]);
    expect(calls.map((call) => call.map((r) => `${r.stream}:${r.key}`))).toEqual([
      ['x:A#1', 'x:A#3'],
      ['y:A#2'],
    ]);
  });

  it('respects custom limits', () => {
    expect(splitIntoCalls(distinct(5), { maxRecords: 2, maxBytes: PUT_RECORDS_LIMITS.maxBytes }).length).toBe(
      3,
    );
  });
});

describe('planWaves', () => {
  it('puts the k-th record of each aggregate in wave k', () => {
    const records = [record('A'), record('B'), record('A'), record('C'), record('A'), record('B')];
    const waves = planWaves(records).map((wave) => wave.map((r) => r.key));
    expect(waves).toEqual([['A', 'B', 'C'], ['A', 'B'], ['A']]);
  });

  it('never puts two records of one aggregate in a wave', () => {
    const records = Array.from({ length: 300 }, (_, i) => record(`K#${i % 7}`));
    for (const wave of planWaves(records)) expect(new Set(wave.map((r) => r.key)).size).toBe(wave.length);
  });
});
