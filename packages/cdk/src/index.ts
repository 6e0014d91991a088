export { ConfigurationError } from '@tidemark/core';
export type { MetricsTarget } from './alarms';
export { InvalidConstructPropsError, TidemarkCdkError, UnsupportedTopologyError } from './errors';
export type { EventConsumerAlarms, EventConsumerProps } from './event-consumer';
export {
  CONSUMER_TABLE_ACTIONS,
  CONSUMER_TTL_ATTRIBUTE,
  EventConsumer,
  TRANSACTIONAL_WRITE_ACTIONS,
} from './event-consumer';
export type { EventLogTableProps } from './event-log-table';
export { EventLogTable } from './event-log-table';
export type { EventPublisherAlarms, EventPublisherProps } from './event-publisher';
export { EventPublisher } from './event-publisher';
export type { EventStreamProps } from './event-stream';
export { DEFAULT_EVENT_STREAM_RETENTION, EventStream, STREAM_READ_ACTIONS } from './event-stream';
