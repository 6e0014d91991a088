/**
 * Counts the HTTP requests an AWS SDK v3 client sends, by operation, and the DynamoDB request units
 * they are billed. The middleware sits in the deserialize step, below the SDK's retry middleware,
 * so every attempt is counted: the figure is what the service bills and what a throttled table sees.
 */
import { itemSize } from '@tidemark/testing/fakes';

/** DynamoDB request units, as on-demand capacity bills them. */
export interface RequestUnits {
  /** Read request units: 1 per strongly consistent read of up to 4 KB, ½ eventually consistent, 2 transactional. */
  readonly read: number;
  /** Write request units: 1 per write of up to 1 KB, 2 transactional. */
  readonly write: number;
}

export interface RequestCounter {
  /** Requests per operation name (`BatchGetItem`, `PutItem`, …). */
  readonly byOperation: ReadonlyMap<string, number>;
  /** All requests. */
  total(): number;
  /** The request units of the requests counted so far (DynamoDB clients). */
  units(): RequestUnits;
  /** Forgets the counts (between phases of a benchmark). */
  reset(): void;
}

interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: { input?: unknown }) => Promise<{ output?: unknown }>,
      context: { commandName?: string },
    ) => (args: { input?: unknown }) => Promise<{ output?: unknown }>,
    options: { step: 'deserialize'; name: string; override?: boolean },
  ): void;
}

type Item = Parameters<typeof itemSize>[0];

/** The most bytes of an item one write request unit covers. */
const WRITE_UNIT_BYTES = 1024;
/** The most bytes one read request unit covers. */
const READ_UNIT_BYTES = 4096;

const writeUnitsOf = (item: Item | undefined) =>
  Math.max(1, Math.ceil((item ? itemSize(item) : 0) / WRITE_UNIT_BYTES));
const readUnitsOf = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);

/**
 * The request units DynamoDB bills for one answered request, from what it asked and answered.
 * Writes whose new item is not in the request (UpdateItem, DeleteItem, the update of a transaction)
 * are counted at 1 KB; the benchmarks check that no item of their tables is larger (see
 * `largestItemBytes`), so the figure is exact for them.
 */
export function requestUnits(operation: string, input: unknown, output: unknown): RequestUnits {
  const request = (input ?? {}) as Record<string, unknown>;
  const answer = (output ?? {}) as Record<string, unknown>;
  switch (operation) {
    case 'PutItem':
      return { read: 0, write: writeUnitsOf(request.Item as Item) };
    case 'UpdateItem':
    case 'DeleteItem':
      return { read: 0, write: 1 };
    case 'BatchWriteItem': {
      type Write = { PutRequest?: { Item: Item } };
      const unitsOf = (writes: readonly Write[]) =>
        writes.reduce((sum, entry) => sum + writeUnitsOf(entry.PutRequest?.Item), 0);
      const sent = Object.values(request.RequestItems as Record<string, Write[]>).flat();
      const left = Object.values((answer.UnprocessedItems ?? {}) as Record<string, Write[]>).flat();
      return { read: 0, write: unitsOf(sent) - unitsOf(left) };
    }
    case 'TransactWriteItems': {
      let write = 0;
      for (const entry of request.TransactItems as { Put?: { Item: Item } }[]) {
        write += 2 * writeUnitsOf(entry.Put?.Item);
      }
      return { read: 0, write };
    }
    case 'GetItem':
      return {
        read: readUnitsOf(answer.Item ? itemSize(answer.Item as Item) : 0, request.ConsistentRead === true),
        write: 0,
      };
    case 'TransactGetItems': {
      const found = (answer.Responses ?? []) as { Item?: Item }[];
      const read = (request.TransactItems as unknown[]).reduce<number>(
        (sum, _entry, i) => sum + 2 * readUnitsOf(found[i]?.Item ? itemSize(found[i]!.Item!) : 0, true),
        0,
      );
      return { read, write: 0 };
    }
    case 'BatchGetItem': {
      let read = 0;
      const responses = (answer.Responses ?? {}) as Record<string, Item[]>;
      const unprocessed = (answer.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
      const requests = request.RequestItems as Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>;
      for (const [table, { Keys, ConsistentRead }] of Object.entries(requests)) {
        const found = responses[table] ?? [];
        const processed = Keys.length - (unprocessed[table]?.Keys?.length ?? 0);
        // Each item is rounded up on its own; a key with no item still costs the minimum.
        for (const item of found) read += readUnitsOf(itemSize(item), ConsistentRead === true);
        read += Math.max(0, processed - found.length) * readUnitsOf(0, ConsistentRead === true);
      }
      return { read, write: 0 };
    }
    case 'Query':
    case 'Scan': {
      // A page is rounded up once, over the items it read.
      const bytes = ((answer.Items ?? []) as Item[]).reduce((sum, item) => sum + itemSize(item), 0);
      return { read: readUnitsOf(bytes, request.ConsistentRead === true), write: 0 };
    }
    default:
      return { read: 0, write: 0 };
  }
}

/** Errors after which DynamoDB still bills the request: a refused condition consumed its write. */
const BILLED_ERRORS = new Set(['ConditionalCheckFailedException']);

/**
 * Adds a counting middleware to an SDK client and returns the counter.
 *
 * @example
 * ```ts
 * const counter = countRequests(dynamodb);
 * await handler(event, context);
 * console.log(counter.total(), Object.fromEntries(counter.byOperation), counter.units());
 * ```
 */
export function countRequests(client: { middlewareStack: unknown }): RequestCounter {
  const counts = new Map<string, number>();
  let read = 0;
  let write = 0;
  (client.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      try {
        const result = await next(args);
        const units = requestUnits(operation, args.input, result.output);
        read += units.read;
        write += units.write;
        return result;
      } catch (error) {
        if (BILLED_ERRORS.has((error as { name?: string }).name ?? '')) {
          write += requestUnits(operation, args.input, undefined).write;
        }
        throw error;
      }
    },
    { step: 'deserialize', name: 'tidemarkBenchRequestCounter', override: true },
  );
  return {
    byOperation: counts,
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    units: () => ({ read, write }),
    reset: () => {
      counts.clear();
      read = 0;
      write = 0;
    },
  };
}
