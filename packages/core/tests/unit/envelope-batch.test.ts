import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  decodeEnvelopeRecord,
  EnvelopeDecodeError,
  EnvelopeValidationError,
  type EventEnvelope,
  encodeEnvelope,
  encodeEnvelopeBatch,
  KINESIS_LIMITS,
  newCommandId,
  RecordTooLargeError,
  toKinesisBatchRecord,
  toKinesisRecord,
} from '../../src/index';
import { envelopeBatchDataLength, joinEncodedEnvelopes, kinesisRecordSize } from '../../src/internal';

const commandId = newCommandId();
const eventIds = new Map<number, string>();
const eventIdOf = (version: number) => {
  if (!eventIds.has(version)) eventIds.set(version, newCommandId());
  return eventIds.get(version)!;
};

function envelope(
  version: number,
  data: Record<string, unknown> = { n: version },
  id = 't-42',
): EventEnvelope {
  return createEnvelope({
    source: '/task-service',
    type: 'TaskRenamed',
    aggregate: { type: 'Task', id },
    version,
    commandId,
    data,
    eventId: eventIdOf(version),
    time: '2026-11-30T08:00:00.000Z',
  });
}

const utf8 = (value: string) => new TextEncoder().encode(value);

describe('encodeEnvelopeBatch', () => {
  it('writes a JSON array of structured-mode envelopes that JSON.parse reads back', () => {
    const envelopes = [envelope(1), envelope(2, { name: 'é😀' }), envelope(3)];
    const data = encodeEnvelopeBatch(envelopes);
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual(envelopes);
  });

  it('joins already encoded envelopes to exactly the bytes the size accounting predicts', () => {
    const parts = [envelope(1), envelope(2, { text: 'ü'.repeat(100) })].map(encodeEnvelope);
    const data = joinEncodedEnvelopes(parts);
    expect(data.byteLength).toBe(envelopeBatchDataLength(parts.map((part) => part.byteLength)));
    expect(data.byteLength).toBe(parts[0]!.byteLength + parts[1]!.byteLength + 3);
    expect(new TextDecoder().decode(data)).toBe(
      `[${JSON.stringify(envelope(1))},${JSON.stringify(envelope(2, { text: 'ü'.repeat(100) }))}]`,
    );
  });

  it('counts a batch of one as the brackets around the envelope', () => {
    expect(envelopeBatchDataLength([10])).toBe(12);
    expect(envelopeBatchDataLength([])).toBe(2);
  });
});

