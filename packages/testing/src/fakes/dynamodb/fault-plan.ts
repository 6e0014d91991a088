/**
 * Seeded fault injection for the DynamoDB model: which calls are throttled or fail with a server
 * error before anything happens, which succeed but lose their answer, which batch keys come back
 * unprocessed and which transactions meet a conflict. Decisions come from one seeded sequence, in
 * the order calls arrive, so the same seed and the same calls give the same faults.
 */
import { z } from 'zod';
import { LocalAwsOptionsError } from '../../errors';
import { mulberry32 } from '../../seeded-random';

/** The operations the DynamoDB model serves. */
export const DYNAMODB_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'TransactWriteItems',
  'UpdateItem',
] as const;

/** An operation of the DynamoDB model. */
export type DynamoDbOperation = (typeof DYNAMODB_OPERATIONS)[number];

const rate = z.number().min(0).max(1);

const operationFaultsSchema = z.strictObject({
  throttleRate: rate.optional(),
  throttleError: z
    .enum(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])
    .optional(),
  serverErrorRate: rate.optional(),
  lostResponseRate: rate.optional(),
  lostResponseError: z.enum(['InternalServerError', 'TimeoutError']).optional(),
  unprocessedRate: rate.optional(),
  transactionConflictRate: rate.optional(),
});

/** Faults for one operation (or, as `all`, for every operation). Every rate is a fraction 0–1. */
export interface DynamoDbOperationFaults {
  /** Calls refused with `throttleError` before anything happens. @default 0 */
  readonly throttleRate?: number;
  /** The error of a throttled call. @default 'ProvisionedThroughputExceededException' */
  readonly throttleError?:
    | 'ProvisionedThroughputExceededException'
    | 'ThrottlingException'
    | 'RequestLimitExceeded';
  /** Calls refused with `InternalServerError` (HTTP 500) before anything happens. @default 0 */
  readonly serverErrorRate?: number;
  /** Calls carried out (the write is stored) whose answer is then lost: `lostResponseError` is thrown. @default 0 */
  readonly lostResponseRate?: number;
  /** What a caller sees when the answer is lost. @default 'InternalServerError' */
  readonly lostResponseError?: 'InternalServerError' | 'TimeoutError';
  /** BatchGetItem keys / BatchWriteItem requests returned unprocessed (each independently). @default 0 */
  readonly unprocessedRate?: number;
  /** TransactWriteItems calls cancelled with a `TransactionConflict` reason. @default 0 */
  readonly transactionConflictRate?: number;
}

/** The fault settings of a {@link FakeDynamoDB}. */
export interface DynamoDbFaults {
  /** Seed of the decisions. @default 1 */
  readonly seed?: number;
  /** Faults for every operation (an operation's own entry replaces it field by field). @default {} */
  readonly all?: DynamoDbOperationFaults;
  /** Faults per operation. @default {} */
  readonly operations?: Partial<Record<DynamoDbOperation, DynamoDbOperationFaults>>;
  /** Stop injecting after this many faults (each unprocessed key counts as one). @default no limit */
  readonly maxFaults?: number;
}

const faultsSchema = z.strictObject({
  seed: z.number().int().optional(),
  all: operationFaultsSchema.optional(),
  operations: z.partialRecord(z.enum(DYNAMODB_OPERATIONS), operationFaultsSchema).optional(),
  maxFaults: z.number().int().min(0).optional(),
});

/** Validates fault settings; throws a {@link LocalAwsOptionsError} naming the bad key. */
export function parseDynamoDbFaults(settings: unknown): DynamoDbFaults {
  const result = faultsSchema.safeParse(settings);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new LocalAwsOptionsError(
      `Invalid DynamoDB model faults at ${['faults', ...issue.path].join('.')}: ${issue.message}`,
      {
        issues: result.error.issues.map((entry) => ({ path: entry.path.join('.'), message: entry.message })),
      },
    );
  }
  return result.data as DynamoDbFaults;
}

/** Counts of injected faults, by kind. */
export interface DynamoDbFaultStats {
  throttled: number;
  serverErrors: number;
  lostResponses: number;
  unprocessed: number;
  transactionConflicts: number;
}

/** The seeded decisions of one model. */
export class DynamoDbFaultPlan {
  #settings: DynamoDbFaults;
  #random: () => number;
  #stats: DynamoDbFaultStats = {
    throttled: 0,
    serverErrors: 0,
    lostResponses: 0,
    unprocessed: 0,
    transactionConflicts: 0,
  };

  constructor(settings: DynamoDbFaults = {}) {
    this.#settings = parseDynamoDbFaults(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
  }

  /** Replaces the settings, restarts the seeded sequence and resets the counts. */
  set(settings: DynamoDbFaults): void {
    this.#settings = parseDynamoDbFaults(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
    this.#stats = {
      throttled: 0,
      serverErrors: 0,
      lostResponses: 0,
      unprocessed: 0,
      transactionConflicts: 0,
    };
  }

  /** The counts so far (a copy). */
  get stats(): DynamoDbFaultStats {
    return { ...this.#stats };
  }

  /** The effective settings of an operation. */
  settingsFor(operation: DynamoDbOperation): DynamoDbOperationFaults {
    return { ...(this.#settings.all ?? {}), ...(this.#settings.operations?.[operation] ?? {}) };
  }

  #total(): number {
    const stats = this.#stats;
    return (
      stats.throttled +
      stats.serverErrors +
      stats.lostResponses +
      stats.unprocessed +
      stats.transactionConflicts
    );
  }

  #draw(probability: number | undefined): boolean {
    if (!probability || probability <= 0) return false;
    if (this.#settings.maxFaults !== undefined && this.#total() >= this.#settings.maxFaults) return false;
    return this.#random() < probability;
  }

  /** Whether this call is refused before it happens, and how. */
  beforeCall(operation: DynamoDbOperation): 'throttle' | 'server-error' | undefined {
    const settings = this.settingsFor(operation);
    if (this.#draw(settings.throttleRate)) {
      this.#stats.throttled += 1;
      return 'throttle';
    }
    if (this.#draw(settings.serverErrorRate)) {
      this.#stats.serverErrors += 1;
      return 'server-error';
    }
    return undefined;
  }

  /** Whether this successful call loses its answer. */
  loseResponse(operation: DynamoDbOperation): boolean {
    const lost = this.#draw(this.settingsFor(operation).lostResponseRate);
    if (lost) this.#stats.lostResponses += 1;
    return lost;
  }

  /** Whether one batch key or request is returned unprocessed. */
  unprocessed(operation: DynamoDbOperation): boolean {
    const skip = this.#draw(this.settingsFor(operation).unprocessedRate);
    if (skip) this.#stats.unprocessed += 1;
    return skip;
  }

  /** Whether this transaction is cancelled by a (simulated) conflicting transaction. */
  transactionConflict(): boolean {
    const conflict = this.#draw(this.settingsFor('TransactWriteItems').transactionConflictRate);
    if (conflict) this.#stats.transactionConflicts += 1;
    return conflict;
  }
}
