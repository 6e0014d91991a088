/** The task read-model listener Lambda (Kinesis event source). */

import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { createReadModelListener } from '../listeners/read-model-listener';
import { createTaskReadModel } from '../read-model';
import { setting } from '../settings';

const dynamodb = new DynamoDBClient({});
const readModelTable = setting('READ_MODEL_TABLE');
// Namespace and service from the environment @tidemark/cdk sets, where its alarms look.
const metrics = new Metrics();

export const handler = middy(
  createReadModelListener({
    dynamodb,
    readModelTable,
    readModel: createTaskReadModel({ dynamodb, tableName: readModelTable }),
    consumerTable: setting('CONSUMER_TABLE'),
    metrics,
  }),
).use(logMetrics(metrics));
