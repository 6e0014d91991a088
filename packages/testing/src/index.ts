export { ConfigurationError } from '@tidemark/core';
export { DYNAMODB_LOCAL_IMAGE, KINESIS_MOCK_IMAGE } from './containers/images';
export { SESSION_LABEL } from './containers/watchdog';
export type { Edge, EdgeOptions, EdgeRoutes } from './edge';
export { FAULTS_PATH, HEALTH_PATH, routeTarget, startEdge } from './edge';
export {
  ContainerCleanupError,
  ContainerStartError,
  EmulatorStartError,
  EndpointUnavailableError,
  FaultControlError,
  JavaNotFoundError,
  LocalAwsError,
  LocalAwsNotProvidedError,
  LocalAwsOptionsError,
  LocalStackStartError,
  ResourceNotReadyError,
  TestcontainersNotInstalledError,
} from './errors';
// Lambda event-source emulation, fake Lambda context and factories (src/event-source/public-api.ts)
export type {
  BuildEnvelopeOverrides,
  DrainOptions,
  DynamoDbStreamEventFactoryOptions,
  DynamoDbStreamEventSource,
  DynamoDbStreamEventSourceOptions,
  DynamoDbStreamOnFailureRecord,
  DynamoDbStreamRecordInput,
  DynamoDbStreamStartingPosition,
  EventSourceInvocation,
  FakeLambdaContextOptions,
  GetRecordsEventOptions,
  KinesisDataInput,
  KinesisEventFactoryOptions,
  KinesisEventSource,
  KinesisEventSourceOptions,
  KinesisOnFailureRecord,
  KinesisStartingPosition,
  KinesisStreamRef,
  OnFailureCondition,
  OnFailureRecordBase,
  OnFailureRequestContext,
  OnFailureResponseContext,
  PendingShardWork,
  StreamBatchInfo,
  StreamEventSource,
  StreamEventSourceOptions,
  StreamHandler,
  StreamViewType,
} from './event-source/public-api';
export {
  buildEnvelope,
  buildEnvelopes,
  createDynamoDbStreamEventSource,
  createKinesisEventSource,
  DEFAULT_DYNAMODB_STREAM_ARN,
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  DEFAULT_KINESIS_STREAM_ARN,
  dynamoDbStreamEvent,
  dynamoDbStreamEventFromEnvelopes,
  dynamoDbStreamEventFromGetRecords,
  dynamoDbStreamEventFromItems,
  dynamoDbStreamRecord,
  EVENT_SOURCE_DEFAULTS,
  EventSourceConfigurationError,
  EventSourceDrainTimeoutError,
  EventSourceError,
  EventSourceFailedError,
  EventSourceStateError,
  FunctionTimeoutError,
  fakeLambdaContext,
  HandlerResponseIgnoredError,
  kinesisEventFromData,
  kinesisEventFromEnvelopes,
  kinesisRecordFromEnvelope,
  LAMBDA_CONTEXT_DEFAULTS,
  LambdaContextMethodError,
  PendingWorkError,
} from './event-source/public-api';
export type {
  DynamoDbFaultError,
  DynamoDbFaultSettings,
  EdgeService,
  FaultControl,
  FaultSettings,
  FaultStats,
  InjectedError,
  KinesisFaultSettings,
  KinesisThrottleError,
} from './faults';
export { FaultInjector, validateFaultSettings } from './faults';
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
  StartLocalAwsOptions,
} from './local-aws';
export {
  connectLocalAws,
  DEFAULT_CREDENTIALS,
  DEFAULT_REGION,
  LOCALSTACK_IMAGE,
  startLocalAws,
} from './local-aws';
export { LOCAL_AWS_DEFAULTS } from './local-aws-options';
export type { LocalAwsMode, LocalAwsModeOption, ModeChoice, ModeProbes } from './mode';
export { chooseLocalAwsMode, dockerEndpoint, dockerPlacesChecked, pingDocker } from './mode';
// Kinesis events with packed records (the publisher's CloudEvents JSON batch format)
export { kinesisEventFromEnvelopeRuns } from './packed-records';
