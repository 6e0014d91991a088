/**
 * The decisions of Lambda's stream event source mapping after an invocation, as pure functions:
 * how a handler's response is read (`ReportBatchItemFailures`), when a batch is checkpointed,
 * retried, split in two (`BisectBatchOnFunctionError`) or given up on (`MaximumRetryAttempts`,
 * `MaximumRecordAgeInSeconds`). The shard poller applies them to real records.
 *
 * @internal
 */

/** How one invocation ended, as the event source mapping sees it. */
export type InvocationOutcome =
  | { readonly kind: 'success' }
  /** The handler reported failed items: `failedIndex` is the batch index of the lowest one. */
  | { readonly kind: 'partial-failure'; readonly failedIndex: number }
  | {
      readonly kind: 'failure';
      /** Why the whole batch failed. */
      readonly reason: 'error' | 'timeout' | 'invalid-response' | 'pending-work';
    };

/**
 * Reads a handler's response the way Lambda does for stream sources.
 *
 * Without `reportBatchItemFailures` the response is ignored: returning is success. With it:
 * `undefined`/`null`, an object without `batchItemFailures`, `batchItemFailures: null` and an empty
 * list are success; an item whose `itemIdentifier` is missing, empty, not a string, or not a
 * sequence number of this batch makes the whole batch a failure; otherwise the batch is
 * checkpointed before the lowest reported record. An empty array (`[]`) is success too, as on
 * Lambda. A response that is not an object (a string, a number, a non-empty array), or a
 * `batchItemFailures` that is not a list, is a whole-batch failure.
 */
export function interpretResponse(
  response: unknown,
  sequenceNumbers: readonly string[],
  reportBatchItemFailures: boolean,
): InvocationOutcome {
  if (!reportBatchItemFailures || response === undefined || response === null) return { kind: 'success' };
  if (Array.isArray(response) && response.length === 0) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { kind: 'failure', reason: 'invalid-response' };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'invalid-response' };
  if (failures.length === 0) return { kind: 'success' };
  const positions = new Map(sequenceNumbers.map((sequenceNumber, index) => [sequenceNumber, index]));
  let lowest = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    if (typeof failure !== 'object' || failure === null)
      return { kind: 'failure', reason: 'invalid-response' };
    const identifier = (failure as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof identifier !== 'string' || identifier === '') {
      return { kind: 'failure', reason: 'invalid-response' };
    }
    const index = positions.get(identifier);
    if (index === undefined) return { kind: 'failure', reason: 'invalid-response' };
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial-failure', failedIndex: lowest };
}

/**
 * A batch being worked on: the first `size` records not yet checkpointed on its shard, how often
 * they were retried and how often invoked.
 */
export interface BatchWork {
  /** How many records, from the shard's checkpoint on. */
  readonly size: number;
  /** Retries used so far (splits do not use retries). */
  readonly retries: number;
  /** Invocations that included these records so far. */
  readonly invocations: number;
}

/** What the mapping does after an invocation. */
export type BatchDecision =
  /** Everything succeeded: checkpoint `checkpoint` records (the whole batch) and move on. */
  | { readonly type: 'checkpoint'; readonly checkpoint: number }
  /** Checkpoint `checkpoint` records (0 or more), then retry `work` after a backoff. */
  | { readonly type: 'retry'; readonly checkpoint: number; readonly work: BatchWork }
  /** Replace the batch by two halves, processed in order, without using a retry. */
  | { readonly type: 'split'; readonly halves: readonly [BatchWork, BatchWork] }
  /**
   * Checkpoint `checkpoint` records, then give up on the next `discard` records: they go to the
   * on-failure destination with `RetryAttemptsExhausted`.
   */
  | {
      readonly type: 'discard';
      readonly checkpoint: number;
      readonly discard: number;
      readonly work: BatchWork;
    };

/** The settings the decision depends on. */
export interface RetrySettings {
  /** `BisectBatchOnFunctionError`. */
  readonly bisectBatchOnFunctionError: boolean;
  /** `MaximumRetryAttempts`: -1 for infinite. */
  readonly maximumRetryAttempts: number;
}

/**
 * Decides what follows an invocation of `work` (whose `invocations` already counts it).
 *
 * - success: checkpoint the whole batch;
 * - partial failure: checkpoint before the lowest failed record and retry the rest (this is a
 *   retry, so it uses one; with bisect on, Lambda also "bisects at the returned sequence number",
 *   which is the same thing);
 * - whole-batch failure with bisect on and more than one record: split in two halves, which keep
 *   the retries already used (splitting uses none);
 * - otherwise a retry, unless `maximumRetryAttempts` are used up: then the records are discarded.
 */
export function decideAfterInvocation(
  work: BatchWork,
  outcome: InvocationOutcome,
  settings: RetrySettings,
): BatchDecision {
  if (outcome.kind === 'success') return { type: 'checkpoint', checkpoint: work.size };
  if (outcome.kind === 'failure' && settings.bisectBatchOnFunctionError && work.size > 1) {
    const first = Math.ceil(work.size / 2);
    return {
      type: 'split',
      halves: [
        { size: first, retries: work.retries, invocations: work.invocations },
        { size: work.size - first, retries: work.retries, invocations: work.invocations },
      ],
    };
  }
  const checkpoint = outcome.kind === 'partial-failure' ? outcome.failedIndex : 0;
  const next: BatchWork = {
    size: work.size - checkpoint,
    retries: work.retries + 1,
    invocations: work.invocations,
  };
  if (settings.maximumRetryAttempts !== -1 && next.retries > settings.maximumRetryAttempts) {
    return { type: 'discard', checkpoint, discard: next.size, work: next };
  }
  return { type: 'retry', checkpoint, work: next };
}

/**
 * How many records at the head of a batch are older than `maximumRecordAgeInSeconds` (-1: none).
 * Records arrive in order, so the expired ones are a prefix.
 */
export function expiredPrefix(
  arrivalTimesMs: readonly number[],
  nowMs: number,
  maximumRecordAgeInSeconds: number,
): number {
  if (maximumRecordAgeInSeconds === -1) return 0;
  let count = 0;
  for (const arrival of arrivalTimesMs) {
    if (nowMs - arrival <= maximumRecordAgeInSeconds * 1000) break;
    count += 1;
  }
  return count;
}

/** The delay before retrying a batch for the `retries`-th time: 50 ms doubling up to 1 s. */
export function retryDelayMs(retries: number): number {
  return Math.min(1000, 50 * 2 ** Math.max(0, retries - 1));
}
