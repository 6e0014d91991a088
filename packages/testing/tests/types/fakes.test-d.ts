import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type DynamoDbCall,
  type DynamoDbChange,
  type DynamoDbOperation,
  FakeDynamoDB,
  type FakeDynamoDBOptions,
  FakeKinesis,
  type KinesisCallOutcome,
} from '@tidemark/testing/fakes';
import { expectTypeOf } from 'vitest';

expectTypeOf<FakeDynamoDB['client']>().toEqualTypeOf<DynamoDBClient>();
expectTypeOf<FakeKinesis['client']>().toEqualTypeOf<KinesisClient>();
expectTypeOf<FakeDynamoDB['changes']>().returns.toEqualTypeOf<DynamoDbChange[]>();
expectTypeOf<DynamoDbCall['operation']>().toEqualTypeOf<DynamoDbOperation>();
expectTypeOf<KinesisCallOutcome['applied']>().toEqualTypeOf<boolean>();

new FakeDynamoDB({ faults: { seed: 1, operations: { BatchGetItem: { unprocessedRate: 0.5 } } } });
new FakeKinesis({ shardWriteLimits: { recordsPerSecond: 10 }, faults: { entryThrottleRate: 0.1 } });

// @ts-expect-error 'PutItems' is not an operation
new FakeDynamoDB({ faults: { operations: { PutItems: {} } } });
// @ts-expect-error throttleError is one of the SDK's throttling errors
const invalid: FakeDynamoDBOptions = { faults: { all: { throttleError: 'SlowDown' } } };
void invalid;
