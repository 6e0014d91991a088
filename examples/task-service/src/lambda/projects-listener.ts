/** The projects listener Lambda (Kinesis event source). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openTaskEventLog, taskLog } from '../event-logs';
import { createProjectsListener } from '../listeners/projects-listener';
import { createProjectsTable } from '../project-directory';
import { setting } from '../settings';
import { createTaskCommands } from '../task-commands';

const dynamodb = new DynamoDBClient({});
const projects = createProjectsTable({ dynamodb, tableName: setting('PROJECTS_TABLE') });

export const handler = createProjectsListener({
  dynamodb,
  projects,
  tasks: createTaskCommands({
    log: taskLog(openTaskEventLog({ tableName: setting('TASK_LOG_TABLE'), dynamodb })),
    projects,
  }),
  consumerTable: setting('CONSUMER_TABLE'),
});
