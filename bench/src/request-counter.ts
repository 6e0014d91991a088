/**
 * Counts the HTTP requests an AWS SDK v3 client sends, by operation. The middleware sits in the
 * deserialize step, below the SDK's retry middleware, so every attempt is counted: the figure is
 * what the service bills and what a throttled table sees.
 */
export interface RequestCounter {
  /** Requests per operation name (`BatchGetItem`, `PutItem`, …). */
  readonly byOperation: ReadonlyMap<string, number>;
  /** All requests. */
  total(): number;
  /** Forgets the counts (between phases of a benchmark). */
  reset(): void;
}

interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'deserialize'; name: string; override?: boolean },
  ): void;
}

/**
 * Adds a counting middleware to an SDK client and returns the counter.
 *
 * @example
 * ```ts
 * const counter = countRequests(dynamodb);
 * await handler(event, context);
 * console.log(counter.total(), Object.fromEntries(counter.byOperation));
 * ```
 */
export function countRequests(client: { middlewareStack: unknown }): RequestCounter {
  const counts = new Map<string, number>();
  (client.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      return next(args);
    },
    { step: 'deserialize', name: 'tidemarkBenchRequestCounter', override: true },
  );
  return {
    byOperation: counts,
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    reset: () => counts.clear(),
  };
}
