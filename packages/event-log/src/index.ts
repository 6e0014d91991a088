export type { EventLogTableDescription } from '@tidemark/core';
export { ConfigurationError, EVENT_LOG_KEY, eventLogTableDescription } from '@tidemark/core';
export {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  CorruptEventLogItemError,
  EventLogBusyError,
  EventLogError,
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
  COMMAND_ITEM_ATTRIBUTES,
  createEventLog,
  MAX_EVENTS_PER_COMMAND,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
} from './event-log';
export { EVENT_LOG_DEFAULTS, READ_DEFAULTS } from './event-log-options';
