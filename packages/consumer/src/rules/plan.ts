/**
 * The decision core for one aggregate: given its checkpoint, this batch's records of it and the
 * options, decide — with no I/O — what each record is: a candidate (applied in version order, or
 * held behind a gap), a late arrival of a skipped version that may still be applied, a duplicate,
 * or bad input to park with a reason. The I/O layer (`aggregate-run.ts`) runs the plan, one step
 * at a time as `next-step.ts` names them; what to do with each event that is next (run, skip, park,
 * or hold the aggregate because it cannot be read yet) is `event-verdict.ts`'s decision.
 */
import type { ParkReason } from '../types';
import { type FirstContact, firstContactMark } from './first-contact';
import { isImplausibleVersion, isMisrouted, reachableVersion } from './plausibility';
import { allSkipped, type SkippedRange, skippedRangeOf } from './skipped-ranges';

/** What the plan needs of a record. */
export interface PlannedRecord {
  readonly version: number;
  readonly partitionKey: string;
  readonly aggregateKey: string;
}

/** What the plan needs of a checkpoint. */
export interface CheckpointView {
  readonly exists: boolean;
  readonly mark: number;
  readonly held: ReadonlySet<number>;
  readonly skipped: readonly SkippedRange[];
}

/** Options the plan depends on. */
export interface PlanOptions {
  readonly firstContact: FirstContact;
  readonly maxVersionsAhead: number;
}

/** A record to park, and why. */
export interface ParkVerdict<T> {
  readonly record: T;
  readonly reason: Extract<
    ParkReason,
    'misrouted' | 'implausible-version' | 'arrived-after-gap-expired' | 'arrived-before-first-contact'
  >;
  /** For an arrival after a skip: the highest version applied after it. */
  readonly appliedAfter?: number;
  /** For an implausible version: the highest version the aggregate could reach. */
  readonly reach?: number;
}

/** The plan of one aggregate in one batch. */
export interface AggregatePlan<T> {
  /** The mark to start from (for a new aggregate: the first-contact rule's). */
  readonly mark: number;
  /** Versions a mid-stream start skips (to remember and report). */
  readonly firstContactSkip?: SkippedRange;
  /** Records above the mark, by version: applied in order, or held behind a gap. */
  readonly candidates: Map<number, T>;
  /** Skipped versions that arrived while nothing after them was applied: applied first, in order. */
  readonly lateArrivals: T[];
  /** Records at or below the mark (or repeated in the batch). */
  readonly duplicates: T[];
  /** Bad input. */
  readonly parks: ParkVerdict<T>[];
}

/** Plans one aggregate's records of one batch. */
export function planAggregate<T extends PlannedRecord>(
  checkpoint: CheckpointView,
  records: readonly T[],
  options: PlanOptions,
): AggregatePlan<T> {
  const parks: ParkVerdict<T>[] = [];
  const routed: T[] = [];
  for (const record of records) {
    if (isMisrouted(record.partitionKey, record.aggregateKey)) parks.push({ record, reason: 'misrouted' });
    else routed.push(record);
  }

  let mark = checkpoint.mark;
  let firstContactSkip: SkippedRange | undefined;
  if (!checkpoint.exists) {
    const start = firstContactMark(
      options.firstContact,
      routed.map((record) => record.version),
    );
    mark = start.mark;
    firstContactSkip = start.skipped;
  }
  const skipped = firstContactSkip ? [...checkpoint.skipped, firstContactSkip] : checkpoint.skipped;

  const present = new Set<number>(checkpoint.held);
  for (const record of routed) if (record.version > mark) present.add(record.version);
  const reach = reachableVersion(mark, present);

  const candidates = new Map<number, T>();
  const late = new Map<number, T>();
  const duplicates: T[] = [];
  for (const record of routed) {
    const { version } = record;
    if (version > mark) {
      if (isImplausibleVersion(version, reach, options.maxVersionsAhead)) {
        parks.push({ record, reason: 'implausible-version', reach });
      } else if (candidates.has(version)) {
        duplicates.push(record);
      } else {
        candidates.set(version, record);
      }
      continue;
    }
    const range = skippedRangeOf(skipped, version);
    if (range === undefined || late.has(version)) {
      duplicates.push(record);
      continue;
    }
    if (allSkipped(skipped, version + 1, mark)) {
      late.set(version, record);
    } else {
      parks.push({
        record,
        reason:
          range.cause === 'first-contact' ? 'arrived-before-first-contact' : 'arrived-after-gap-expired',
        appliedAfter: mark,
      });
    }
  }
  return {
    mark,
    ...(firstContactSkip ? { firstContactSkip } : {}),
    candidates,
    lateArrivals: [...late.values()].sort((a, b) => a.version - b.version),
    duplicates,
    parks,
  };
}
