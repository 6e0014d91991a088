import { describe, expect, it } from 'vitest';
import { forEachLimited } from '../../src/internal';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('forEachLimited', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimited([...Array(20).keys()], 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
      done.push(item);
    });
    expect(most).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('lets nothing run on after a failure: waits for the others, then throws the rejection', async () => {
    const finished: number[] = [];
    const failure = new Error('one failed');
    await expect(
      forEachLimited([0, 1, 2, 3], 2, async (item) => {
        await tick();
        if (item === 0) throw failure;
        await tick();
        finished.push(item);
      }),
    ).rejects.toBe(failure);
    expect(finished.sort()).toEqual([1, 2, 3]);
  });

  it('throws every rejection when several fail', async () => {
    const error = await forEachLimited([0, 1, 2], 3, async (item) => {
      if (item > 0) throw new Error(`failed ${item}`);
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['failed 1', 'failed 2']);
  });

  it('does nothing for no items', async () => {
    await expect(forEachLimited([], 4, async () => {})).resolves.toBeUndefined();
  });
});
