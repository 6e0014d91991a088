export { PUBLISHER_EVENT_SOURCE_SETTINGS, TIDEMARK_METRICS } from '@tidemark/core';
export {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  CorruptEventLogItemError,
  EventLogBusyError,
  InvalidResumeTokenError,
  PublisherError,
  ReplayInterruptedError,
  TooManyEventsError,
} from './errors';
export type {
  AggregateHead,
  AppendInput,
  AppendResult,
  AppendRetryOptions,
  EventLog,
  EventLogOptions,
  ReadOptions,
} from './event-log';
export {
  createEventLog,
  MAX_EVENTS_PER_COMMAND,
  MAX_TRANSACTION_BYTES,
} from './event-log';
export type {
  JsonLoggerOptions,
  LogLevel,
  PublisherCounter,
  PublisherLogger,
  PublisherMetric,
  PublisherMetricsHook,
} from './observability';
export { createJsonLogger } from './observability';
export type { PublishRetryOptions } from './ordered-publish';
export type {
  PublishBatchResult,
  Publisher,
  PublisherMiddleware,
  PublisherOptions,
  PublishingOptions,
  PublishSummary,
  StreamRoute,
  StreamTargetOptions,
} from './publisher';
export { createPublisher } from './publisher';
export type { ReplayOptions, ReplayProgress, ReplayResult } from './replay';
export { replay } from './replay';
export type { CallLimits, WaveRecord } from './waves';
export { PUT_RECORDS_LIMITS, planWaves, splitIntoCalls } from './waves';
