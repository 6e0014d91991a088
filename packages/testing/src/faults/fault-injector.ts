/**
 * The edge's fault state: the seeded decisions it takes call by call and the counters that prove
 * faults really happened.
 *
 * @internal
 */
import { mulberry32 } from '../seeded-random';
import { type FaultSettings, validateFaultSettings } from './fault-settings';
import { emptyFaultStats, type FaultStats } from './fault-stats';
import { dynamoDbError, type EdgeService, type InjectedError, kinesisError } from './injected-errors';

type MutableStats = {
  -readonly [K in keyof FaultStats]: K extends 'byOperation' | 'requestsByOperation'
    ? Record<string, number>
    : number;
};

const SERVICE_LABEL: Record<EdgeService, string> = {
  kinesis: 'Kinesis',
  dynamodb: 'DynamoDB',
  dynamodbStreams: 'DynamoDBStreams',
};

/**
 * The edge's fault state: takes the seeded decisions and counts what it injected. One per edge.
 * Decisions are drawn from one pseudo-random sequence in the order calls arrive, so a test that makes
 * the same calls in the same order with the same seed gets the same faults.
 *
 * @example
 * ```ts
 * import { FaultInjector } from './fault-injector';
 *
 * const injector = new FaultInjector();
 * injector.set({ seed: 3, dynamodb: { failureRate: 1, operations: ['UpdateItem'] } });
 * injector.callError('dynamodb', 'UpdateItem'); // { status: 400, type: 'ProvisionedThroughputExceededException', ... }
 * ```
 */
export class FaultInjector {
  #settings: FaultSettings = {};
  #random: () => number = mulberry32(1);
  #stats: MutableStats = emptyFaultStats() as MutableStats;

  /** The current settings. */
  get settings(): FaultSettings {
    return this.#settings;
  }

  /** Replaces the settings (validated) and resets the stats and the random sequence. */
  set(settings: unknown): FaultSettings {
    const valid = validateFaultSettings(settings);
    this.#settings = valid;
    this.#random = mulberry32(valid.seed ?? 1);
    this.#stats = emptyFaultStats() as MutableStats;
    return valid;
  }

  /** Stops injecting; keeps the stats. */
  clear(): void {
    this.#settings = {};
  }

  /** A copy of the counters. */
  stats(): FaultStats {
    return {
      ...this.#stats,
      byOperation: { ...this.#stats.byOperation },
      requestsByOperation: { ...this.#stats.requestsByOperation },
    };
  }

  /** Counts a call (in all and per operation) and returns the latency to add before answering it. */
  latencyFor(service: EdgeService, operation: string): number {
    this.#stats.requests += 1;
    const key = `${SERVICE_LABEL[service]}.${operation}`;
    this.#stats.requestsByOperation[key] = (this.#stats.requestsByOperation[key] ?? 0) + 1;
    const latency = this.#settings.latencyMs ?? 0;
    if (latency > 0) this.#stats.delayed += 1;
    return latency;
  }

  /** Decides whether a whole call fails, and with which error. */
  callError(service: EdgeService, operation: string): InjectedError | undefined {
    if (service === 'kinesis') {
      const kinesis = this.#settings.kinesis;
      if (
        !kinesis?.throttleRate ||
        !applies(kinesis.operations, operation) ||
        !this.#draw(kinesis.throttleRate)
      ) {
        return undefined;
      }
      this.#count(service, operation, 1);
      this.#stats.kinesisThrottled += 1;
      return kinesisError(kinesis.throttleError ?? 'ProvisionedThroughputExceededException', operation);
    }
    const section = this.#settings[service];
    if (
      !section?.failureRate ||
      !applies(section.operations, operation) ||
      !this.#draw(section.failureRate)
    ) {
      return undefined;
    }
    this.#count(service, operation, 1);
    if (service === 'dynamodb') this.#stats.dynamodbFailed += 1;
    else this.#stats.dynamodbStreamsFailed += 1;
    return dynamoDbError(section.error ?? 'ProvisionedThroughputExceededException', operation);
  }

  /** True when PutRecords entries should be failed (the body must then be rewritten). */
  get putRecordsEntryFaultsActive(): boolean {
    return (this.#settings.kinesis?.putRecordsEntryFailureRate ?? 0) > 0 && this.#remaining() > 0;
  }

  /** Decides, per entry, which PutRecords entries fail. Counted only through {@link recordEntryFailures}. */
  putRecordsEntryFailures(count: number): boolean[] {
    const failureRate = this.#settings.kinesis?.putRecordsEntryFailureRate ?? 0;
    let budget = this.#remaining();
    const failures: boolean[] = [];
    for (let index = 0; index < count; index += 1) {
      const fail = failureRate > 0 && budget > 0 && this.#random() < failureRate;
      if (fail) budget -= 1;
      failures.push(fail);
    }
    return failures;
  }

  /** Counts the PutRecords entries the edge failed in one call. */
  recordEntryFailures(failed: number): void {
    if (failed === 0) return;
    this.#count('kinesis', 'PutRecords', failed);
    this.#stats.putRecordsCallsWithFailures += 1;
    this.#stats.putRecordsEntriesFailed += failed;
  }

  #draw(probability: number): boolean {
    if (this.#remaining() <= 0) return false;
    return this.#random() < probability;
  }

  #remaining(): number {
    const max = this.#settings.maxFaults;
    return max === undefined ? Number.POSITIVE_INFINITY : max - this.#stats.injected;
  }

  #count(service: EdgeService, operation: string, count: number): void {
    this.#stats.injected += count;
    const key = `${SERVICE_LABEL[service]}.${operation}`;
    this.#stats.byOperation[key] = (this.#stats.byOperation[key] ?? 0) + count;
  }
}

function applies(operationsList: readonly string[] | undefined, operation: string): boolean {
  return operationsList === undefined || operationsList.includes(operation);
}
