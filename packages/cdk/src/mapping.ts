/**
 * An event source mapping with a Tidemark function's required settings, and its on-failure queue
 * (its alarm is in `alarms.ts`).
 *
 * @internal
 */
import type { RequiredEventSourceSettings } from '@tidemark/core';
import { Duration } from 'aws-cdk-lib';
import {
  type CfnEventSourceMapping,
  EventSourceMapping,
  type IFunction,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What {@link createStreamMapping} needs. */
export interface StreamMappingInput {
  readonly target: IFunction;
  readonly eventSourceArn: string;
  readonly settings: RequiredEventSourceSettings;
  readonly parallelizationFactor: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly onFailure: IQueue;
}

/**
 * Creates the mapping. Every required setting is written into the template explicitly, even where
 * it equals Lambda's default, so the template says what the guarantees rest on.
 */
export function createStreamMapping(
  scope: Construct,
  id: string,
  input: StreamMappingInput,
): EventSourceMapping {
  const { settings } = input;
  const mapping = new EventSourceMapping(scope, id, {
    target: input.target,
    eventSourceArn: input.eventSourceArn,
    startingPosition: StartingPosition[settings.startingPosition],
    batchSize: input.batchSize,
    maxBatchingWindow: input.maxBatchingWindow,
    reportBatchItemFailures: settings.reportBatchItemFailures,
    bisectBatchOnError: settings.bisectBatchOnFunctionError,
    retryAttempts: settings.maximumRetryAttempts,
    parallelizationFactor: input.parallelizationFactor,
    onFailure: new SqsDlq(input.onFailure),
  });
  // The L2 property takes a Duration of at least 60 s; -1 (keep records until the stream's
  // retention ends) is only expressible on the L1 resource.
  (mapping.node.defaultChild as CfnEventSourceMapping).maximumRecordAgeInSeconds =
    settings.maximumRecordAgeInSeconds;
  // Lambda checks the function's permissions when the mapping is created: the role's policies
  // (the grants made before) must exist first.
  mapping.node.addDependency(input.target.role ?? input.target);
  return mapping;
}

/** The default on-failure queue: encrypted, TLS only, messages kept the maximum 14 days. */
export function createFailureQueue(scope: Construct, id: string): Queue {
  return new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
}
