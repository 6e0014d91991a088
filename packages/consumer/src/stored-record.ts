/** A Kinesis record as the consumer stores it (held or parked): its data as bytes and its coordinates. */
import type { RecordBatchPosition } from './types';

/** A raw Kinesis record as stored (data as bytes). */
export interface StoredRecord {
  readonly data: Uint8Array;
  /** `'text'` when Lambda's `data` was not base64: `data` then holds that text (UTF-8). */
  readonly dataEncoding?: 'text';
  readonly dataTruncated?: boolean;
  readonly dataBytes: number;
  /** Items the data takes beyond the one holding its first part (dead letters; absent: none). */
  readonly dataChunks?: number;
  readonly sequenceNumber: string;
  readonly eventID: string;
  readonly eventSourceARN: string;
  readonly partitionKey: string;
  readonly arrivedAt: string;
  /** For an event of a packed record: its position and the events the record packs (`data` is that event alone). */
  readonly batch?: RecordBatchPosition;
}
