import { describe, expect, it } from 'vitest';
import { envelopeMetadata } from '../../src/envelope';
import {
  aggregateKey,
  createEnvelope,
  decodeEnvelope,
  EnvelopeDecodeError,
  EnvelopeValidationError,
  encodeEnvelope,
  InvalidAggregateError,
  KINESIS_LIMITS,
  newCommandId,
  parseAggregateKey,
  RecordTooLargeError,
  safeDecodeEnvelope,
  toKinesisRecord,
} from '../../src/index';

const base = () => ({
  source: '/task-service',
  type: 'TaskCreated',
  aggregate: { type: 'Task', id: 't-42' },
  version: 1,
  commandId: newCommandId(),
  data: { name: 'Write the docs', tags: ['a', 'b'], estimate: 3 },
});

describe('createEnvelope', () => {
  it('builds a CloudEvents 1.0 envelope with the Tidemark extensions', () => {
    const input = base();
    const envelope = createEnvelope({
      ...input,
      time: new Date('2026-11-23T10:00:00.000Z'),
      metadata: {
        correlationId: 'c-1',
        causationId: 'k-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
    expect(envelope).toMatchObject({
      specversion: '1.0',
      source: '/task-service',
      type: 'TaskCreated',
      subject: 't-42',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      aggregatetype: 'Task',
      aggregateid: 't-42',
      aggregateversion: 1,
      commandid: input.commandId,
      schemaversion: 1,
      correlationid: 'c-1',
      causationid: 'k-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(envelope.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(envelopeMetadata(envelope)).toEqual({
      correlationId: 'c-1',
      causationId: 'k-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('lists every problem of a wrong envelope', () => {
    const error = catchError(() =>
      createEnvelope({ ...base(), version: 0, commandId: 'nope', schemaVersion: 1.5 }),
    ) as EnvelopeValidationError;
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    const paths = error.issues.map((issue) => issue.path).sort();
    expect(paths).toEqual(['aggregateversion', 'commandid', 'schemaversion']);
    expect(error.message).toMatch(/aggregateversion: must be 1 or more/);
  });

  it('refuses a malformed aggregate with a typed error', () => {
    expect(() => createEnvelope({ ...base(), aggregate: { type: 'Ta#sk', id: '1' } })).toThrow(
      InvalidAggregateError,
    );
    expect(() => createEnvelope({ ...base(), aggregate: { type: 'Task', id: '' } })).toThrow(
      InvalidAggregateError,
    );
  });
});

describe('encode and decode', () => {
  it('round-trips an envelope through bytes and text', () => {
    const envelope = createEnvelope(base());
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    expect(decodeEnvelope(new TextDecoder().decode(encodeEnvelope(envelope)))).toEqual(envelope);
  });

  it('keeps unknown CloudEvents extension attributes', () => {
    const envelope = { ...createEnvelope(base()), myextension: 'kept' };
    expect(decodeEnvelope(JSON.stringify(envelope))).toMatchObject({ myextension: 'kept' });
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
    ['not JSON', 'hello', /not JSON/],
    ['a JSON array', '[1,2]', /not an object/],
    ['JSON null', 'null', /not an object/],
  ])('refuses %s with EnvelopeDecodeError', (_name, input, message) => {
    const error = catchError(() => decodeEnvelope(input));
    expect(error).toBeInstanceOf(EnvelopeDecodeError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    [
      'missing fields',
      (e: Record<string, unknown>) => {
        delete e.commandid;
        delete e.data;
      },
      ['commandid', 'data'],
    ],
    [
      'a negative version',
      (e: Record<string, unknown>) => {
        e.aggregateversion = -1;
      },
      ['aggregateversion'],
    ],
    [
      'a fractional version',
      (e: Record<string, unknown>) => {
        e.aggregateversion = 1.5;
      },
      ['aggregateversion'],
    ],
    [
      'a version as text',
      (e: Record<string, unknown>) => {
        e.aggregateversion = '2';
      },
      ['aggregateversion'],
    ],
    [
      'a bad event id',
      (e: Record<string, unknown>) => {
        e.id = 'x';
      },
      ['id'],
    ],
    [
      'another spec version',
      (e: Record<string, unknown>) => {
        e.specversion = '0.3';
      },
      ['specversion'],
    ],
    [
      'a subject that is not the aggregate id',
      (e: Record<string, unknown>) => {
        e.subject = 'other';
      },
      ['subject'],
    ],
    [
      'a bad time',
      (e: Record<string, unknown>) => {
        e.time = 'yesterday';
      },
      ['time'],
    ],
    [
      'data that is not an object',
      (e: Record<string, unknown>) => {
        e.data = 'text';
      },
      ['data'],
    ],
  ])('refuses an envelope with %s, naming the fields', (_name, mutate, paths) => {
    const envelope: Record<string, unknown> = { ...createEnvelope(base()) };
    mutate(envelope);
    const result = safeDecodeEnvelope(JSON.stringify(envelope));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(EnvelopeValidationError);
    const found = (result.error as EnvelopeValidationError).issues.map((issue) => issue.path);
    expect(found.sort()).toEqual([...paths].sort());
  });
});

describe('Kinesis size accounting', () => {
  const sizedEnvelope = (targetRecordBytes: number) => {
    const envelope = createEnvelope({ ...base(), data: { blob: '' } });
    const overhead = toKinesisRecord(envelope).size;
    return createEnvelope({
      ...base(),
      eventId: envelope.id,
      time: envelope.time,
      commandId: envelope.commandid,
      data: { blob: 'x'.repeat(targetRecordBytes - overhead) },
    });
  };

  it('accepts a record of exactly 1 MiB (partition key included)', () => {
    const record = toKinesisRecord(sizedEnvelope(KINESIS_LIMITS.maxRecordBytes));
    expect(record.size).toBe(1_048_576);
    expect(record.partitionKey).toBe('Task#t-42');
    expect(record.size).toBe(record.data.byteLength + 'Task#t-42'.length);
  });

  it('refuses a record one byte over 1 MiB with RecordTooLargeError', () => {
    const error = catchError(() => toKinesisRecord(sizedEnvelope(KINESIS_LIMITS.maxRecordBytes + 1)));
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).size).toBe(1_048_577);
    expect((error as RecordTooLargeError).limit).toBe(1_048_576);
  });

  it('counts multi-byte characters as bytes', () => {
    const envelope = createEnvelope({ ...base(), aggregate: { type: 'Task', id: 'élan' } });
    const record = toKinesisRecord(envelope);
    expect(record.size).toBe(record.data.byteLength + Buffer.byteLength('Task#élan'));
  });
});

describe('encodeEnvelope', () => {
  it('gives exactly the UTF-8 bytes TextEncoder gives, as a plain Uint8Array of its own bytes', () => {
    const texts = ['plain', 'élan — ünïcödé', 'emoji 🚀 and CJK 漢字', 'lone surrogate \ud800 end'];
    const encoded = texts.map((text) => ({
      text,
      data: encodeEnvelope(createEnvelope({ ...base(), data: { text } })),
    }));
    // JSON.stringify escapes the lone surrogate, so even that text comes back as it was.
    // Encoding more envelopes (which reuses Node's buffer pool) leaves the earlier results intact.
    for (let i = 0; i < 200; i += 1) encodeEnvelope(createEnvelope(base()));
    for (const { text, data } of encoded) {
      expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
      const json = new TextDecoder().decode(data);
      expect(data).toEqual(new TextEncoder().encode(json));
      expect((JSON.parse(json) as { data: { text: string } }).data.text).toBe(text);
      expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')).toBe(json);
    }
  });

  it('counts a partition key with multi-byte characters by its UTF-8 bytes', () => {
    const envelope = createEnvelope({ ...base(), aggregate: { type: 'Task', id: '🚀-漢字-\ud800' } });
    const record = toKinesisRecord(envelope);
    const keyBytes = new TextEncoder().encode(record.partitionKey).byteLength;
    expect(keyBytes).toBe('Task#'.length + 4 + 1 + 6 + 1 + 3);
    expect(record.size).toBe(record.data.byteLength + keyBytes);
  });
});

describe('aggregate keys', () => {
  it('round-trips type and id, even when the id holds the separator', () => {
    expect(parseAggregateKey(aggregateKey({ type: 'Task', id: 'a#b' }))).toEqual({ type: 'Task', id: 'a#b' });
  });

  it('refuses keys longer than a Kinesis partition key', () => {
    expect(() => aggregateKey({ type: 'Task', id: 'x'.repeat(252) })).toThrow(/256/);
    expect(aggregateKey({ type: 'Task', id: 'x'.repeat(251) })).toHaveLength(256);
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
