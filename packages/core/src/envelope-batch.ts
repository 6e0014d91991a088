/**
 * Several envelopes in one Kinesis record: the CloudEvents JSON batch format
 * (`application/cloudevents-batch+json`), a JSON array of structured-mode events. The publisher
 * packs a run of one aggregate's versions into one record this way; a record holding a single
 * event stays a plain envelope (a JSON object), so readers tell the two apart by the first
 * character of the JSON. Decoding returns one result per entry, so one bad entry never makes its
 * neighbours unreadable.
 */
import {
  type EventEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
  isPlainObject,
  type KinesisRecordInput,
  type SafeDecodeResult,
  validateEnvelope,
} from './envelope';
import { EnvelopeDecodeError, EnvelopeValidationError, RecordTooLargeError } from './errors';
import { KINESIS_LIMITS, utf8Length } from './limits';

/** The media type of a record holding several envelopes (CloudEvents JSON batch format). */
export const ENVELOPE_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,

/**
 * The bytes of a batch record's data holding entries of the given encoded sizes: the brackets, the
 * entries and the commas between them (no whitespace).
 *
 * @example
 * ```ts
 * import { envelopeBatchDataLength } from '@tidemark/core';
 * envelopeBatchDataLength([300, 300]); // 603: '[' + 300 + ',' + 300 + ']'
 * ```
 */
export function envelopeBatchDataLength(entryByteLengths: readonly number[]): number {
  let total = 2 + Math.max(entryByteLengths.length - 1, 0);
  for (const length of entryByteLengths) total += length;
  return total;
}

/**
 * Joins envelopes already encoded with `encodeEnvelope` into the data of one batch record
 * (`[e1,e2,…]`), without encoding them again. It does not check sizes: see {@link toKinesisBatchRecord}.
 *
 * @example
 * ```ts
 * import { encodeEnvelope, joinEncodedEnvelopes } from '@tidemark/core';
 * const data = joinEncodedEnvelopes(envelopes.map(encodeEnvelope));
 * ```
 */
export function joinEncodedEnvelopes(entries: readonly Uint8Array[]): Uint8Array {
  const data = new Uint8Array(envelopeBatchDataLength(entries.map((entry) => entry.byteLength)));
  data[0] = OPEN;
  let offset = 1;
  entries.forEach((entry, position) => {
    if (position > 0) {
      data[offset] = COMMA;
      offset += 1;
    }
    data.set(entry, offset);
    offset += entry.byteLength;
  });
  data[offset] = CLOSE;
  return data;
}

/**
 * Encodes envelopes as one CloudEvents JSON batch (a JSON array, UTF-8). It does not validate.
 *
 * @example
 * ```ts
 * import { encodeEnvelopeBatch } from '@tidemark/core';
 * const data = encodeEnvelopeBatch([first, second]); // '[{…},{…}]' as bytes
 * ```
 */
export function encodeEnvelopeBatch(envelopes: readonly EventEnvelope[]): Uint8Array {
  return joinEncodedEnvelopes(envelopes.map(encodeEnvelope));
}

/**
 * Encodes envelopes of one aggregate as one Kinesis record in the batch format, and checks it
 * fits: partition key + data at most 1 MiB. Throws {@link RecordTooLargeError} otherwise, and a
 * `TypeError` when the envelopes are none or belong to more than one aggregate (one record has one
 * partition key).
 *
 * @example
 * ```ts
 * import { toKinesisBatchRecord } from '@tidemark/core';
 * const { partitionKey, data, size } = toKinesisBatchRecord([v1, v2, v3]);
 * ```
 */
export function toKinesisBatchRecord(envelopes: readonly EventEnvelope[]): KinesisRecordInput {
  const first = envelopes[0];
  if (first === undefined) throw new TypeError('toKinesisBatchRecord: give at least one envelope');
  const partitionKey = envelopePartitionKey(first);
  for (const envelope of envelopes) {
    if (envelopePartitionKey(envelope) !== partitionKey) {
      throw new TypeError(
        `toKinesisBatchRecord: every envelope must belong to ${partitionKey}, not ${envelopePartitionKey(envelope)}`,
      );
    }
  }
  const data = encodeEnvelopeBatch(envelopes);
  const size = utf8Length(partitionKey) + data.byteLength;
  if (size > KINESIS_LIMITS.maxRecordBytes) {
    throw new RecordTooLargeError(
      'Kinesis record (partition key + encoded envelope batch)',
      size,
      KINESIS_LIMITS.maxRecordBytes,
      {
        partitionKey,
        events: envelopes.length,
        fromVersion: first.aggregateversion,
        toVersion: envelopes[envelopes.length - 1]!.aggregateversion,
      },
    );
  }
  return { partitionKey, data, size };
}

