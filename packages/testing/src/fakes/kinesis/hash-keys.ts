/**
 * Kinesis hash keys: a record's key is the MD5 of its partition key (UTF-8) read as a 128-bit
 * unsigned integer, or its explicit hash key; each shard owns a contiguous range of keys.
 */
import { createHash } from 'node:crypto';

/** The largest hash key (2^128 − 1). */
export const MAX_HASH_KEY = 2n ** 128n - 1n;

/** The hash key of a partition key, as Kinesis computes it. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** Parses an explicit hash key (a decimal integer 0 … 2^128 − 1), or `undefined` when invalid. */
export function parseHashKey(text: string): bigint | undefined {
  if (!/^\d{1,39}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value <= MAX_HASH_KEY ? value : undefined;
}

/** The hash key ranges of `count` shards splitting the key space evenly (as CreateStream does). */
export function evenRanges(count: number): { start: bigint; end: bigint }[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, index) => ({
    start: width * BigInt(index),
    end: index === count - 1 ? MAX_HASH_KEY : width * BigInt(index + 1) - 1n,
  }));
}
