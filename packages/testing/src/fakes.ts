/**
 * Strict in-memory fakes of DynamoDB and Kinesis for unit tests, property tests and simulations:
 * client-compatible `send`, the services' limits and semantics, seeded faults, hooks around every
 * call and introspection. Import from `@tidemark/testing/fakes`.
 */

export { FakeUnsupportedError, LocalAwsOptionsError } from './errors';
export type { FakeCall, FakeCallOutcome } from './fakes/call-pipeline';
export type { AttributeMap, AttributeType } from './fakes/dynamodb/attribute-value';
export { itemSize, MAX_ITEM_BYTES, MAX_NESTING_DEPTH, valueSize } from './fakes/dynamodb/attribute-value';
export {
  MAX_BATCH_BYTES,
  MAX_BATCH_GET_KEYS,
  MAX_BATCH_WRITE_REQUESTS,
} from './fakes/dynamodb/batch-operations';
export type {
  DynamoDbCall,
  DynamoDbCallOutcome,
  DynamoDbSnapshot,
  FakeDynamoDBOptions,
} from './fakes/dynamodb/fake-dynamodb';
export { FakeDynamoDB } from './fakes/dynamodb/fake-dynamodb';
export type {
  DynamoDbFaultStats,
  DynamoDbFaults,
  DynamoDbOperation,
  DynamoDbOperationFaults,
} from './fakes/dynamodb/fault-plan';
export { DYNAMODB_OPERATIONS } from './fakes/dynamodb/fault-plan';
export type { DynamoDbChange, DynamoDbWriteRecord } from './fakes/dynamodb/model-state';
export { MAX_PAGE_BYTES } from './fakes/dynamodb/read-operations';
export { MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES } from './fakes/dynamodb/table';
export {
  CLIENT_REQUEST_TOKEN_TTL_MS,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
} from './fakes/dynamodb/transact-operations';
export type {
  FakeKinesisOptions,
  KinesisCall,
  KinesisCallOutcome,
  KinesisSnapshot,
  KinesisStoredRecord,
} from './fakes/kinesis/fake-kinesis';
export { FakeKinesis } from './fakes/kinesis/fake-kinesis';
export type {
  KinesisFaultStats,
  KinesisFaults,
  KinesisOperation,
  KinesisOperationFaults,
} from './fakes/kinesis/fault-plan';
export { KINESIS_OPERATIONS } from './fakes/kinesis/fault-plan';
export {
  MAX_GET_RECORDS,
  MAX_GET_RECORDS_BYTES,
  MAX_PARTITION_KEY_LENGTH,
  MAX_PUT_RECORDS,
  MAX_PUT_RECORDS_BYTES,
  MAX_RECORD_BYTES,
  SHARD_ITERATOR_TTL_MS,
} from './fakes/kinesis/record-operations';
