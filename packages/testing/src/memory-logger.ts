/**
 * A logger for tests that keeps every line it is given, to assert on what code under test logged.
 */

/** A log level. */
export type MemoryLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line a {@link MemoryLogger} was given. */
export interface MemoryLogLine {
  /** The method called. */
  readonly level: MemoryLogLevel;
  /** The message (the first argument). */
  readonly message: string;
  /**
   * The attributes: the second argument when it is an object, else `{}` (a `(message, attributes?)`
   * logger passes them there).
   */
  readonly attributes: Record<string, unknown>;
  /** Every argument after the message, as given (for loggers called `(message, ...details)`). */
  readonly details: readonly unknown[];
}

/** A logger that keeps what it is told; pass it (or its `logger`) wherever a logger goes. */
export interface MemoryLogger {
  /** Every line, in the order it was logged. */
  readonly lines: MemoryLogLine[];
  /** The logger itself, for `const { lines, logger } = memoryLogger()`. */
  readonly logger: MemoryLogger;
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
  /** The lines of one level. */
  at(level: MemoryLogLevel): MemoryLogLine[];
  /** Forgets every line. */
  clear(): void;
}

function isAttributes(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

/**
 * A logger that keeps every line: level, message, attributes and the raw arguments. It fits both
 * logger shapes Tidemark's packages take, `(message, attributes?)` and `(message, ...details)`.
 *
 * @example
 * ```ts
 * import { memoryLogger } from '@tidemark/testing';
 *
 * const { lines, logger } = memoryLogger();
 * const publisher = createPublisher({ streamName, catalog, logger });
 * await publisher(event, fakeLambdaContext());
 * expect(lines.filter((line) => line.level === 'error')).toEqual([]);
 * ```
 */
export function memoryLogger(): MemoryLogger {
  const lines: MemoryLogLine[] = [];
  const at =
    (level: MemoryLogLevel) =>
    (message: string, ...rest: unknown[]): void => {
      const first = rest[0];
      lines.push({ level, message, attributes: isAttributes(first) ? first : {}, details: rest });
    };
  const logger: MemoryLogger = {
    lines,
    get logger() {
      return logger;
    },
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    at: (level) => lines.filter((line) => line.level === level),
    clear: () => {
      lines.length = 0;
    },
  };
  return logger;
}
