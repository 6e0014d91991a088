import { describe, expect, it } from 'vitest';
import { readStoredRecord, storedRecordOf } from '../../src/records';
import type { KinesisRecord } from '../../src/types';

const record = (data: string, approximateArrivalTimestamp: number, sequenceNumber = '1'): KinesisRecord => ({
  eventID: `shardId-000000000000:${sequenceNumber}`,
  eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/events',
  kinesis: { data, partitionKey: 'Task#t-1', sequenceNumber, approximateArrivalTimestamp },
});

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('storedRecordOf', () => {
  it('keeps each record’s own bytes as a plain Uint8Array, however many records follow', () => {
    const texts = Array.from({ length: 300 }, (_, i) => `{"n":${i},"text":"élan 🚀 ${'x'.repeat(i)}"}`);
    const stored = texts.map((text, i) => storedRecordOf(record(base64(text), 1_700_000_000, String(i))));
    stored.forEach((entry, i) => {
      expect(Object.getPrototypeOf(entry.data)).toBe(Uint8Array.prototype);
      expect(entry.data).toEqual(new TextEncoder().encode(texts[i]));
      expect(entry.dataBytes).toBe(Buffer.byteLength(texts[i]!));
      expect(entry.dataEncoding).toBeUndefined();
    });
  });

  it('gives each record its own arrival time, also when consecutive records share or change it', () => {
    const times = [1_700_000_000.5, 1_700_000_000.5, 1_700_000_001.25, 1_700_000_000.5, 0, Number.NaN];
    const arrived = times.map((seconds) => storedRecordOf(record(base64('{}'), seconds)).arrivedAt);
    expect(arrived).toEqual([
      '2023-11-14T22:13:20.500Z',
      '2023-11-14T22:13:20.500Z',
      '2023-11-14T22:13:21.250Z',
      '2023-11-14T22:13:20.500Z',
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
    ]);
  });

  it('keeps data that is not strict base64 as its text and reads it as undecodable', () => {
    const stored = storedRecordOf(record('not base64!', 1_700_000_000));
    expect(stored.dataEncoding).toBe('text');
    expect(new TextDecoder().decode(stored.data)).toBe('not base64!');
    expect(readStoredRecord(stored, 0)).toMatchObject({ kind: 'bad', reason: 'undecodable' });
  });
});
