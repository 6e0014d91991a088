/**
 * PutRecords, PutRecord, GetShardIterator and GetRecords with Kinesis' limits: 500 records and
 * 5 MiB per PutRecords, 1 MiB per record counting data and partition key, partition keys of 1–256
 * characters; entries that fail in place keep their position in the answer.
 */
import type {
  GetRecordsCommandInput,
  GetRecordsCommandOutput,
  GetShardIteratorCommandInput,
  GetShardIteratorCommandOutput,
  PutRecordCommandInput,
  PutRecordCommandOutput,
  PutRecordsCommandInput,
  PutRecordsCommandOutput,
  PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { KinesisFaultPlan } from './fault-plan';
import { hashKeyOf, parseHashKey } from './hash-keys';
import { FAKE_ACCOUNT_ID, type KinesisState } from './kinesis-state';
import { KinesisModelError } from './service-errors';
import type { ShardState, StreamState } from './stream-state';

/** The most records of one PutRecords call. */
export const MAX_PUT_RECORDS = 500;
/** The most bytes of one PutRecords call, data and partition keys (5 MiB). */
export const MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024;
/** The most bytes of one record, data and partition key (1 MiB). */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** The longest partition key, in characters. */
export const MAX_PARTITION_KEY_LENGTH = 256;
/** The most records one GetRecords call returns. */
export const MAX_GET_RECORDS = 10_000;
/** The most bytes one GetRecords call returns (10 MiB). */
export const MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024;
/** How long a shard iterator stays valid (5 minutes). */
export const SHARD_ITERATOR_TTL_MS = 5 * 60 * 1000;

type Output<T> = Omit<T, '$metadata'>;

/** The limits a model enforces (the services' by default). */
export interface KinesisLimits {
  /** The most bytes of one record, data and partition key. @default 1 MiB */
  readonly maxRecordBytes: number;
}

interface CheckedRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly hashKey: bigint;
  readonly bytes: number;
}

function checkRecord(
  record: { Data?: Uint8Array; PartitionKey?: string; ExplicitHashKey?: string },
  at: string,
  limits: KinesisLimits,
): CheckedRecord {
  const { Data: data, PartitionKey: partitionKey, ExplicitHashKey: explicit } = record ?? {};
  if (!(data instanceof Uint8Array)) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value null at '${at}.data' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (typeof partitionKey !== 'string') {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value null at '${at}.partitionKey' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (partitionKey.length < 1 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value '${partitionKey.slice(0, 64)}' at '${at}.partitionKey' failed to satisfy constraint: Member must have length ${partitionKey.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_PARTITION_KEY_LENGTH}`}`,
    );
  }
  if (data.byteLength > limits.maxRecordBytes) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value at '${at}.data' failed to satisfy constraint: Member must have length less than or equal to ${limits.maxRecordBytes}`,
    );
  }
  const bytes = data.byteLength + Buffer.byteLength(partitionKey, 'utf8');
  if (bytes > limits.maxRecordBytes) {
    throw new KinesisModelError(
      'InvalidArgumentException',
      `Record size (data and partition key) of ${bytes} bytes exceeds the limit of ${limits.maxRecordBytes} bytes at ${at}`,
    );
  }
  let hashKey: bigint;
  if (explicit !== undefined) {
    if (typeof explicit !== 'string' || !/^(0|[1-9]\d{0,38})$/.test(explicit)) {
      throw new KinesisModelError(
        'ValidationException',
        `1 validation error detected: Value '${String(explicit)}' at '${at}.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})`,
      );
    }
    const parsed = parseHashKey(explicit);
    if (parsed === undefined) {
      throw new KinesisModelError(
        'InvalidArgumentException',
        `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicit}`,
      );
    }
    hashKey = parsed;
  } else hashKey = hashKeyOf(partitionKey);
  return { data, partitionKey, hashKey, bytes };
}

function failureMessage(code: string, shard: ShardState, stream: StreamState): string {
  return code === 'InternalFailure'
    ? 'Internal service failure.'
    : `Rate exceeded for shard ${shard.shardId} in stream ${stream.name} under account ${FAKE_ACCOUNT_ID}.`;
}

