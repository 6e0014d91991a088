/**
 * Seeded fault injection for the Kinesis model: whole calls throttled or failing with a server
 * error, answers lost after the records were stored, and PutRecords entries that fail in place
 * (`ProvisionedThroughputExceededException` or `InternalFailure`) while the call succeeds.
 */
import { z } from 'zod';
import { callFaultsShape, FaultPlan, faultRate, parseFaults, planShape } from '../fault-plan';

/** The operations the Kinesis model serves. */
export const KINESIS_OPERATIONS = [
  'CreateStream',
  'DeleteStream',
  'DescribeStream',
  'DescribeStreamSummary',
  'GetRecords',
  'GetShardIterator',
  'ListShards',
  'ListStreams',
  'MergeShards',
  'PutRecord',
  'PutRecords',
  'SplitShard',
] as const;

/** An operation of the Kinesis model. */
export type KinesisOperation = (typeof KINESIS_OPERATIONS)[number];

const operationFaultsSchema = z.strictObject(
  callFaultsShape(
    ['ProvisionedThroughputExceededException', 'LimitExceededException'],
    ['InternalFailureException', 'TimeoutError'],
  ),
);

/** Faults for one operation (or, as `all`, for every operation). Every rate is a fraction 0–1. */
export interface KinesisOperationFaults {
  /** Calls refused with `throttleError` before anything happens. @default 0 */
  readonly throttleRate?: number;
  /** The error of a throttled call. @default 'ProvisionedThroughputExceededException' */
  readonly throttleError?: 'ProvisionedThroughputExceededException' | 'LimitExceededException';
  /** Calls refused with `InternalFailureException` (HTTP 500) before anything happens. @default 0 */
  readonly serverErrorRate?: number;
  /** Calls carried out (records stored) whose answer is then lost. @default 0 */
  readonly lostResponseRate?: number;
  /** What a caller sees when the answer is lost. @default 'InternalFailureException' */
  readonly lostResponseError?: 'InternalFailureException' | 'TimeoutError';
}

/** The fault settings of a {@link FakeKinesis}. */
export interface KinesisFaults {
  /** Seed of the decisions. @default 1 */
  readonly seed?: number;
  /** Faults for every operation (an operation's own entry replaces it field by field). @default {} */
  readonly all?: KinesisOperationFaults;
  /** Faults per operation. @default {} */
  readonly operations?: Partial<Record<KinesisOperation, KinesisOperationFaults>>;
  /**
   * The fraction of PutRecords entries (and PutRecord calls) that fail with
   * `ProvisionedThroughputExceededException`, each independently. @default 0
   */
  readonly entryThrottleRate?: number;
  /** The fraction of PutRecords entries (and PutRecord calls) that fail with `InternalFailure`. @default 0 */
  readonly entryInternalFailureRate?: number;
  /** Stop injecting after this many faults (each failed entry counts as one). @default no limit */
  readonly maxFaults?: number;
}

const faultsSchema = z.strictObject({
  ...planShape(KINESIS_OPERATIONS, operationFaultsSchema),
  entryThrottleRate: faultRate.optional(),
  entryInternalFailureRate: faultRate.optional(),
});

/** Validates fault settings; throws a {@link LocalAwsOptionsError} naming the bad key. */
export function parseKinesisFaults(settings: unknown): KinesisFaults {
  return parseFaults<KinesisFaults>(faultsSchema, settings, 'Kinesis');
}

/** Counts of injected faults, by kind. */
export interface KinesisFaultStats {
  throttled: number;
  serverErrors: number;
  lostResponses: number;
  entriesThrottled: number;
  entriesFailed: number;
}

/** The seeded decisions of one Kinesis model. */
export class KinesisFaultPlan extends FaultPlan<
  KinesisOperation,
  KinesisOperationFaults,
  KinesisFaults,
  KinesisFaultStats
> {
  constructor(settings: KinesisFaults = {}) {
    super(settings);
  }

  protected parse(settings: unknown): KinesisFaults {
    return parseKinesisFaults(settings);
  }

  protected emptyStats(): KinesisFaultStats {
    return { throttled: 0, serverErrors: 0, lostResponses: 0, entriesThrottled: 0, entriesFailed: 0 };
  }

  /** Whether one record fails in place, and how. */
  entryFailure(): 'ProvisionedThroughputExceededException' | 'InternalFailure' | undefined {
    if (this.draw(this.settings.entryThrottleRate, 'entriesThrottled')) {
      return 'ProvisionedThroughputExceededException';
    }
    if (this.draw(this.settings.entryInternalFailureRate, 'entriesFailed')) return 'InternalFailure';
    return undefined;
  }
}
