/** The decision core, without I/O: each rule on its own. */
import { describe, expect, it } from 'vitest';
import { MAX_SKIPPED_RANGES } from '../../src/limits';
import { attemptFor, attemptsExhausted } from '../../src/rules/attempts';
import { isWaitableFailure } from '../../src/rules/failure-kind';
import { firstContactMark } from '../../src/rules/first-contact';
import { expiredRange, gapExpiry } from '../../src/rules/gap-expiry';
import { planAggregate } from '../../src/rules/plan';
import { isImplausibleVersion, reachableVersion } from '../../src/rules/plausibility';
import { addSkipped, allSkipped, removeSkipped, skippedRangeOf } from '../../src/rules/skipped-ranges';

const record = (version: number, id = 'a', partitionKey = `Task#${id}`) => ({
  version,
  partitionKey,
  aggregateKey: `Task#${id}`,
});
const options = { firstContact: 'require-first' as const, maxVersionsAhead: 100 };
const fresh = { exists: false, mark: 0, held: new Set<number>(), skipped: [] };

describe('plan', () => {
  it('never takes an unseen earlier version for a duplicate on first contact by default', () => {
    const plan = planAggregate(fresh, [record(3), record(2)], options);

    expect(plan.mark).toBe(0);
    expect([...plan.candidates.keys()].sort()).toEqual([2, 3]);
    expect(plan.duplicates).toEqual([]);
  });

  it("starts mid-stream with 'any-version' and reports what it skips", () => {
    const plan = planAggregate(fresh, [record(7), record(5)], { ...options, firstContact: 'any-version' });

    expect(plan.mark).toBe(4);
    expect(plan.firstContactSkip).toEqual({ from: 1, to: 4, cause: 'first-contact' });
  });

  it('parks misrouted records and versions beyond the reach, not versions a chain reaches', () => {
    const checkpoint = { exists: true, mark: 10, held: new Set([12]), skipped: [] };
    const plan = planAggregate(
      checkpoint,
      [record(11), record(13), record(113), record(114), record(11, 'a', 'Task#b')],
      options,
    );

    // 11, 12 (held), 13 reach 13: 113 is 100 ahead (kept), 114 is 101 ahead (parked).
    expect([...plan.candidates.keys()].sort((x, y) => x - y)).toEqual([11, 13, 113]);
    expect(plan.parks.map((park) => [park.reason, park.record.version])).toEqual([
      ['misrouted', 11],
      ['implausible-version', 114],
    ]);
    expect(plan.duplicates).toEqual([]);
  });

  it('applies a skipped version while nothing after it was applied, parks it otherwise', () => {
    const skipped = [{ from: 3, to: 5, cause: 'gap-expired' as const }];
    const atTop = planAggregate(
      { exists: true, mark: 5, held: new Set(), skipped },
      [record(5), record(4)],
      options,
    );
    const below = planAggregate(
      { exists: true, mark: 7, held: new Set(), skipped },
      [record(4), record(2)],
      options,
    );

    expect(atTop.lateArrivals.map((late) => late.version)).toEqual([4, 5]);
    expect(below.parks).toEqual([
      expect.objectContaining({ reason: 'arrived-after-gap-expired', appliedAfter: 7 }),
    ]);
    expect(below.duplicates.map((duplicate) => duplicate.version)).toEqual([2]);
  });
});

describe('skipped ranges', () => {
  it('find, cover, remove and stay bounded', () => {
    const ranges = addSkipped([{ from: 8, to: 9, cause: 'gap-expired' }], {
      from: 2,
      to: 4,
      cause: 'first-contact',
    });

    expect(skippedRangeOf(ranges, 3)).toEqual({ from: 2, to: 4, cause: 'first-contact' });
    expect(allSkipped(ranges, 3, 4)).toBe(true);
    expect(allSkipped(ranges, 4, 8)).toBe(false);
    expect(removeSkipped(ranges, 3)).toEqual([
      { from: 2, to: 2, cause: 'first-contact' },
      { from: 4, to: 4, cause: 'first-contact' },
      { from: 8, to: 9, cause: 'gap-expired' },
    ]);
    let many: ReturnType<typeof addSkipped> = [];
    for (let index = 0; index < MAX_SKIPPED_RANGES + 10; index += 1) {
      many = addSkipped(many, { from: index * 3, to: index * 3 + 1, cause: 'gap-expired' });
    }
    expect(many).toHaveLength(MAX_SKIPPED_RANGES);
    // Merging keeps every skipped version covered.
    expect(allSkipped(many, 0, 1)).toBe(true);
  });
});

