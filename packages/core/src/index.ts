export type { AggregateRef } from './aggregate';
export {
  AGGREGATE_KEY_SEPARATOR,
  aggregateKey,
  assertAggregate,
  MAX_AGGREGATE_KEY_LENGTH,
  parseAggregateKey,
} from './aggregate';
export type {
  AwsClientOptions,
  AwsCredentials,
  AwsService,
  ResolvedAwsClientConfig,
  SdkClientLike,
} from './aws-config';
export { isSdkClient, resolveAwsClientConfig, resolveClient } from './aws-config';
export type {
  CatalogChange,
  CatalogCompatibilityReport,
  CatalogProblem,
  CatalogProblemCode,
  CatalogSnapshot,
  CatalogSnapshotEvent,
  CatalogSnapshotVersion,
} from './catalog-snapshot';
export {
  assertCatalogCompatible,
  CATALOG_SNAPSHOT_DIALECT,
  CATALOG_SNAPSHOT_FORMAT,
  catalogSnapshot,
  checkCatalogCompatibility,
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
  newEventId,
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
} from './definitions';
export { defineCatalog, defineEvent } from './definitions';
export type {
  CreateEnvelopeInput,
  EventEnvelope,
  EventMetadata,
  KinesisRecordInput,
  SafeDecodeResult,
} from './envelope';
export {
  CLOUDEVENTS_SPEC_VERSION,
  createEnvelope,
  decodeEnvelope,
  ENVELOPE_CONTENT_TYPE,
  encodeEnvelope,
  envelopeAggregate,
  envelopeMetadata,
  envelopePartitionKey,
  envelopeSchema,
  safeDecodeEnvelope,
  toKinesisRecord,
  validateEnvelope,
} from './envelope';
export type { DecodedEnvelopeEntry, DecodedEnvelopeRecord } from './envelope-batch';
export {
  decodeEnvelopeRecord,
  ENVELOPE_BATCH_CONTENT_TYPE,
  encodeEnvelopeBatch,
  envelopeBatchDataLength,
  joinEncodedEnvelopes,
  toKinesisBatchRecord,
} from './envelope-batch';
export type {
  CatalogProblemSummary,
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
  formatIssues,
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
export { toValidationIssues } from './issues';
export {
  assertFitsKinesisRecord,
  DYNAMODB_MAX_ITEM_BYTES,
  KINESIS_LIMITS,
  kinesisRecordSize,
  utf8Length,
} from './limits';
export type { CompatibilityOptions, JsonSchema, SchemaIncompatibility } from './schema-compatibility';
export { findIncompatibilities } from './schema-compatibility';