describe('toKinesisBatchRecord', () => {
  it('keys the record by the aggregate and counts the UTF-8 partition key with the data', () => {
    const id = 'tâche-😀';
    const record = toKinesisBatchRecord([envelope(1, {}, id), envelope(2, {}, id)]);
    expect(record.partitionKey).toBe(`Task#${id}`);
    expect(record.size).toBe(kinesisRecordSize(record.partitionKey, record.data));
    expect(record.size).toBe(utf8(record.partitionKey).byteLength + record.data.byteLength);
  });

  it('refuses envelopes of two aggregates and an empty run', () => {
    expect(() => toKinesisBatchRecord([envelope(1, {}, 'a'), envelope(2, {}, 'b')])).toThrow(TypeError);
    expect(() => toKinesisBatchRecord([])).toThrow(TypeError);
  });

  it('accepts a batch of exactly 1 MiB with a multi-byte key and data, and refuses one byte more', () => {
    const id = 'ключ-😀';
    const key = `Task#${id}`;
    const keyBytes = utf8(key).byteLength;
    expect(keyBytes).toBeGreaterThan(key.length); // multi-byte characters count as bytes
    // Two envelopes; the second is padded with 3-byte characters and 1-byte ones to hit the limit exactly.
    const first = envelope(1, { a: 'x' }, id);
    const empty = envelope(2, { pad: '' }, id);
    const fixed =
      keyBytes +
      envelopeBatchDataLength([encodeEnvelope(first).byteLength, encodeEnvelope(empty).byteLength]);
    const room = KINESIS_LIMITS.maxRecordBytes - fixed;
    const pad = '€'.repeat(Math.floor(room / 3)) + 'x'.repeat(room % 3);
    const fitting = [first, envelope(2, { pad }, id)];
    const record = toKinesisBatchRecord(fitting);
    expect(record.size).toBe(KINESIS_LIMITS.maxRecordBytes);
    const over = [first, envelope(2, { pad: `${pad}x` }, id)];
    const error = (() => {
      try {
        toKinesisBatchRecord(over);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).size).toBe(KINESIS_LIMITS.maxRecordBytes + 1);
    expect((error as RecordTooLargeError).context).toMatchObject({ events: 2, fromVersion: 1, toVersion: 2 });
  });

  it('costs exactly one byte per neighbour plus two more than the single records it joins', () => {
    const envelopes = [envelope(1), envelope(2), envelope(3)];
    const singles = envelopes.map((item) => toKinesisRecord(item));
    const batch = toKinesisBatchRecord(envelopes);
    const keyBytes = utf8(batch.partitionKey).byteLength;
    const dataOfSingles = singles.reduce((sum, single) => sum + single.size - keyBytes, 0);
    expect(batch.size).toBe(keyBytes + dataOfSingles + 2 + 2);
  });
});

describe('decodeEnvelopeRecord', () => {
  it('reads a single envelope as one entry of format single', () => {
    const data = encodeEnvelope(envelope(1));
    const decoded = decodeEnvelopeRecord(data);
    expect(decoded.format).toBe('single');
    expect(decoded.entries).toHaveLength(1);
    expect(decoded.entries[0]).toMatchObject({ success: true, position: 0, envelope: envelope(1) });
    expect(decoded.entries[0]!.data).toBe(data);
  });

  it('reads a batch into one entry per event, in order, each with its own data', () => {
    const envelopes = [envelope(1), envelope(2), envelope(3)];
    const decoded = decodeEnvelopeRecord(encodeEnvelopeBatch(envelopes));
    expect(decoded.format).toBe('batch');
    expect(decoded.entries.map((entry) => (entry.success ? entry.envelope : undefined))).toEqual(envelopes);
    decoded.entries.forEach((entry, position) => {
      expect(entry.position).toBe(position);
      expect(new TextDecoder().decode(entry.data)).toBe(JSON.stringify(envelopes[position]));
    });
  });

  it('reads text as well as bytes', () => {
    const decoded = decodeEnvelopeRecord(JSON.stringify([envelope(1), envelope(2)]));
    expect(decoded.entries.every((entry) => entry.success)).toBe(true);
  });

  it('fails one bad entry alone and keeps its neighbours readable', () => {
    const good = [envelope(1), envelope(3)];
    const text = JSON.stringify([good[0], { ...envelope(2), aggregateversion: 0 }, 42, good[1]]);
    const decoded = decodeEnvelopeRecord(utf8(text));
    expect(decoded.format).toBe('batch');
    const [first, invalid, scalar, last] = decoded.entries;
    expect(first).toMatchObject({ success: true, envelope: good[0] });
    expect(last).toMatchObject({ success: true, envelope: good[1] });
    expect(invalid!.success).toBe(false);
    const validation = (invalid as { error: EnvelopeValidationError }).error;
    expect(validation).toBeInstanceOf(EnvelopeValidationError);
    expect(validation.context).toMatchObject({ batchPosition: 1, batchSize: 4, aggregateversion: 0 });
    expect(validation.issues.some((issue) => issue.path === 'aggregateversion')).toBe(true);
    expect(scalar!.success).toBe(false);
    expect((scalar as { error: EnvelopeDecodeError }).error).toBeInstanceOf(EnvelopeDecodeError);
    expect(new TextDecoder().decode(scalar!.data)).toBe('42');
  });

  it.each([
    ['broken JSON', utf8('[{"specversion":"1.0",')],
    ['invalid UTF-8', new Uint8Array([0x5b, 0xff, 0xfe, 0x5d])],
    ['a JSON scalar', utf8('"text"')],
    ['null', utf8('null')],
    ['an empty batch', utf8('[]')],
  ])('reads %s as one failure for the whole record', (_name, data) => {
    const decoded = decodeEnvelopeRecord(data);
    expect(decoded.format).toBe('unreadable');
    expect(decoded.entries).toHaveLength(1);
    expect(decoded.entries[0]).toMatchObject({ success: false, position: 0 });
    expect((decoded.entries[0] as { error: unknown }).error).toBeInstanceOf(EnvelopeDecodeError);
    expect(decoded.entries[0]!.data).toBe(data);
  });

  it('reads a batch of 1 MiB with multi-byte data back exactly', () => {
    const id = 'ключ';
    const pad = '😀'.repeat(60_000); // 240,000 bytes per event
    const envelopes = [1, 2, 3, 4].map((version) => envelope(version, { pad }, id));
    const record = toKinesisBatchRecord(envelopes);
    expect(record.size).toBeGreaterThan(960_000);
    const decoded = decodeEnvelopeRecord(record.data);
    expect(decoded.entries.map((entry) => (entry.success ? entry.envelope : undefined))).toEqual(envelopes);
  });
});
