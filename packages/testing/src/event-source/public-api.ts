/**
 * The public names of the Lambda event-source emulation, the fake Lambda context and the
 * factories, re-exported by name from `src/index.ts`.
 */

export type { PendingShardWork } from '../errors';
export {
  EventSourceConfigurationError,
  EventSourceDrainTimeoutError,
  EventSourceError,
  EventSourceFailedError,
  EventSourceStateError,
  FunctionTimeoutError,
  HandlerResponseIgnoredError,
  LambdaContextMethodError,
  PendingWorkError,
} from '../errors';
export type {
  BuildEnvelopeOverrides,
  DynamoDbStreamEventFactoryOptions,
  DynamoDbStreamRecordInput,
  KinesisDataInput,
  KinesisEventFactoryOptions,
  StreamViewType,
} from '../factories';
export {
  buildEnvelope,
  buildEnvelopes,
  DEFAULT_DYNAMODB_STREAM_ARN,
  DEFAULT_KINESIS_STREAM_ARN,
  dynamoDbStreamEvent,
  dynamoDbStreamEventFromEnvelopes,
  dynamoDbStreamEventFromItems,
  dynamoDbStreamRecord,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
  kinesisRecordFromEnvelope,
} from '../factories';
export type { FakeLambdaContextOptions } from '../lambda-context';
export {
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  fakeLambdaContext,
  LAMBDA_CONTEXT_DEFAULTS,
} from '../lambda-context';
export type {
  DynamoDbStreamEventSource,
  DynamoDbStreamEventSourceOptions,
  DynamoDbStreamStartingPosition,
} from './dynamodb-stream-event-source';
export { createDynamoDbStreamEventSource } from './dynamodb-stream-event-source';
export type { GetRecordsEventOptions } from './get-records';
export { dynamoDbStreamEventFromGetRecords } from './get-records';
export type {
  KinesisEventSource,
  KinesisEventSourceOptions,
  KinesisStartingPosition,
  KinesisStreamRef,
} from './kinesis-event-source';
export { createKinesisEventSource } from './kinesis-event-source';
export { EVENT_SOURCE_DEFAULTS } from './options';
export type {
  DrainOptions,
  DynamoDbStreamOnFailureRecord,
  EventSourceInvocation,
  KinesisOnFailureRecord,
  OnFailureCondition,
  OnFailureRecordBase,
  OnFailureRequestContext,
  OnFailureResponseContext,
  StreamBatchInfo,
  StreamEventSource,
  StreamEventSourceOptions,
  StreamHandler,
} from './types';
