/**
 * The seeded pseudo-random sequence behind every fault decision (the edge's and the fakes'): the
 * same seed gives the same sequence, so the same calls get the same faults.
 */

/** A small, fast, seeded pseudo-random generator (mulberry32) returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
