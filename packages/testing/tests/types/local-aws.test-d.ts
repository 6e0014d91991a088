import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type FaultSettings,
  type FaultStats,
  type LocalAws,
  type LocalAwsContainer,
  type LocalAwsMode,
  startLocalAws,
} from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { expectTypeOf } from 'vitest';

expectTypeOf(startLocalAws).returns.resolves.toEqualTypeOf<LocalAws>();
expectTypeOf<LocalAws['mode']>().toEqualTypeOf<LocalAwsMode>();
expectTypeOf<LocalAws['dynamodb']>().toEqualTypeOf<DynamoDBClient>();
expectTypeOf<LocalAws['kinesis']>().toEqualTypeOf<KinesisClient>();
expectTypeOf<LocalAws['faults']['stats']>().returns.resolves.toEqualTypeOf<FaultStats>();
expectTypeOf<LocalAws>().toMatchTypeOf<AsyncDisposable>();
expectTypeOf<LocalAws['containers']>().toEqualTypeOf<readonly LocalAwsContainer[]>();
expectTypeOf<'containers'>().toMatchTypeOf<LocalAwsMode>();
void startLocalAws({ mode: 'containers', dynamodbImage: 'amazon/dynamodb-local:3.3.0' });

// @ts-expect-error 'docker' is not a mode
void startLocalAws({ mode: 'docker' });

const faults: FaultSettings = { kinesis: { throttleError: 'LimitExceededException' } };
void faults;
// @ts-expect-error DynamoDB has no LimitExceededException fault
const wrong: FaultSettings = { dynamodb: { error: 'LimitExceededException' } };
void wrong;

test('fixtures are typed', ({ aws, eventLogTable, kinesisStream }) => {
  expectTypeOf(aws).toEqualTypeOf<LocalAws>();
  expectTypeOf(eventLogTable).toEqualTypeOf<{ readonly tableName: string; readonly streamArn: string }>();
  expectTypeOf(kinesisStream.streamArn).toBeString();
});