/** PutRecords. */
export function putRecords(
  state: KinesisState,
  input: PutRecordsCommandInput,
  faults: KinesisFaultPlan,
  limits: KinesisLimits,
  now: Date,
): Output<PutRecordsCommandOutput> {
  const records = input.Records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_PUT_RECORDS) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length ${Array.isArray(records) && records.length > 0 ? `less than or equal to ${MAX_PUT_RECORDS}` : 'greater than or equal to 1'}`,
    );
  }
  const stream = state.stream(input);
  const checked = records.map((record, index) => checkRecord(record, `records.${index + 1}.member`, limits));
  const total = checked.reduce((sum, record) => sum + record.bytes, 0);
  if (total > MAX_PUT_RECORDS_BYTES) {
    throw new KinesisModelError(
      'InvalidArgumentException',
      `Records size exceeds 5 MB limit (${total} bytes of data and partition keys)`,
    );
  }
  let failed = 0;
  const results: PutRecordsResultEntry[] = checked.map((record) => {
    const shard = stream.shardFor(record.hashKey);
    const failure = faults.entryFailure();
    if (failure) {
      failed += 1;
      return { ErrorCode: failure, ErrorMessage: failureMessage(failure, shard, stream) };
    }
    const stored = stream.append(shard, record.data, record.partitionKey, now);
    return { SequenceNumber: stored.SequenceNumber, ShardId: shard.shardId };
  });
  return { FailedRecordCount: failed, Records: results, EncryptionType: 'NONE' };
}

/** PutRecord: an entry failure is the call's error. */
export function putRecord(
  state: KinesisState,
  input: PutRecordCommandInput,
  faults: KinesisFaultPlan,
  limits: KinesisLimits,
  now: Date,
):
  | Output<PutRecordCommandOutput>
  | { failure: 'ProvisionedThroughputExceededException' | 'InternalFailure'; message: string } {
  const stream = state.stream(input);
  const record = checkRecord(input, 'record', limits);
  const shard = stream.shardFor(record.hashKey);
  const failure = faults.entryFailure();
  if (failure) return { failure, message: failureMessage(failure, shard, stream) };
  const stored = stream.append(shard, record.data, record.partitionKey, now);
  return { ShardId: shard.shardId, SequenceNumber: stored.SequenceNumber, EncryptionType: 'NONE' };
}

interface IteratorState {
  readonly stream: string;
  readonly shardId: string;
  readonly position: number;
  readonly issuedAt: number;
}

function encodeIterator(iterator: IteratorState): string {
  return Buffer.from(JSON.stringify(iterator), 'utf8').toString('base64');
}

function decodeIterator(text: unknown): IteratorState {
  try {
    const parsed = JSON.parse(Buffer.from(String(text), 'base64').toString('utf8')) as IteratorState;
    if (
      typeof parsed.stream === 'string' &&
      typeof parsed.shardId === 'string' &&
      Number.isInteger(parsed.position) &&
      typeof parsed.issuedAt === 'number'
    ) {
      return parsed;
    }
  } catch {
    // fall through: not one of this model's iterators
  }
  throw new KinesisModelError('InvalidArgumentException', 'Invalid ShardIterator.');
}

function shardOf(stream: StreamState, shardId: unknown): ShardState {
  const shard = typeof shardId === 'string' ? stream.shard(shardId) : undefined;
  if (!shard) {
    throw new KinesisModelError(
      'ResourceNotFoundException',
      `Shard ${String(shardId)} in stream ${stream.name} under account ${FAKE_ACCOUNT_ID} does not exist`,
    );
  }
  return shard;
}

/** GetShardIterator. */
export function getShardIterator(
  state: KinesisState,
  input: GetShardIteratorCommandInput,
  now: number,
): Output<GetShardIteratorCommandOutput> {
  const stream = state.stream(input);
  const shard = shardOf(stream, input.ShardId);
  const records = shard.records;
  let position: number;
  switch (input.ShardIteratorType) {
    case 'TRIM_HORIZON':
      position = 0;
      break;
    case 'LATEST':
      position = records.length;
      break;
    case 'AT_SEQUENCE_NUMBER':
    case 'AFTER_SEQUENCE_NUMBER': {
      const text = input.StartingSequenceNumber;
      if (text === undefined || !/^\d{1,128}$/.test(text)) {
        throw new KinesisModelError(
          'InvalidArgumentException',
          `StartingSequenceNumber ${String(text)} used in GetShardIterator on shard ${shard.shardId} in stream ${stream.name} under account ${FAKE_ACCOUNT_ID} is invalid.`,
        );
      }
      const target = BigInt(text);
      const after = input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER';
      const index = records.findIndex((record) =>
        after ? BigInt(record.SequenceNumber) > target : BigInt(record.SequenceNumber) >= target,
      );
      position = index < 0 ? records.length : index;
      break;
    }
    case 'AT_TIMESTAMP': {
      if (!(input.Timestamp instanceof Date)) {
        throw new KinesisModelError(
          'InvalidArgumentException',
          'The timestampInMillis parameter cannot be null for ShardIteratorType AT_TIMESTAMP',
        );
      }
      const at = input.Timestamp.getTime();
      const index = records.findIndex((record) => record.ApproximateArrivalTimestamp.getTime() >= at);
      position = index < 0 ? records.length : index;
      break;
    }
    default:
      throw new KinesisModelError(
        'ValidationException',
        `1 validation error detected: Value '${String(input.ShardIteratorType)}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]`,
      );
  }
  return {
    ShardIterator: encodeIterator({ stream: stream.name, shardId: shard.shardId, position, issuedAt: now }),
  };
}

