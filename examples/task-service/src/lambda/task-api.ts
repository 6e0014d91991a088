/** The task API Lambda (API Gateway HTTP API, payload 2.0): the same route code as the local server. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openTaskEventLog, taskLog } from '../event-logs';
import { apiGatewayHandler } from '../http/lambda-adapter';
import { createRoutes } from '../http/routes';
import { createProjectsTable } from '../project-directory';
import { createTaskReadModel } from '../read-model';
import { setting } from '../settings';
import { createTaskCommands } from '../task-commands';

const dynamodb = new DynamoDBClient({});

export const handler = apiGatewayHandler(
  createRoutes({
    tasks: createTaskCommands({
      log: taskLog(openTaskEventLog({ tableName: setting('TASK_LOG_TABLE'), dynamodb })),
      projects: createProjectsTable({ dynamodb, tableName: setting('PROJECTS_TABLE') }),
    }),
    reader: createTaskReadModel({ dynamodb, tableName: setting('READ_MODEL_TABLE') }),
  }),
);
