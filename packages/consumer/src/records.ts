/**
 * Reading Kinesis records into envelopes, and the raw-record form kept for held records and dead
 * letters. A record holds one envelope, or a packed run of one aggregate's events (the CloudEvents
 * JSON batch format the publisher writes): each event of it is read on its own, into a record
 * that carries the Kinesis record's position in the batch and coordinates and that event's data
 * alone, so the rules apply per event and a held record or dead letter stores one event.
 */
import {
  aggregateKey,
  type DecodedEnvelopeEntry,
  decodeEnvelopeRecord,
  EnvelopeDecodeError,
  type EnvelopeValidationError,
  type EventEnvelope,
  InvalidAggregateError,
} from '@tidemark/core';
import type { StoredRecord } from './stored-record';
import type { KinesisRecord, RecordSource } from './types';

/** An event read into a valid envelope (a record, or one event of a packed record). */
export interface EventRecord {
  readonly kind: 'event';
  /**
   * Position of its Kinesis record in the batch (`-1` for a held or redriven record); the events of
   * one packed record share it.
   */
  readonly index: number;
  readonly stored: StoredRecord;
  readonly envelope: EventEnvelope;
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
}

/** A record, or one entry of a packed record, that is not a valid envelope. */
export interface BadRecord {
  readonly kind: 'bad';
  readonly index: number;
  readonly stored: StoredRecord;
  readonly reason: 'undecodable' | 'invalid-envelope';
  readonly error: EnvelopeDecodeError | EnvelopeValidationError | InvalidAggregateError;
}

export type ReadRecord = EventRecord | BadRecord;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Turns a Lambda Kinesis record into its stored form (data as bytes, arrival as ISO time). Data
 * that is not strict base64 (Lambda always sends base64, but a hand-made event may not) is kept as
 * the text it was, marked `dataEncoding: 'text'`, and read as undecodable.
 */
export function storedRecordOf(record: KinesisRecord): StoredRecord {
  const raw: unknown = record.kinesis?.data;
  const base64 = typeof raw === 'string' && raw.length % 4 === 0 && BASE64.test(raw);
  const data = base64 ? bytesOfBase64(raw) : new TextEncoder().encode(String(raw));
  return {
    data,
    ...(base64 ? {} : { dataEncoding: 'text' as const }),
    dataBytes: data.byteLength,
    sequenceNumber: record.kinesis.sequenceNumber,
    eventID: record.eventID,
    eventSourceARN: record.eventSourceARN,
    partitionKey: record.kinesis.partitionKey,
    arrivedAt: arrivalTime(record.kinesis.approximateArrivalTimestamp),
  };
}

/**
 * Reads a Kinesis record of the batch into its events: one for a plain envelope, one per entry of
 * a packed record (in order), or one bad record when the data cannot be read at all.
 */
export function readKinesisRecord(stored: StoredRecord, index: number): ReadRecord[] {
  if (stored.dataEncoding === 'text') {
    return [
      {
        kind: 'bad',
        index,
        stored,
        reason: 'undecodable',
        error: new EnvelopeDecodeError('the record data is not base64', { length: stored.dataBytes }),
      },
    ];
  }
  const decoded = decodeEnvelopeRecord(stored.data);
  if (decoded.format !== 'batch') return [readEntry(stored, index, decoded.entries[0]!)];
  const size = decoded.entries.length;
  const { data: _data, dataBytes: _dataBytes, ...coordinates } = stored;
  return decoded.entries.map((entry) => {
    // The entry's own JSON, encoded only if the event is held or parked (enumerable: stored with it).
    const entryStored = Object.defineProperties(
      { ...coordinates, batch: { position: entry.position, size } },
      {
        data: { enumerable: true, get: () => entry.data },
        dataBytes: { enumerable: true, get: () => entry.data.byteLength },
      },
    ) as StoredRecord;
    return readEntry(entryStored, index, entry);
  });
}

/**
 * Reads a stored record that holds one event (from the held store or a dead letter, which keep the
 * events of a packed record one by one).
 */
export function readStoredRecord(stored: StoredRecord, index: number): ReadRecord {
  const reads = readKinesisRecord(stored, index);
  if (reads.length === 1) return reads[0]!;
  return {
    kind: 'bad',
    index,
    stored,
    reason: 'undecodable',
    error: new EnvelopeDecodeError('a stored record holds several events where one was expected', {
      events: reads.length,
    }),
  };
}

function readEntry(stored: StoredRecord, index: number, entry: DecodedEnvelopeEntry): ReadRecord {
  if (!entry.success) {
    return {
      kind: 'bad',
      index,
      stored,
      reason: entry.error.code === 'ENVELOPE_UNDECODABLE' ? 'undecodable' : 'invalid-envelope',
      error: entry.error,
    };
  }
  const envelope = entry.envelope;
  const aggregate = { type: envelope.aggregatetype, id: envelope.aggregateid };
  try {
    return { kind: 'event', index, stored, envelope, aggregate, aggregateKey: aggregateKey(aggregate) };
  } catch (error) {
    if (error instanceof InvalidAggregateError)
      return { kind: 'bad', index, stored, reason: 'invalid-envelope', error };
    throw error;
  }
}

/** Where a stored record came from, for handlers and logs. */
export function recordSourceOf(stored: StoredRecord): RecordSource {
  return {
    sequenceNumber: stored.sequenceNumber,
    eventID: stored.eventID,
    eventSourceARN: stored.eventSourceARN,
    partitionKey: stored.partitionKey,
    arrivedAt: stored.arrivedAt,
    ...(stored.batch ? { batch: stored.batch } : {}),
  };
}

/** The decoded bytes as a plain `Uint8Array` viewing exactly them (no second copy). */
function bytesOfBase64(base64: string): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The records of one PutRecords call share their arrival time: a batch mostly repeats the last one.
let lastArrival: { readonly seconds: number; readonly iso: string } | undefined;

function arrivalTime(seconds: number): string {
  const finite = typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : 0;
  if (lastArrival?.seconds !== finite) {
    lastArrival = { seconds: finite, iso: new Date(finite * 1000).toISOString() };
  }
  return lastArrival.iso;
}
