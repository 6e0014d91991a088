/** Option checking shared by the factories: unknown keys and bad numbers fail fast. */

/** Throws a `TypeError` naming the unknown keys, so a typo in an option fails at start-up. */
export function assertKnownKeys(what: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${what}: options must be an object`);
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(`${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  }
}

/** Throws a `RangeError` unless `value` is an integer in [min, max]. */
export function assertInteger(
  what: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/** Throws a `RangeError` unless `value` is a finite number of at least `min`. */
export function assertNumber(what: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`${what} must be a finite number of at least ${min}, got ${String(value)}`);
  }
}
