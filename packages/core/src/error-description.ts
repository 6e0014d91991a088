/**
 * One way to describe an error for logs, error messages and stored failure texts: its name, message
 * and code, never its stack or the payloads it may carry.
 */

/** What is kept of an error. */
export interface ErrorDescription {
  /** `error.name` (`ThrottlingException`, `ConsumerStoreError`), or the type of a thrown non-error. */
  readonly name: string;
  /** `error.message`, or the thrown value as a string. */
  readonly message: string;
  /** A string `code` when the error has one (Tidemark errors, Node.js system errors). */
  readonly code?: string;
  /** The HTTP status of an AWS SDK error (`$metadata.httpStatusCode`). */
  readonly statusCode?: number;
}

/** An error as loggable attributes: name, message, code and HTTP status, without stack or payloads. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    const { code, $metadata } = error as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
    const status = $metadata?.httpStatusCode;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof status === 'number' ? { statusCode: status } : {}),
    };
  }
  return { name: error === null ? 'null' : typeof error, message: safeString(error) };
}

/**
 * An error as one line of text: `Name (code): message`, or `Name: message` without a code; a thrown
 * value that is not an error as itself.
 */
export function describeErrorText(error: unknown): string {
  if (!(error instanceof Error)) return safeString(error);
  const { name, message, code } = describeError(error);
  return `${name}${code === undefined ? '' : ` (${code})`}: ${message}`;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}
