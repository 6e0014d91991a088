/**
 * Waiting for a handler without waiting past the invocation's deadline: a handler still running
 * then counts as an attempt that did not complete. It keeps running unobserved (JavaScript cannot
 * stop it); in transactional mode nothing it stages afterwards is committed.
 */

/**
 * Waits for `result` (a handler's return value, a promise or not) for at most `budgetMs`
 * (`Infinity`: no deadline); past it, rejects with the error `late` makes.
 */
export async function settleBefore(result: unknown, budgetMs: number, late: () => Error): Promise<void> {
  // A handler that returned no promise has finished: nothing to wait for, no timer to set.
  if (!isThenable(result)) return;
  if (!Number.isFinite(budgetMs)) {
    await result;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, budgetMs));
  });
  const settled = Promise.resolve(result);
  // A handler that settles after the deadline is not observed any more.
  settled.catch(() => undefined);
  try {
    await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
