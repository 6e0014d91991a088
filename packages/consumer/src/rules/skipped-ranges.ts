/**
 * Rule: skipped versions are remembered.
 *
 * When a gap expires (or a mid-stream consumer starts an aggregate past version 1), the versions
 * jumped over are kept as ranges in the checkpoint. An event of such a range that arrives later is
 * applied if nothing after it has been applied, otherwise parked: never dropped as a duplicate.
 */
import { MAX_SKIPPED_RANGES } from '../limits';

/** Why versions were skipped. */
export type SkipCause = 'gap-expired' | 'first-contact';

/** Versions `from`..`to` (inclusive) that were skipped without being applied. */
export interface SkippedRange {
  readonly from: number;
  readonly to: number;
  readonly cause: SkipCause;
}

/** The range that holds `version`, if any. */
export function skippedRangeOf(ranges: readonly SkippedRange[], version: number): SkippedRange | undefined {
  return ranges.find((range) => range.from <= version && version <= range.to);
}

/** Whether every version in `from`..`to` lies in a skipped range (an empty span is covered). */
export function allSkipped(ranges: readonly SkippedRange[], from: number, to: number): boolean {
  let next = from;
  for (const range of ranges) {
    if (next > to) break;
    if (range.to < next) continue;
    if (range.from > next) return false;
    next = range.to + 1;
  }
  return next > to;
}

/**
 * Adds a range (ranges stay sorted and disjoint). Beyond {@link MAX_SKIPPED_RANGES} the two oldest
 * ranges merge: the versions between them (applied ones) would then be parked, not dropped, if
 * delivered again, so the bound costs reports, never events.
 */
export function addSkipped(ranges: readonly SkippedRange[], range: SkippedRange): SkippedRange[] {
  const result = [...ranges, range].sort((a, b) => a.from - b.from);
  while (result.length > MAX_SKIPPED_RANGES) {
    const [first, second] = result;
    result.splice(0, 2, { from: first!.from, to: second!.to, cause: second!.cause });
  }
  return result;
}

/** Removes one version from the ranges (it arrived and was applied or parked). */
export function removeSkipped(ranges: readonly SkippedRange[], version: number): SkippedRange[] {
  const result: SkippedRange[] = [];
  for (const range of ranges) {
    if (version < range.from || version > range.to) {
      result.push(range);
      continue;
    }
    if (range.from < version) result.push({ ...range, to: version - 1 });
    if (version < range.to) result.push({ ...range, from: version + 1 });
  }
  return result;
}
