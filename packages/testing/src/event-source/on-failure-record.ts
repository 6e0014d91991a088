/**
 * The record Lambda sends to an on-failure destination (SQS or SNS) when it gives up on records:
 * the request and response context of the last invocation (or of none, when records expired before
 * any) and the batch's range.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { BufferedRecord, LastInvocation } from './shard-state';
import type { OnFailureCondition, OnFailureRecordBase, StreamBatchInfo } from './types';

/** What an on-failure record says about records given up on. */
export interface GivenUp {
  readonly shardId: string;
  readonly streamArn: string;
  readonly functionArn: string;
  /** The records, in shard order (at least one). */
  readonly records: readonly BufferedRecord<unknown>[];
  /** How often they were invoked (0: they expired before any invocation). */
  readonly invocations: number;
  /** The shard's last invocation, when there was one. */
  readonly lastInvocation: LastInvocation | undefined;
  readonly condition: OnFailureCondition;
  /** Formats an arrival time as the service's batch info does. */
  readonly formatArrival: (ms: number) => string;
}

/** The common fields and the batch info of an on-failure record. */
export function onFailureParts(givenUp: GivenUp): { base: OnFailureRecordBase; batchInfo: StreamBatchInfo } {
  const { records, lastInvocation } = givenUp;
  const first = records[0]!;
  const last = records[records.length - 1]!;
  const invoked = givenUp.invocations > 0 ? lastInvocation : undefined;
  const base: OnFailureRecordBase = {
    requestContext: {
      requestId: invoked ? invoked.awsRequestId : randomUUID(),
      functionArn: givenUp.functionArn,
      condition: givenUp.condition,
      approximateInvokeCount: givenUp.invocations,
    },
    responseContext: invoked
      ? {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: invoked.functionError ? 'Unhandled' : null,
        }
      : { statusCode: 0, executedVersion: '$LATEST', functionError: null },
    version: '1.0',
    timestamp: new Date().toISOString(),
  };
  const batchInfo: StreamBatchInfo = {
    shardId: givenUp.shardId,
    startSequenceNumber: first.sequenceNumber,
    endSequenceNumber: last.sequenceNumber,
    approximateArrivalOfFirstRecord: givenUp.formatArrival(first.arrivalMs),
    approximateArrivalOfLastRecord: givenUp.formatArrival(last.arrivalMs),
    batchSize: records.length,
    streamArn: givenUp.streamArn,
  };
  return { base, batchInfo };
}
