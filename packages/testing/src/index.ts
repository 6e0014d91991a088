export { ConfigurationError } from '@tidemark/core';
// Local AWS: one call starts it (src/local-aws.ts); the modes and their images
export { DYNAMODB_LOCAL_IMAGE, KINESIS_MOCK_IMAGE, LOCALSTACK_IMAGE } from './containers/images';
export { SESSION_LABEL } from './containers/watchdog';
// Errors of local AWS, the fakes and the event sources
export type { PendingShardWork } from './errors';
export {
  ContainerCleanupError,
  ContainerStartError,
  EmulatorStartError,
  EndpointUnavailableError,
  EventSourceConfigurationError,
  EventSourceDrainTimeoutError,
  EventSourceError,
  EventSourceFailedError,
  EventSourceStateError,
  FaultControlError,
  FunctionTimeoutError,
  HandlerResponseIgnoredError,
  JavaNotFoundError,
  LambdaContextMethodError,
  LocalAwsError,
  LocalAwsNotProvidedError,
  LocalAwsOptionsError,
  LocalStackStartError,
  PendingWorkError,
  ResourceNotReadyError,
  TestcontainersNotInstalledError,
} from './errors';
// Lambda event-source emulation
export type {
  DynamoDbStreamEventSource,
  DynamoDbStreamEventSourceOptions,
  DynamoDbStreamStartingPosition,
} from './event-source/dynamodb-stream-event-source';
export { createDynamoDbStreamEventSource } from './event-source/dynamodb-stream-event-source';
export type { GetRecordsEventOptions } from './event-source/get-records';
export { dynamoDbStreamEventFromGetRecords } from './event-source/get-records';
export type {
  KinesisEventSource,
  KinesisEventSourceOptions,
  KinesisStartingPosition,
  KinesisStreamRef,
} from './event-source/kinesis-event-source';
export { createKinesisEventSource } from './event-source/kinesis-event-source';
export { EVENT_SOURCE_DEFAULTS } from './event-source/options';
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
} from './event-source/types';
// Factories for unit tests of handlers
export type {
  DynamoDbStreamEventFactoryOptions,
  DynamoDbStreamRecordInput,
  StreamViewType,
} from './factories/dynamodb-stream-events';
export {
  DEFAULT_DYNAMODB_STREAM_ARN,
  dynamoDbStreamEvent,
  dynamoDbStreamEventFromEnvelopes,
  dynamoDbStreamEventFromItems,
  dynamoDbStreamRecord,
} from './factories/dynamodb-stream-events';
export type { BuildEnvelopeOverrides } from './factories/envelopes';
export { buildEnvelope, buildEnvelopes } from './factories/envelopes';
export type { KinesisDataInput, KinesisEventFactoryOptions } from './factories/kinesis-events';
export {
  DEFAULT_KINESIS_STREAM_ARN,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
  kinesisRecordFromEnvelope,
} from './factories/kinesis-events';
// Fault injection at the edge (`aws.faults`)
export type { FaultControl } from './faults/fault-control';
export type {
  DynamoDbFaultError,
  DynamoDbFaultSettings,
  FaultSettings,
  KinesisFaultSettings,
  KinesisThrottleError,
} from './faults/fault-settings';
export type { FaultStats } from './faults/fault-stats';
export type { FakeLambdaContextOptions } from './lambda-context';
export {
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  fakeLambdaContext,
  LAMBDA_CONTEXT_DEFAULTS,
} from './lambda-context';
export type { StartLocalAwsOptions } from './local-aws';
export {
  connectLocalAws,
  DEFAULT_CREDENTIALS,
  DEFAULT_REGION,
  startLocalAws,
} from './local-aws';
export type {
  CreatedEventLogTable,
  CreatedKinesisStream,
  CreatedTable,
  CreateEventLogTableOptions,
  CreateKinesisStreamOptions,
  CreateTableInput,
  LocalAws,
  LocalAwsClientConfig,
  LocalAwsConnection,
  LocalAwsContainer,
  LocalAwsProcess,
} from './local-aws-handle';
export { LOCAL_AWS_DEFAULTS } from './local-aws-options';
// A logger that keeps what it is told
export type { MemoryLogger, MemoryLogLevel, MemoryLogLine } from './memory-logger';
export { memoryLogger } from './memory-logger';
export type { LocalAwsMode, LocalAwsModeOption, ModeChoice, ModeProbes } from './mode';
export { chooseLocalAwsMode, pingDocker } from './mode';
// Kinesis events with packed records (the publisher's CloudEvents JSON batch format)
export { kinesisEventFromEnvelopeRuns } from './packed-records';
