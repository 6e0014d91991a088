/**
 * The bounds of everything the consumer writes. Each keeps one item well inside DynamoDB's 400 KB
 * item limit (attribute names and values included), whatever the input.
 */

/** A held record's or dead letter's data beyond its first part is split over items of this size. */
export const DATA_CHUNK_BYTES = 350 * 1024;

/** The part of a dead letter's record data kept in the dead-letter item itself; the rest is chunked. */
export const DEAD_LETTER_INLINE_DATA_BYTES = 256 * 1024;

/** A dead letter's `message` keeps at most this many characters (then a truncation marker). */
export const MAX_MESSAGE_CHARS = 4096;

/** A dead letter's `error.context` keeps at most this many bytes of JSON (then a truncation marker). */
export const MAX_CONTEXT_BYTES = 16 * 1024;

/** Event types, ids and other labels copied into a dead letter keep at most this many characters. */
export const MAX_LABEL_CHARS = 1024;

/** The checkpoint keeps the last failure's error text up to this many characters. */
export const MAX_FAILURE_TEXT_CHARS = 1000;

/** The most skipped ranges a checkpoint remembers; older neighbours merge beyond it. */
export const MAX_SKIPPED_RANGES = 200;

/** Truncates a text to `max` characters with a marker naming its full length. */
export function truncateText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const marker = ` … [truncated: ${text.length} characters in full]`;
  return { text: `${text.slice(0, Math.max(0, max - marker.length))}${marker}`, truncated: true };
}
