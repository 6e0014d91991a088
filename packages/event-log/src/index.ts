export type { EventLogTableDescription } from '@tidemark/core';
export { ConfigurationError, EVENT_LOG_KEY, eventLogTableDescription } from '@tidemark/core';
export type { AppendResult } from './append';
export type { AppendInput } from './append-input';
export type { AppendRetryOptions } from './append-retry';
export {
  AppendValidationError,
  CommandIdNotIncreasingError,
  ConcurrencyError,
  CorruptEventLogItemError,
  EventLogBusyError,
  EventLogError,
  TooManyEventsError,
} from './errors';
export type { EventLog, EventLogOptions } from './event-log';
export { createEventLog } from './event-log';
export { EVENT_LOG_DEFAULTS, READ_DEFAULTS } from './event-log-options';
export {
  COMMAND_ITEM_ATTRIBUTES,
  MAX_EVENTS_PER_COMMAND,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
} from './limits';
export type { AggregateHead, ReadOptions } from './reads';
