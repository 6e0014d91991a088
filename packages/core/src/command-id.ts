import { decodeTime, incrementBase32, MAX_ULID, monotonicFactory } from 'ulid';
import { InvalidCommandIdError } from './errors';

/**
 * A command id or event id: a ULID in canonical form (26 upper-case Crockford base32 characters).
 * ULIDs sort lexicographically by creation time, and ids made by one process are strictly increasing.
 */
export type Ulid = string;

/** A ULID as Tidemark writes it: 26 upper-case Crockford base32 characters, the first 0–7. */
export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const next = monotonicFactory();

/**
 * Makes a new command id. Ids made by one process are strictly increasing, even within one
 * millisecond (the random part is incremented).
 *
 * @example
 * ```ts
 * import { newCommandId } from '@tidemark/core';
 *
 * const commandId = newCommandId(); // '01JD3Q6Z5X8V7B2N4M6K8H0G2F'
 * ```
 */
export function newCommandId(): Ulid {
  return next();
}

/**
 * Makes a new event id (a ULID from the same monotonic source as command ids).
 */
export function newEventId(): Ulid {
  return next();
}

/**
 * Tells whether a value is a ULID in canonical form.
 *
 * @example
 * ```ts
 * import { isCommandId } from '@tidemark/core';
 * isCommandId('01JD3Q6Z5X8V7B2N4M6K8H0G2F'); // true
 * isCommandId('not-a-ulid'); // false
 * ```
 */
export function isCommandId(value: unknown): value is Ulid {
  return typeof value === 'string' && ULID_PATTERN.test(value);
}

/**
 * Reads a command id: accepts a ULID in either case and returns its canonical upper-case form.
 * Throws {@link InvalidCommandIdError} with the reason otherwise.
 *
 * @example
 * ```ts
 * import { parseCommandId } from '@tidemark/core';
 * const id = parseCommandId(request.headers['idempotency-key']);
 * ```
 */
export function parseCommandId(value: unknown): Ulid {
  if (typeof value !== 'string') throw new InvalidCommandIdError(value, 'a ULID must be a string');
  if (value.length !== 26) {
    throw new InvalidCommandIdError(value, `a ULID has 26 characters, this has ${value.length}`);
  }
  const upper = value.toUpperCase();
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(upper)) {
    throw new InvalidCommandIdError(value, 'a ULID uses Crockford base32 only (0-9, A-Z without I, L, O, U)');
  }
  if (upper > MAX_ULID) {
    throw new InvalidCommandIdError(value, 'the timestamp part is out of range (first character above 7)');
  }
  return upper;
}

/**
 * Compares two command ids: negative if `a` is older, positive if newer, 0 if equal.
 * Both must be valid ULIDs (throws {@link InvalidCommandIdError} otherwise).
 *
 * @example
 * ```ts
 * import { compareCommandIds } from '@tidemark/core';
 * ids.sort(compareCommandIds);
 * ```
 */
export function compareCommandIds(a: Ulid, b: Ulid): number {
  const left = parseCommandId(a);
  const right = parseCommandId(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The creation time of a command id, in milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import { commandIdTime } from '@tidemark/core';
 * new Date(commandIdTime(commandId)).toISOString();
 * ```
 */
export function commandIdTime(id: Ulid): number {
  return decodeTime(parseCommandId(id));
}

/**
 * The smallest ULID strictly greater than `id`: what the event log's monotonic rule needs.
 * Throws {@link InvalidCommandIdError} for the largest possible ULID, which has no successor.
 *
 * @example
 * ```ts
 * import { smallestCommandIdAfter } from '@tidemark/core';
 * smallestCommandIdAfter('01JD3Q6Z5X8V7B2N4M6K8H0G2F'); // '01JD3Q6Z5X8V7B2N4M6K8H0G2G'
 * ```
 */
export function smallestCommandIdAfter(id: Ulid): Ulid {
  const canonical = parseCommandId(id);
  if (canonical === MAX_ULID)
    throw new InvalidCommandIdError(id, 'it is the largest ULID; none comes after it');
  return incrementBase32(canonical);
}

/**
 * A new command id that is guaranteed to be greater than `lastCommandId`. Use it when an
 * aggregate's last command id came from a machine whose clock runs ahead of this one: a plain
 * {@link newCommandId} could sort below it and be refused by the event log.
 *
 * @example
 * ```ts
 * import { newCommandIdAfter } from '@tidemark/core';
 * const commandId = newCommandIdAfter(aggregate.lastCommandId);
 * ```
 */
export function newCommandIdAfter(lastCommandId: Ulid): Ulid {
  const fresh = newCommandId();
  const floor = smallestCommandIdAfter(lastCommandId);
  // biome-ignore lint/complexity/useMathMinMax: ULIDs are strings; Math.max would coerce them to NaN
  return fresh >= floor ? fresh : floor;
}