/** One entry of a decoded record, with the JSON text of that entry alone. */
export type DecodedEnvelopeEntry = SafeDecodeResult & {
  /** The entry's position in a batch (0 for a single envelope or a record that cannot be read). */
  readonly position: number;
  /**
   * The entry on its own as UTF-8 JSON (a batch entry re-encoded without its neighbours, on first
   * read; the record's data for a single envelope or an unreadable record), to store or re-read it
   * alone.
   */
  readonly data: Uint8Array;
};

/** What {@link decodeEnvelopeRecord} found in a record's data. */
export interface DecodedEnvelopeRecord {
  /**
   * `'single'`: one envelope (a JSON object); `'batch'`: a CloudEvents JSON batch (a JSON array);
   * `'unreadable'`: neither (not UTF-8, not JSON, a JSON scalar, or an empty batch).
   */
  readonly format: 'single' | 'batch' | 'unreadable';
  /**
   * One result per event: for a batch, one per array element, in order; otherwise exactly one
   * (an unreadable record is one failure for the whole record).
   */
  readonly entries: readonly DecodedEnvelopeEntry[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a Kinesis record's data that holds one envelope or a CloudEvents JSON batch of them,
 * without throwing for bad input: each batch entry is validated on its own, so an entry that is
 * not a valid envelope is a failure of that entry only, and data that is not UTF-8 JSON of an
 * object or a non-empty array is one failure for the record.
 *
 * @example
 * ```ts
 * import { decodeEnvelopeRecord } from '@tidemark/core';
 *
 * const { entries } = decodeEnvelopeRecord(Buffer.from(record.kinesis.data, 'base64'));
 * for (const entry of entries) {
 *   if (entry.success) apply(entry.envelope);
 *   else park(entry.data, entry.error);
 * }
 * ```
 */
export function decodeEnvelopeRecord(input: Uint8Array | string): DecodedEnvelopeRecord {
  const bytes = typeof input === 'string' ? undefined : input;
  const unreadable = (error: EnvelopeDecodeError): DecodedEnvelopeRecord => ({
    format: 'unreadable',
    entries: [
      {
        success: false,
        error,
        position: 0,
        data: bytes ?? encoder.encode(input as string),
      },
    ],
  });
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch (cause) {
      return unreadable(
        new EnvelopeDecodeError('the data is not valid UTF-8', { byteLength: input.byteLength }, { cause }),
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return unreadable(
      new EnvelopeDecodeError(
        'the data is not JSON',
        { length: text.length, start: text.slice(0, 32) },
        { cause },
      ),
    );
  }
  if (isPlainObject(value)) {
    return {
      format: 'single',
      entries: [{ ...validateEntry(value, {}), position: 0, data: bytes ?? encoder.encode(text) }],
    };
  }
  if (!Array.isArray(value)) {
    return unreadable(
      new EnvelopeDecodeError('the JSON is neither an object nor a batch (array)', {
        jsonType: value === null ? 'null' : typeof value,
      }),
    );
  }
  if (value.length === 0) {
    return unreadable(new EnvelopeDecodeError('the batch holds no events', { jsonType: 'array' }));
  }
  return {
    format: 'batch',
    entries: value.map((entry: unknown, position) => {
      const batch = { batchPosition: position, batchSize: value.length };
      if (!isPlainObject(entry)) {
        const error = new EnvelopeDecodeError('a batch entry is not a JSON object', {
          ...batch,
          jsonType: entry === null ? 'null' : Array.isArray(entry) ? 'array' : typeof entry,
        });
        return withEntryData({ success: false, error }, position, entry);
      }
      return withEntryData(validateEntry(entry, batch), position, entry);
    }),
  };
}

/**
 * A batch entry with its own JSON as `data`, encoded on first read (readers that store an entry
 * alone, to hold or park it, pay for it; readers that apply it do not). Enumerable, so a spread or
 * a marshal copies it.
 */
function withEntryData(result: SafeDecodeResult, position: number, value: unknown): DecodedEnvelopeEntry {
  let data: Uint8Array | undefined;
  return Object.defineProperty({ ...result, position }, 'data', {
    enumerable: true,
    get: () => {
      data ??= encoder.encode(JSON.stringify(value));
      return data;
    },
  }) as DecodedEnvelopeEntry;
}

function validateEntry(value: Record<string, unknown>, context: Record<string, unknown>): SafeDecodeResult {
  try {
    return { success: true, envelope: validateEnvelope(value) };
  } catch (error) {
    if (!(error instanceof EnvelopeValidationError)) throw error;
    if (Object.keys(context).length === 0) return { success: false, error };
    return {
      success: false,
      error: new EnvelopeValidationError(error.issues, {
        ...withoutIssues(error.context),
        ...context,
      }),
    };
  }
}

function withoutIssues(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { issues: _issues, ...rest } = context;
  return rest;
}
