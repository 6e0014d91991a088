/** Reading Kinesis records into envelopes, and the raw-record form kept for held records and dead letters. */
import {
  aggregateKey,
  EnvelopeDecodeError,
  type EnvelopeValidationError,
  type EventEnvelope,
  InvalidAggregateError,
  safeDecodeEnvelope,
} from '@tidemark/core';
import type { StoredRecord } from './table';
import type { KinesisRecord, RecordSource } from './types';

/** A record read into a valid envelope. */
export interface EventRecord {
  readonly kind: 'event';
  /** Position in the batch (`-1` for a held or redriven record). */
  readonly index: number;
  readonly stored: StoredRecord;
  readonly envelope: EventEnvelope;
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
}

/** A record that is not a valid envelope. */
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

/** Reads a stored record (from the batch, the held store or a dead letter). */
export function readStoredRecord(stored: StoredRecord, index: number): ReadRecord {
  if (stored.dataEncoding === 'text') {
    return {
      kind: 'bad',
      index,
      stored,
      reason: 'undecodable',
      error: new EnvelopeDecodeError('the record data is not base64', { length: stored.dataBytes }),
    };
  }
  const result = safeDecodeEnvelope(stored.data);
  if (!result.success) {
    return {
      kind: 'bad',
      index,
      stored,
      reason: result.error.code === 'ENVELOPE_UNDECODABLE' ? 'undecodable' : 'invalid-envelope',
      error: result.error,
    };
  }
  const envelope = result.envelope;
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
