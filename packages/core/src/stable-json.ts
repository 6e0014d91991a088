/**
 * Deterministic JSON: the same value always gives the same text, whatever order its object keys
 * were written in. Schema comparison uses it to tell equal schemas apart from different ones, and
 * catalog snapshots use it so that the same catalog always gives the same bytes.
 */

/** JSON with object keys sorted, so equal schemas compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

/** A copy of a JSON value with every object's keys sorted (deterministic output). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
