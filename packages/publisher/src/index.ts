export { ConfigurationError, PUBLISHER_EVENT_SOURCE_SETTINGS, TIDEMARK_METRICS } from '@tidemark/core';
export type {
  AggregateHead,
  AppendInput,
  AppendResult,
  AppendRetryOptions,
  EventLog,
  EventLogOptions,
  ReadOptions,
} from '@tidemark/event-log';
// The event log moved to @tidemark/event-log (the write side, without Kinesis or middy); these
// re-exports keep imports from @tidemark/publisher working.
export {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  CorruptEventLogItemError,
  createEventLog,
  EVENT_LOG_DEFAULTS,
  EventLogBusyError,
  EventLogError,
  MAX_EVENTS_PER_COMMAND,
  MAX_TRANSACTION_BYTES,
  TooManyEventsError,
} from '@tidemark/event-log';
export { InvalidResumeTokenError, PublisherError, ReplayInterruptedError } from './errors';
export type { PublishRetryOptions } from './ordered-publish';
export { createPublisher } from './publisher';
export { PUBLISHER_DEFAULTS, REPLAY_DEFAULTS } from './publisher-options';
export type {
  PublishBatchResult,
  Publisher,
  PublisherMiddleware,
  PublisherOptions,
  PublishingOptions,
  PublishSummary,
  StreamRoute,
  StreamTargetOptions,
} from './publisher-types';
export { replay } from './replay';
export type { ReplayOptions, ReplayProgress, ReplayResult } from './replay-types';
export type { CallLimits, WaveRecord } from './waves';
export { PUT_RECORDS_LIMITS, planWaves, splitIntoCalls } from './waves';
