import { RecordTooLargeError } from './errors';

/** The Kinesis service limits that Tidemark plans batches and refuses events by. */
export const KINESIS_LIMITS = Object.freeze({
  /** Data plus partition key of one record, in bytes (1 MiB). */
  maxRecordBytes: 1_048_576,
  /** Records in one PutRecords call. */
  maxRecordsPerPutRecords: 500,
  /** Data plus partition keys of one PutRecords call, in bytes (5 MiB). */
  maxPutRecordsBytes: 5 * 1_048_576,
  /** Characters of a partition key. */
  maxPartitionKeyLength: 256,
});

/** DynamoDB's item size limit (400 KB), which bounds an event-log item. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/** UTF-8 length of a string, in bytes (counted without encoding it). */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * What one record costs against the Kinesis limits: the UTF-8 partition key plus the data.
 */
export function kinesisRecordSize(partitionKey: string, data: Uint8Array): number {
  return utf8Length(partitionKey) + data.byteLength;
}

/**
 * Throws {@link RecordTooLargeError} when a record would be refused by Kinesis.
 */
export function assertFitsKinesisRecord(
  partitionKey: string,
  data: Uint8Array,
  context: Record<string, unknown> = {},
): void {
  const size = kinesisRecordSize(partitionKey, data);
  if (size > KINESIS_LIMITS.maxRecordBytes) {
    throw new RecordTooLargeError(
      'Kinesis record (partition key + encoded envelope)',
      size,
      KINESIS_LIMITS.maxRecordBytes,
      { ...context, partitionKey },
    );
  }
}
