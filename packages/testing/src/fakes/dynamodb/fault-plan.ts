/**
 * Seeded fault injection for the DynamoDB model: which calls are throttled or fail with a server
 * error before anything happens, which succeed but lose their answer, which batch keys come back
 * unprocessed and which transactions meet a conflict. Decisions come from one seeded sequence, in
 * the order calls arrive, so the same seed and the same calls give the same faults.
 */
import { z } from 'zod';
import { callFaultsShape, FaultPlan, faultRate, parseFaults, planShape } from '../fault-plan';

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

const operationFaultsSchema = z.strictObject({
  ...callFaultsShape(
    ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'],
    ['InternalServerError', 'TimeoutError'],
  ),
  unprocessedRate: faultRate.optional(),
  transactionConflictRate: faultRate.optional(),
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

const faultsSchema = z.strictObject(planShape(DYNAMODB_OPERATIONS, operationFaultsSchema));

/** Validates fault settings; throws a {@link LocalAwsOptionsError} naming the bad key. */
export function parseDynamoDbFaults(settings: unknown): DynamoDbFaults {
  return parseFaults<DynamoDbFaults>(faultsSchema, settings, 'DynamoDB');
}

/** Counts of injected faults, by kind. */
export interface DynamoDbFaultStats {
  throttled: number;
  serverErrors: number;
  lostResponses: number;
  unprocessed: number;
  transactionConflicts: number;
}

/** The seeded decisions of one DynamoDB model. */
export class DynamoDbFaultPlan extends FaultPlan<
  DynamoDbOperation,
  DynamoDbOperationFaults,
  DynamoDbFaults,
  DynamoDbFaultStats
> {
  constructor(settings: DynamoDbFaults = {}) {
    super(settings);
  }

  protected parse(settings: unknown): DynamoDbFaults {
    return parseDynamoDbFaults(settings);
  }

  protected emptyStats(): DynamoDbFaultStats {
    return { throttled: 0, serverErrors: 0, lostResponses: 0, unprocessed: 0, transactionConflicts: 0 };
  }

  /** Whether one batch key or request is returned unprocessed. */
  unprocessed(operation: DynamoDbOperation): boolean {
    return this.draw(this.settingsFor(operation).unprocessedRate, 'unprocessed');
  }

  /** Whether this transaction is cancelled by a (simulated) conflicting transaction. */
  transactionConflict(): boolean {
    return this.draw(this.settingsFor('TransactWriteItems').transactionConflictRate, 'transactionConflicts');
  }
}
