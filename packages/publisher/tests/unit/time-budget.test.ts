import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeBudget } from '../../src/time-budget';

describe('timeBudget', () => {
  it('keeps the safety margin free and aborts calls in flight a second before the end of a long invocation', () => {
    expect(timeBudget(1000, 900_000, 5000)).toEqual({ deadline: 896_000, abortAt: 900_000 });
  });

  it("caps the margin at a quarter of a short invocation (Lambda's default 3 s timeout)", () => {
    // Margin 750 ms: the last retry starts 2,250 ms in, calls are aborted 375 ms before the end.
    expect(timeBudget(0, 3000, 5000)).toEqual({ deadline: 2250, abortAt: 2625 });
  });

  it('keeps at least 100 ms of margin and aborts 50 ms before the end of a tiny invocation', () => {
    expect(timeBudget(0, 200, 5000)).toEqual({ deadline: 100, abortAt: 150 });
  });

  it('always orders start ≤ deadline ≤ abortAt < end (seeded property)', () => {
    const seed = Number(process.env.TIDEMARK_SEED ?? Date.now() % 1_000_000);
    console.log(`time budget property seed: ${seed}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 200, max: 900_000 }),
        fc.integer({ min: 100, max: 1_000_000 }),
        (started, remaining, margin) => {
          const { deadline, abortAt } = timeBudget(started, remaining, margin);
          expect(deadline).toBeGreaterThanOrEqual(started);
          expect(abortAt).toBeGreaterThanOrEqual(deadline);
          expect(abortAt).toBeLessThan(started + remaining);
        },
      ),
      { seed, numRuns: 500 },
    );
  });
});
