/**
 * Seeded fault injection for the Kinesis model: whole calls throttled or failing with a server
 * error, answers lost after the records were stored, and PutRecords entries that fail in place
 * (`ProvisionedThroughputExceededException` or `InternalFailure`) while the call succeeds.
 */
import { z } from 'zod';
import { LocalAwsOptionsError } from '../../errors';
import { mulberry32 } from '../../seeded-random';

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

const rate = z.number().min(0).max(1);

const operationFaultsSchema = z.strictObject({
  throttleRate: rate.optional(),
  throttleError: z.enum(['ProvisionedThroughputExceededException', 'LimitExceededException']).optional(),
  serverErrorRate: rate.optional(),
  lostResponseRate: rate.optional(),
  lostResponseError: z.enum(['InternalFailureException', 'TimeoutError']).optional(),
});

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
  seed: z.number().int().optional(),
  all: operationFaultsSchema.optional(),
  operations: z.partialRecord(z.enum(KINESIS_OPERATIONS), operationFaultsSchema).optional(),
  entryThrottleRate: rate.optional(),
  entryInternalFailureRate: rate.optional(),
  maxFaults: z.number().int().min(0).optional(),
});

/** Validates fault settings; throws a {@link LocalAwsOptionsError} naming the bad key. */
export function parseKinesisFaults(settings: unknown): KinesisFaults {
  const result = faultsSchema.safeParse(settings);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new LocalAwsOptionsError(
      `Invalid Kinesis model faults at ${['faults', ...issue.path].join('.')}: ${issue.message}`,
      {
        issues: result.error.issues.map((entry) => ({ path: entry.path.join('.'), message: entry.message })),
      },
    );
  }
  return result.data as KinesisFaults;
}

/** Counts of injected faults, by kind. */
export interface KinesisFaultStats {
  throttled: number;
  serverErrors: number;
  lostResponses: number;
  entriesThrottled: number;
  entriesFailed: number;
}

const emptyStats = (): KinesisFaultStats => ({
  throttled: 0,
  serverErrors: 0,
  lostResponses: 0,
  entriesThrottled: 0,
  entriesFailed: 0,
});

/** The seeded decisions of one Kinesis model. */
export class KinesisFaultPlan {
  #settings: KinesisFaults;
  #random: () => number;
  #stats = emptyStats();

  constructor(settings: KinesisFaults = {}) {
    this.#settings = parseKinesisFaults(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
  }

  /** Replaces the settings, restarts the seeded sequence and resets the counts. */
  set(settings: KinesisFaults): void {
    this.#settings = parseKinesisFaults(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
    this.#stats = emptyStats();
  }

  /** The counts so far (a copy). */
  get stats(): KinesisFaultStats {
    return { ...this.#stats };
  }

  /** The effective settings of an operation. */
  settingsFor(operation: KinesisOperation): KinesisOperationFaults {
    return { ...(this.#settings.all ?? {}), ...(this.#settings.operations?.[operation] ?? {}) };
  }

  #draw(probability: number | undefined): boolean {
    if (!probability || probability <= 0) return false;
    const s = this.#stats;
    const total = s.throttled + s.serverErrors + s.lostResponses + s.entriesThrottled + s.entriesFailed;
    if (this.#settings.maxFaults !== undefined && total >= this.#settings.maxFaults) return false;
    return this.#random() < probability;
  }

  /** Whether this call is refused before it happens, and how. */
  beforeCall(operation: KinesisOperation): 'throttle' | 'server-error' | undefined {
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
  loseResponse(operation: KinesisOperation): boolean {
    const lost = this.#draw(this.settingsFor(operation).lostResponseRate);
    if (lost) this.#stats.lostResponses += 1;
    return lost;
  }

  /** Whether one record fails in place, and how. */
  entryFailure(): 'ProvisionedThroughputExceededException' | 'InternalFailure' | undefined {
    if (this.#draw(this.#settings.entryThrottleRate)) {
      this.#stats.entriesThrottled += 1;
      return 'ProvisionedThroughputExceededException';
    }
    if (this.#draw(this.#settings.entryInternalFailureRate)) {
      this.#stats.entriesFailed += 1;
      return 'InternalFailure';
    }
    return undefined;
  }
}
