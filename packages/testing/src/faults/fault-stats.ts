/**
 * The counters the edge keeps of the calls it saw and the faults it injected.
 */

/** What the edge saw and injected since the last `faults.set` (or since it started). */
export interface FaultStats {
  /** AWS calls that went through the edge. */
  readonly requests: number;
  /** Calls that were delayed by `latencyMs`. */
  readonly delayed: number;
  /** Faults injected in all, each failed PutRecords entry counting as one. */
  readonly injected: number;
  /** Whole Kinesis calls rejected with the throttle error. */
  readonly kinesisThrottled: number;
  /** PutRecords calls that had entries failed by the edge. */
  readonly putRecordsCallsWithFailures: number;
  /** PutRecords entries the edge failed (never sent to the engine). */
  readonly putRecordsEntriesFailed: number;
  /** DynamoDB calls the edge failed. */
  readonly dynamodbFailed: number;
  /** DynamoDB Streams calls the edge failed. */
  readonly dynamodbStreamsFailed: number;
  /** Injected faults per operation, keyed `Service.Operation` (e.g. `Kinesis.PutRecords`, `DynamoDB.UpdateItem`). */
  readonly byOperation: Readonly<Record<string, number>>;
  /**
   * Every AWS call that went through the edge per operation, keyed like `byOperation`, whether or
   * not a fault was injected: `injected / requests` of an operation is its observed fault rate.
   */
  readonly requestsByOperation: Readonly<Record<string, number>>;
}

/** Stats with every counter at zero. */
export function emptyFaultStats(): FaultStats {
  return {
    requests: 0,
    delayed: 0,
    injected: 0,
    kinesisThrottled: 0,
    putRecordsCallsWithFailures: 0,
    putRecordsEntriesFailed: 0,
    dynamodbFailed: 0,
    dynamodbStreamsFailed: 0,
    byOperation: {},
    requestsByOperation: {},
  };
}
