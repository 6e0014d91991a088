/**
 * Wave planning: the pure part of ordered publishing.
 *
 * A wave holds at most one Kinesis record per aggregate (partition key): the next unpublished
 * record of every aggregate that is not blocked (with packing, a run of its consecutive versions in
 * one record; see `ordered-publish.ts`). A wave is split into PutRecords calls within Kinesis'
 * limits (500 records, 5 MiB per call with partition keys), per target stream. Because a wave never
 * holds two records of one aggregate, its calls can run side by side, and a retry of a failed entry
 * can never land after a later record of the same aggregate.
 */
import { KINESIS_LIMITS } from '@tidemark/core';

/** What wave planning needs to know of a record. */
export interface WaveRecord {
  /** The aggregate key, which is also the partition key. */
  readonly key: string;
  /** The target stream (name or ARN). */
  readonly stream: string;
  /** Bytes against Kinesis limits: partition key + data. */
  readonly size: number;
}

/** Limits of one PutRecords call (defaults: Kinesis' own). */
export interface CallLimits {
  /** Records per call. Default: 500. */
  readonly maxRecords: number;
  /** Bytes per call, partition keys included. Default: 5 MiB. */
  readonly maxBytes: number;
}

/** Kinesis' PutRecords limits. */
export const PUT_RECORDS_LIMITS: CallLimits = Object.freeze({
  maxRecords: KINESIS_LIMITS.maxRecordsPerPutRecords,
  maxBytes: KINESIS_LIMITS.maxPutRecordsBytes,
});

/**
 * Splits one wave into PutRecords calls: grouped by stream (in order of first appearance), each call
 * filled in order up to the record and byte limits. A record over 1 MiB must not reach here.
 *
 * @example
 * ```ts
 * import { splitIntoCalls } from '@tidemark/publisher';
 *
 * const wave = keys.map((key) => ({ key, stream: 'task-events', size: 1_000 }));
 * splitIntoCalls(wave).length; // 2 for 1,000 records of 1 KB
 * ```
 */
export function splitIntoCalls<T extends WaveRecord>(
  wave: readonly T[],
  limits: CallLimits = PUT_RECORDS_LIMITS,
): T[][] {
  const byStream = new Map<string, T[]>();
  for (const record of wave) {
    const list = byStream.get(record.stream);
    if (list) list.push(record);
    else byStream.set(record.stream, [record]);
  }
  const calls: T[][] = [];
  for (const records of byStream.values()) {
    let current: T[] = [];
    let bytes = 0;
    for (const record of records) {
      if (
        current.length > 0 &&
        (current.length >= limits.maxRecords || bytes + record.size > limits.maxBytes)
      ) {
        calls.push(current);
        current = [];
        bytes = 0;
      }
      current.push(record);
      bytes += record.size;
    }
    if (current.length > 0) calls.push(current);
  }
  return calls;
}

/**
 * The waves a batch is published in when every record succeeds: wave `k` holds the `k`-th record of
 * each aggregate, in batch order. (The publisher computes waves lazily, so that a blocked
 * aggregate drops out, and packs runs of an aggregate's versions into one record by default; this
 * is the plan without failures and one event per record, as with `packRuns: false`.)
 *
 * @example
 * ```ts
 * import { planWaves } from '@tidemark/publisher';
 *
 * planWaves([{ key: 'A', stream: 's', size: 1 }, { key: 'A', stream: 's', size: 1 }, { key: 'B', stream: 's', size: 1 }]);
 * // [[A, B], [A]]
 * ```
 */
export function planWaves<T extends WaveRecord>(records: readonly T[]): T[][] {
  const seen = new Map<string, number>();
  const waves: T[][] = [];
  for (const record of records) {
    const position = seen.get(record.key) ?? 0;
    seen.set(record.key, position + 1);
    const wave = waves[position];
    if (wave) wave.push(record);
    else waves[position] = [record];
  }
  return waves;
}
