/**
 * The baseline the Tidemark consumer is measured against: what the Powertools documentation
 * recommends for an idempotent Kinesis consumer — the batch utility's partial-response processor
 * with each record handler made idempotent by the idempotency utility, persisted in DynamoDB.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';

/** The idempotency table Powertools expects: partition key `id` (string). */
export function powertoolsTableInput(tableName: string) {
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' as const }],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
}

/**
 * A Powertools batch + idempotency Kinesis handler that calls `effect` once per new record.
 * The idempotency key is the record's data (the encoded envelope), so a record redelivered by
 * Lambda or republished by a producer counts as the same.
 */
export function createPowertoolsConsumer(options: {
  readonly tableName: string;
  readonly dynamodb: DynamoDBClient;
  readonly effect: (record: KinesisStreamRecord) => Promise<void>;
}): (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse> {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.dynamodb,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'kinesis.data' });
  const recordHandler = makeIdempotent(
    async (record: KinesisStreamRecord) => {
      await options.effect(record);
      return { ok: true };
    },
    { persistenceStore, config },
  );
  return async (event, context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { context });
  };
}