/** GetRecords. */
export function getRecords(
  state: KinesisState,
  input: GetRecordsCommandInput,
  now: number,
): Output<GetRecordsCommandOutput> {
  const limit = input.Limit ?? MAX_GET_RECORDS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GET_RECORDS) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`,
    );
  }
  const iterator = decodeIterator(input.ShardIterator);
  if (now - iterator.issuedAt > SHARD_ITERATOR_TTL_MS) {
    throw new KinesisModelError(
      'ExpiredIteratorException',
      `Iterator expired. The iterator was created at time ${new Date(iterator.issuedAt).toISOString()} while right now it is ${new Date(now).toISOString()} which is further in the future than the tolerated delay of 300000 milliseconds.`,
    );
  }
  const stream = state.stream({ StreamName: iterator.stream });
  const shard = shardOf(stream, iterator.shardId);
  const returned = [];
  let bytes = 0;
  let position = iterator.position;
  while (position < shard.records.length && returned.length < limit) {
    const record = shard.records[position]!;
    const size = record.Data.byteLength + Buffer.byteLength(record.PartitionKey, 'utf8');
    if (returned.length > 0 && bytes + size > MAX_GET_RECORDS_BYTES) break;
    bytes += size;
    returned.push({ ...record, Data: Uint8Array.from(record.Data) });
    position += 1;
  }
  const atEnd = position >= shard.records.length;
  const millisBehindLatest = atEnd
    ? 0
    : Math.max(0, now - shard.records[position]!.ApproximateArrivalTimestamp.getTime());
  if (atEnd && shard.endingSequenceNumber !== undefined) {
    const children = stream.shards.filter(
      (candidate) =>
        candidate.parentShardId === shard.shardId || candidate.adjacentParentShardId === shard.shardId,
    );
    return {
      Records: returned,
      MillisBehindLatest: millisBehindLatest,
      ChildShards: children.map((child) => ({
        ShardId: child.shardId,
        ParentShards: [child.parentShardId, child.adjacentParentShardId].filter(
          (id): id is string => id !== undefined,
        ),
        HashKeyRange: { StartingHashKey: child.start.toString(), EndingHashKey: child.end.toString() },
      })),
    };
  }
  return {
    Records: returned,
    MillisBehindLatest: millisBehindLatest,
    NextShardIterator: encodeIterator({
      stream: stream.name,
      shardId: shard.shardId,
      position,
      issuedAt: now,
    }),
  };
}
