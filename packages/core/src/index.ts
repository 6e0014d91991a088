export type { AggregateRef } from './aggregate';
export { aggregateKey, assertAggregate, MAX_AGGREGATE_KEY_LENGTH, parseAggregateKey } from './aggregate';
export type { AwsClientOptions, AwsCredentials } from './aws-config';
export type {
  CatalogChange,
  CatalogCompatibilityReport,
  CatalogProblem,
  CatalogProblemCode,
} from './catalog-compatibility';
export { assertCatalogCompatible, checkCatalogCompatibility } from './catalog-compatibility';
export type { CatalogSnapshot, CatalogSnapshotEvent, CatalogSnapshotVersion } from './catalog-snapshot';
export {
  catalogSnapshot,
  parseCatalogSnapshot,
  serializeCatalogSnapshot,
} from './catalog-snapshot';
export type {
  EventClassification,
  InvalidEvent,
  NotReadableYetEvent,
  ReadableEvent,
  ReadableHow,
  UnknownTypeEvent,
} from './classify-event';
export { classifyEvent } from './classify-event';
export type { Ulid } from './command-id';
export {
  commandIdTime,
  compareCommandIds,
  isCommandId,
  newCommandId,
  newCommandIdAfter,
  parseCommandId,
  smallestCommandIdAfter,
} from './command-id';
export type {
  AnyEventCatalog,
  AnyEventDefinition,
  CatalogDefinitions,
  CatalogEvent,
  DefinitionOf,
  DomainEvent,
  EventCatalog,
  EventDefinition,
  EventInput,
  EventPayload,
  EventPayloadInput,
  EventTypeOf,
  PayloadSchema,
} from './definition-types';
export { defineCatalog, defineEvent } from './definitions';
export type {
  CreateEnvelopeInput,
  EventEnvelope,
  EventMetadata,
  KinesisRecordInput,
  SafeDecodeResult,
} from './envelope';
export {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
  safeDecodeEnvelope,
  toKinesisRecord,
} from './envelope';
export type { DecodedEnvelopeEntry, DecodedEnvelopeRecord } from './envelope-batch';
export {
  decodeEnvelopeRecord,
  ENVELOPE_BATCH_CONTENT_TYPE,
  encodeEnvelopeBatch,
  toKinesisBatchRecord,
} from './envelope-batch';
export type {
  CatalogProblemSummary,
  ConfigurationErrorOptions,
  TidemarkErrorOptions,
  UnsupportedSchemaVersionOptions,
  ValidationIssue,
} from './errors';
export {
  CatalogCompatibilityError,
  CatalogSnapshotError,
  ConfigurationError,
  EnvelopeDecodeError,
  EnvelopeValidationError,
  EventDefinitionError,
  InvalidAggregateError,
  InvalidCommandIdError,
  PayloadValidationError,
  RecordTooLargeError,
  TidemarkError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
  UpcastError,
} from './errors';
export type { EventLogItem, EventLogTableDescription } from './event-log';
export {
  EVENT_LOG_KEY,
  envelopeFromEventLogItem,
  eventLogItemFromEnvelope,
  eventLogTableDescription,
  parseEventLogItem,
} from './event-log';
export type {
  ConsumerEventSourceSettings,
  PublisherEventSourceSettings,
  RequiredEventSourceSettings,
} from './event-source-settings';
export {
  CONSUMER_EVENT_SOURCE_SETTINGS,
  PUBLISHER_EVENT_SOURCE_SETTINGS,
  TIDEMARK_METRICS,
} from './event-source-settings';
export type { JsonSchema } from './json-schema';
export { DYNAMODB_MAX_ITEM_BYTES, KINESIS_LIMITS } from './limits';
export type { JsonLoggerOptions, LogLevel, LogThreshold, TidemarkLogger } from './logger';
export { createJsonLogger, JSON_LOGGER_DEFAULTS } from './logger';
export type {
  ConsumerMetricName,
  PublisherMetricName,
  TidemarkMetricName,
  TidemarkMetrics,
} from './metrics';
export type { CompatibilityOptions } from './schema-compatibility';
export { findIncompatibilities } from './schema-compatibility';
export type { SchemaIncompatibility } from './schema-incompatibility';