describe('gaps, attempts, plausibility, first contact', () => {
  it('expires a gap by age or by size, and names the missing range', () => {
    const base = { waiting: 2, openSinceMs: 0, nowMs: 59_000, gapTimeoutSeconds: 60, maxHeldPerAggregate: 2 };
    expect(gapExpiry(base)).toEqual({ expired: false });
    expect(gapExpiry({ ...base, nowMs: 60_000 })).toMatchObject({ expired: true });
    expect(gapExpiry({ ...base, waiting: 3 })).toMatchObject({ expired: true });
    expect(expiredRange(4, 9)).toEqual({ from: 5, to: 8, cause: 'gap-expired' });
  });

  it('counts attempts per version and knows when they are used up', () => {
    expect(attemptFor(undefined, 3)).toBe(1);
    expect(attemptFor({ version: 3, attempts: 2 }, 3)).toBe(3);
    expect(attemptFor({ version: 2, attempts: 2 }, 3)).toBe(1);
    expect(attemptsExhausted({ version: 3, attempts: 3 }, 3, 3)).toBe(true);
    expect(attemptsExhausted({ version: 3, attempts: 2 }, 3, 3)).toBe(false);
  });

  it('reaches through a run of present versions only', () => {
    expect(reachableVersion(4, new Set([5, 6, 8]))).toBe(6);
    expect(isImplausibleVersion(10_007, 6, 10_000)).toBe(true);
    expect(isImplausibleVersion(10_006, 6, 10_000)).toBe(false);
    expect(firstContactMark('require-first', [9])).toEqual({ mark: 0 });
    expect(firstContactMark('any-version', [1, 2])).toEqual({ mark: 0 });
  });
});

describe('failure kind', () => {
  const error = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), {
      name,
      ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
      ...extra,
    });

  it.each([
    ['ProvisionedThroughputExceededException', 400],
    ['ThrottlingException', 400],
    ['TransactionConflictException', 400],
    ['InternalServerError', 500],
    ['SomethingNew', 503],
    ['TimeoutError', undefined],
  ])('%s passes by waiting', (name, status) => {
    expect(isWaitableFailure(error(name, status))).toBe(true);
  });

  it.each([
    ['ResourceNotFoundException', 400],
    ['AccessDeniedException', 400],
    ['ValidationException', 400],
    ['ConditionalCheckFailedException', 400],
    ['UnrecognizedClientException', 400],
  ])('%s repeats on every delivery', (name, status) => {
    expect(isWaitableFailure(error(name, status))).toBe(false);
  });

  it('judges a cancelled transaction by its reasons, and a store error by its cause', () => {
    const cancelled = (codes: string[]) =>
      error('TransactionCanceledException', 400, { CancellationReasons: codes.map((Code) => ({ Code })) });
    expect(isWaitableFailure(cancelled(['None', 'TransactionConflict']))).toBe(true);
    expect(isWaitableFailure(cancelled(['ConditionalCheckFailed', 'TransactionConflict']))).toBe(false);
    expect(isWaitableFailure(cancelled(['ValidationError', 'None']))).toBe(false);
    const wrapped = Object.assign(new Error('store'), {
      code: 'CONSUMER_STORE_FAILED',
      cause: error('ThrottlingException', 400),
    });
    expect(isWaitableFailure(wrapped)).toBe(true);
    expect(isWaitableFailure(Object.assign(new Error('network'), { code: 'ECONNRESET' }))).toBe(true);
  });
});
