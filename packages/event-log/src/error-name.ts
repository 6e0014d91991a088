/** The name of an error, for classifying AWS SDK errors. */

/** The name of an AWS SDK error (or of any error), for classification. */
export function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { name, code } = error as { name?: unknown; code?: unknown };
    if (typeof name === 'string' && name !== 'Error') return name;
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return typeof error;
}
