/** The project service's API Lambda (API Gateway HTTP API, payload 2.0): the `/projects` routes. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openProjectEventLog, projectLog } from '../event-logs';
import { apiGatewayHandler } from '../http/lambda-adapter';
import { createRoutes } from '../http/routes';
import { createProjectCommands } from '../project-commands';
import { setting } from '../settings';

const dynamodb = new DynamoDBClient({});

export const handler = apiGatewayHandler(
  createRoutes({
    projects: createProjectCommands({
      log: projectLog(openProjectEventLog({ tableName: setting('PROJECT_LOG_TABLE'), dynamodb })),
    }),
  }),
);
