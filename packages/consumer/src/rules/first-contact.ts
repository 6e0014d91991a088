/**
 * Rule: where an aggregate without a checkpoint starts.
 *
 * `'require-first'` (the default) starts every aggregate before version 1: any later version that
 * arrives first is held as a gap, so an earlier version delivered later (the publisher keeps order
 * only within one of its batches; resharding interleaves shards) is never taken for a duplicate.
 * `'any-version'` is for a consumer started on a stream whose older history it will never see:
 * it starts each aggregate at the lowest version of its first batch and reports the versions it
 * skipped (a remembered skipped range, a log line and the `VersionsSkipped` metric).
 */
import type { SkippedRange } from './skipped-ranges';

/** The first-contact policy. */
export type FirstContact = 'require-first' | 'any-version';

/** The mark a new aggregate starts at, and the versions that start skips. */
export function firstContactMark(
  policy: FirstContact,
  versions: readonly number[],
): { mark: number; skipped?: SkippedRange } {
  if (policy === 'require-first' || versions.length === 0) return { mark: 0 };
  const lowest = Math.min(...versions);
  if (lowest <= 1) return { mark: 0 };
  return { mark: lowest - 1, skipped: { from: 1, to: lowest - 1, cause: 'first-contact' } };
}
