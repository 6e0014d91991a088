/**
 * History rewrites: a MODIFY or REMOVE of an event item means the log was changed behind its back.
 * Such a record is never published; it is logged as an error with what changed (attribute names,
 * never values) and counted, and with `onHistoryRewrite: 'fail'` it is also reported as not
 * published, so the shard stops there.
 */
import type { TidemarkLogger } from '@tidemark/core';
import type { RecordImages } from './stream-records';

/** What a history rewrite did to an event item. */
export type HistoryRewrite = 'modify' | 'remove';

/** What the publisher does about a history rewrite besides logging and counting it. */
export type HistoryRewritePolicy = 'log' | 'fail';

/**
 * Logs a MODIFY or REMOVE of an event item as an error and says which it was.
 *
 * @example
 * ```ts
 * const rewrite = reportHistoryRewrite('MODIFY', images, { sequenceNumber, index }, coordinates, {
 *   logger,
 *   onHistoryRewrite: 'log',
 * }); // 'modify'
 * ```
 */
export function reportHistoryRewrite(
  eventName: 'MODIFY' | 'REMOVE',
  { image, oldImage }: RecordImages,
  keys: { readonly sequenceNumber: string | undefined; readonly index: number },
  coordinates: { readonly aggregateKey?: unknown; readonly aggregateVersion?: unknown },
  {
    logger,
    onHistoryRewrite,
  }: { readonly logger: TidemarkLogger; readonly onHistoryRewrite: HistoryRewritePolicy },
): HistoryRewrite {
  logger.error(
    `History rewritten: a ${eventName} changed event ${String(coordinates.aggregateVersion)} of ${String(coordinates.aggregateKey)} in the event log; it is not published${onHistoryRewrite === 'fail' ? ' and the batch stops here' : ''}`,
    {
      ...keys,
      eventName: eventName,
      ...coordinates,
      change: describeChange(eventName, image, oldImage),
      onHistoryRewrite,
    },
  );
  return eventName === 'MODIFY' ? 'modify' : 'remove';
}

/** What a MODIFY or REMOVE changed: attribute names only, never values (payloads are not logged). */
export function describeChange(
  eventName: 'MODIFY' | 'REMOVE',
  image: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (eventName === 'REMOVE') return { removed: true };
  if (!image) return { changedAttributes: 'unknown (no NewImage)' };
  if (!oldImage) {
    return {
      changedAttributes: 'unknown (the stream has no OldImage; NEW_AND_OLD_IMAGES would show them)',
      attributesNow: Object.keys(image).sort(),
    };
  }
  const names = new Set([...Object.keys(image), ...Object.keys(oldImage)]);
  const changed = [...names]
    .filter((name) => JSON.stringify(image[name]) !== JSON.stringify(oldImage[name]))
    .sort();
  return { changedAttributes: changed };
}
