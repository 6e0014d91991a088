import { afterEach, describe, expect, it, vi } from 'vitest';
import { settleBefore } from '../../src/handler-deadline';

const late = () => new Error('late');

describe('settleBefore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns at once for a handler that returned no promise, without setting a timer', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      // biome-ignore lint/suspicious/noThenProperty: a `then` that is not a function makes no thenable
      for (const result of [undefined, 0, 'done', { then: 'not a function' }]) {
        await expect(settleBefore(result, 0, late)).resolves.toBeUndefined();
        await expect(settleBefore(result, 1000, late)).resolves.toBeUndefined();
      }
      expect(setTimeoutSpy).not.toHaveBeenCalled();
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });

  it('waits for a promise (or any thenable) that settles before the deadline, and clears its timer', async () => {
    vi.useFakeTimers();
    // biome-ignore lint/suspicious/noThenProperty: handlers may return any thenable, not only a Promise
    const thenable = { then: (resolve: (value: unknown) => void) => setTimeout(() => resolve('ok'), 10) };
    const waiting = settleBefore(thenable, 1000, late);
    await vi.advanceTimersByTimeAsync(10);
    await expect(waiting).resolves.toBeUndefined();
    await expect(settleBefore(Promise.reject(new Error('boom')), 1000, late)).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the late error when the handler is still running at the deadline', async () => {
    vi.useFakeTimers();
    const waiting = settleBefore(new Promise(() => {}), 50, late);
    const outcome = expect(waiting).rejects.toThrow('late');
    await vi.advanceTimersByTimeAsync(50);
    await outcome;
  });

  it('waits without a deadline when the budget is infinite', async () => {
    vi.useFakeTimers();
    let resolve!: () => void;
    const waiting = settleBefore(
      new Promise<void>((r) => {
        resolve = r;
      }),
      Number.POSITIVE_INFINITY,
      late,
    );
    expect(vi.getTimerCount()).toBe(0);
    resolve();
    await expect(waiting).resolves.toBeUndefined();
  });
});
