export { CONSUMER_EVENT_SOURCE_SETTINGS, ConfigurationError, TIDEMARK_METRICS } from '@tidemark/core';
export type { Consumer, ConsumerDeadLetters, ConsumerGaps } from './consumer';
export { createConsumer, isConsumer } from './consumer';
export type { DeadLetters, DeadLettersOptions } from './dead-letters';
export { createDeadLetters } from './dead-letters';
export {
  ArrivedAfterSkipError,
  ConcurrentConsumerError,
  ConsumerError,
  ConsumerStoreError,
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
  EarlierCommitError,
  EventHandlerError,
  GapExpiredError,
  HandlerDidNotCompleteError,
  HeldRecordLostError,
  ImplausibleRecordError,
  StagedAfterReturnError,
  StagedWriteRejectedError,
  TransactionLimitError,
} from './errors';
export { CONSUMER_DEFAULTS } from './options';
export type { ConsumerTableDescription } from './table-keys';
export { CONSUMER_TABLE_KEY, CONSUMER_TABLE_TTL_ATTRIBUTE, consumerTableDescription } from './table-keys';
export { MAX_STAGED_WRITES } from './transaction';
export type {
  BatchSummary,
  CheckpointOptions,
  ConsumerOptions,
  ContextFor,
  DeadLetter,
  DeadLetterOptions,
  DeadLetterPage,
  DynamoDbClientOption,
  EventHandler,
  EventHandlers,
  GapSweepResult,
  HandlerContext,
  KinesisBatchResponse,
  KinesisEvent,
  KinesisRecord,
  KinesisRecordPayload,
  LambdaContextLike,
  OpenGap,
  ParkedRecord,
  ParkReason,
  RecordBatchPosition,
  RecordSource,
  RedriveResult,
  Transaction,
  TransactionalHandlerContext,
} from './types';
