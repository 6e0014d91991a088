/** One reason a reader cannot read what a writer writes. */
export interface SchemaIncompatibility {
  /** The field, as a dotted path from the payload root (`priority`, `tags[]`, `owner.id`); `''` for the root. */
  readonly path: string;
  /** Why, for humans. */
  readonly reason: string;
}

/** One incompatibility at `path`. */
export function incompatibility(path: string, reason: string): SchemaIncompatibility {
  return { path, reason };
}

/** The list without repeats (the same path and reason found along two routes), in first-found order. */
export function dedupeIncompatibilities(found: readonly SchemaIncompatibility[]): SchemaIncompatibility[] {
  const seen = new Set<string>();
  return found.filter((entry) => {
    const key = `${entry.path}\u0000${entry.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
