export type { Edge, EdgeOptions, EdgeRoutes } from './edge';
export { FAULTS_PATH, HEALTH_PATH, routeTarget, startEdge } from './edge';
export {
  EmulatorStartError,
  EndpointUnavailableError,
  FaultControlError,
  JavaNotFoundError,
  LocalAwsError,
  LocalAwsNotProvidedError,
  LocalAwsOptionsError,
  LocalStackStartError,
  ResourceNotReadyError,
} from './errors';
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
export type { LocalAwsMode, LocalAwsModeOption, ModeChoice, ModeProbes } from './mode';
export { chooseLocalAwsMode, dockerEndpoint, pingDocker } from './mode';
