/**
 * The one concurrency limiter of the Tidemark packages (p-limit), with the error handling every
 * caller needs: nothing is still running when the call returns or throws.
 */
import pLimit from 'p-limit';

/**
 * Runs `run` for every item, at most `limit` at once, in order of the items. Resolves when all are
 * done; if any rejected, waits for the others to settle and then rejects with the first rejection
 * (several rejections: an `AggregateError` of all of them, the first first), so no work is left
 * running behind the caller's back.
 *
 * @example
 * ```ts
 * await forEachLimited(aggregates, 8, (aggregate) => applyBatch(aggregate));
 * ```
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const limited = pLimit(limit);
  const outcomes = await Promise.allSettled(items.map((item, index) => limited(() => run(item, index))));
  const rejections = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
  if (rejections.length === 1) throw rejections[0];
  if (rejections.length > 1) {
    throw new AggregateError(rejections, `${rejections.length} of ${items.length} concurrent tasks failed`);
  }
}
