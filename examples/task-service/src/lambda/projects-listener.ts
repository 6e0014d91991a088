/** The projects listener Lambda (Kinesis event source). */

import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { openTaskEventLog, taskLog } from '../event-logs';
import { createProjectsListener } from '../listeners/projects-listener';
import { createProjectsTable } from '../project-directory';
import { setting } from '../settings';
import { createTaskCommands } from '../task-commands';

const dynamodb = new DynamoDBClient({});
const projects = createProjectsTable({ dynamodb, tableName: setting('PROJECTS_TABLE') });
// Namespace and service from the environment @tidemark/cdk sets, where its alarms look.
const metrics = new Metrics();

export const handler = middy(
  createProjectsListener({
    dynamodb,
    projects,
    tasks: createTaskCommands({
      log: taskLog(openTaskEventLog({ tableName: setting('TASK_LOG_TABLE'), dynamodb })),
      projects,
    }),
    consumerTable: setting('CONSUMER_TABLE'),
    metrics,
  }),
).use(logMetrics(metrics));
