import { consumerTableDescription } from '@tidemark/consumer';
import type { EventEnvelope } from '@tidemark/core';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { openProjectEventLog, openTaskEventLog, projectLog, taskLog } from '../../src/event-logs';
import { createProjectsListener } from '../../src/listeners/projects-listener';
import { createProjectCommands } from '../../src/project-commands';
import { createProjectsTable, projectsTableDescription } from '../../src/project-directory';
import { createTaskCommands } from '../../src/task-commands';

async function setUp(aws: LocalAws) {
  const [taskTable, projectTable, projectsTable] = await Promise.all([
    aws.createEventLogTable({ prefix: 'tasks' }),
    aws.createEventLogTable({ prefix: 'projects' }),
    aws.createTable({ ...projectsTableDescription('unused'), TableName: undefined }),
  ]);
  const taskEventLog = openTaskEventLog({ tableName: taskTable.tableName, dynamodb: aws.dynamodb });
  const projectEventLog = openProjectEventLog({ tableName: projectTable.tableName, dynamodb: aws.dynamodb });
  const projects = createProjectsTable({ dynamodb: aws.dynamodb, tableName: projectsTable.tableName });
  const tasks = createTaskCommands({ log: taskLog(taskEventLog), projects });
  const projectCommands = createProjectCommands({ log: projectLog(projectEventLog) });
  const listener = async () => {
    const { tableName } = await aws.createTable({
      ...consumerTableDescription('unused'),
      TableName: undefined,
    });
    return createProjectsListener({ dynamodb: aws.dynamodb, projects, tasks, consumerTable: tableName });
  };
  const taskEnvelopes = async (id: string) => {
    const envelopes: EventEnvelope[] = [];
    for await (const envelope of taskEventLog.readEnvelopes({ type: 'Task', id })) envelopes.push(envelope);
    return envelopes;
  };
  const projectEnvelopes = async (id: string) => {
    const envelopes: EventEnvelope[] = [];
    for await (const envelope of projectEventLog.readEnvelopes({ type: 'Project', id }))
      envelopes.push(envelope);
    return envelopes;
  };
  return { projects, tasks, projectCommands, listener, taskEnvelopes, projectEnvelopes, taskEventLog };
}

describe('the projects listener', () => {
  test("deletes a deleted project's tasks once, even when the deletion is delivered again", async ({
    aws,
  }) => {
    const { projects, tasks, projectCommands, listener, taskEnvelopes, projectEnvelopes, taskEventLog } =
      await setUp(aws);
    const { project } = await projectCommands.create({ name: 'Launch' });
    await projects.created(project.id, project.name);
    const { task } = await tasks.create({ name: 'Book the venue', projectId: project.id });
    await projectCommands.delete(project.id);
    const batch = kinesisEventFromEnvelopes([
      ...(await projectEnvelopes(project.id)),
      ...(await taskEnvelopes(task.id)),
    ]);

    const first = await (await listener())(batch, fakeLambdaContext({ timeoutSeconds: 60 }));
    // A second consumer without checkpoints re-runs every handler: a redelivery after lost progress.
    const second = await (await listener())(batch, fakeLambdaContext({ timeoutSeconds: 60 }));

    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    const events = await taskEventLog.readAll({ type: 'Task', id: task.id });
    expect(events.map((event) => event.type)).toEqual(['TaskCreated', 'TaskDeleted']);
    // The consumer runs the Project and Task aggregates side by side, so the deletion is caused
    // either by ProjectDeleted or by TaskCreated (which sees the project already deleted): one of
    // them, exactly once.
    const projectDeleted = (await projectEnvelopes(project.id))[1]!;
    const taskCreated = (await taskEnvelopes(task.id))[0]!;
    const causes = [projectDeleted, taskCreated].map((cause) => ({
      causationId: cause.id,
      correlationId: cause.correlationid ?? cause.id,
    }));
    expect(causes).toContainEqual(events[1]?.metadata);
    expect(await projects.status(project.id)).toBe('deleted');
  });

  test('deletes a task whose TaskCreated arrives after its project was deleted', async ({ aws }) => {
    const { projects, tasks, projectCommands, listener, taskEnvelopes, projectEnvelopes, taskEventLog } =
      await setUp(aws);
    const { project } = await projectCommands.create({ name: 'Launch' });
    await projects.created(project.id, project.name);
    // The task is accepted while the project is still known as active…
    const { task } = await tasks.create({ name: 'Late task', projectId: project.id });
    await projectCommands.delete(project.id);
    const consumer = await listener();

    // …but the listener sees the project's deletion first, the task's creation after.
    await consumer(
      kinesisEventFromEnvelopes(await projectEnvelopes(project.id)),
      fakeLambdaContext({ timeoutSeconds: 60 }),
    );
    const response = await consumer(
      kinesisEventFromEnvelopes(await taskEnvelopes(task.id)),
      fakeLambdaContext({ timeoutSeconds: 60 }),
    );

    expect(response.batchItemFailures).toEqual([]);
    const events = await taskEventLog.readAll({ type: 'Task', id: task.id });
    expect(events.map((event) => event.type)).toEqual(['TaskCreated', 'TaskDeleted']);
    expect(events[1]?.data).toEqual({ name: 'Late task', reason: 'project-deleted', projectId: project.id });
  });

  test('makes a project known, so that the task commands accept tasks for it', async ({ aws }) => {
    const { tasks, projectCommands, listener, projectEnvelopes } = await setUp(aws);
    const { project } = await projectCommands.create({ name: 'Launch' });
    await expect(tasks.create({ name: 'Too early', projectId: project.id })).rejects.toMatchObject({
      code: 'PROJECT_UNKNOWN',
    });

    await (await listener())(
      kinesisEventFromEnvelopes(await projectEnvelopes(project.id)),
      fakeLambdaContext({ timeoutSeconds: 60 }),
    );

    const { task } = await tasks.create({ name: 'In time', projectId: project.id });
    expect(task.projectId).toBe(project.id);
  });
});
