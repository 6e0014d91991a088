/** The task read-model listener Lambda (Kinesis event source). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createReadModelListener } from '../listeners/read-model-listener';
import { createTaskReadModel } from '../read-model';
import { setting } from '../settings';

const dynamodb = new DynamoDBClient({});
const readModelTable = setting('READ_MODEL_TABLE');

export const handler = createReadModelListener({
  dynamodb,
  readModelTable,
  readModel: createTaskReadModel({ dynamodb, tableName: readModelTable }),
  consumerTable: setting('CONSUMER_TABLE'),
});
