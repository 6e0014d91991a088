/**
 * @middy/core, @middy/event-normalizer and p-retry are ESM-only. The CJS build loads them with
 * Node's `require(esm)` (Node >= 20.19), which returns the module namespace; the bundler's interop
 * then wraps that namespace once more. This unwraps to the default export in both builds.
 */
export function defaultExport<T>(imported: T): T {
  if (typeof imported === 'function') return imported;
  let candidate: unknown = imported;
  for (let depth = 0; depth < 2 && typeof candidate !== 'function'; depth += 1) {
    candidate = (candidate as { default?: unknown } | undefined)?.default;
  }
  if (typeof candidate !== 'function')
    throw new TypeError('Cannot load an ESM-only dependency: no default export');
  return candidate as T;
}
