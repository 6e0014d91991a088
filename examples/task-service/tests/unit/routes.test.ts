import { newCommandId } from '@tidemark/core';
import { projectEvents, taskEvents } from '@tidemark-examples/task-events';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { apiGatewayHandler } from '../../src/http/lambda-adapter';
import { createRoutes } from '../../src/http/routes';
import type { HttpHandler, HttpRequest } from '../../src/http/types';
import { createProjectCommands, type ProjectEvent } from '../../src/project-commands';
import { foldTask, type TaskEvent } from '../../src/task';
import { createTaskCommands } from '../../src/task-commands';
import { InMemoryLog, InMemoryProjects } from '../helpers/in-memory';

let taskLog: InMemoryLog<TaskEvent>;
let projectLog: InMemoryLog<ProjectEvent>;
let projects: InMemoryProjects;
let logger: { error: ReturnType<typeof vi.fn> };
let handle: HttpHandler;

beforeEach(() => {
  taskLog = new InMemoryLog<TaskEvent>(taskEvents, 'Task', '/task-service');
  projectLog = new InMemoryLog<ProjectEvent>(projectEvents, 'Project', '/project-service');
  projects = new InMemoryProjects();
  logger = { error: vi.fn() };
  handle = createRoutes({
    tasks: createTaskCommands({ log: taskLog, projects }),
    // The read model, always up to date here: the task folded from the log.
    reader: { get: async (id) => foldTask(await taskLog.read(id)) },
    projects: createProjectCommands({ log: projectLog }),
    logger,
  });
});

/** A request as a JSON client sends it (a body comes with `content-type: application/json`). */
const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  handle({
    method,
    path,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  } satisfies HttpRequest);

const parse = (response: { body?: string }) => JSON.parse(response.body ?? 'null');

async function createTask(body: unknown = { name: 'Write the docs', summary: 'all of them' }) {
  const response = await request('POST', '/tasks', body);
  expect(response.status).toBe(201);
  return parse(response);
}

describe('POST /tasks', () => {
  it('creates a task and answers 201 with its version and last command id', async () => {
    const response = await request('POST', '/tasks', { name: 'Write the docs', summary: 'all of them' });

    expect(response.status).toBe(201);
    const task = parse(response);
    expect(task).toMatchObject({
      name: 'Write the docs',
      summary: 'all of them',
      done: false,
      deleted: false,
      version: 1,
    });
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers['last-command-id']).toBe(task.lastCommandId);
    expect(response.headers.location).toBe(`/tasks/${task.id}`);
    expect(taskLog.appends).toEqual([
      { aggregateId: task.id, commandId: task.lastCommandId, types: ['TaskCreated'] },
    ]);
  });

  it('answers 400 with every issue for an invalid body', async () => {
    const response = await request('POST', '/tasks', { name: '', summary: 3, color: 'red' });

    expect(response.status).toBe(400);
    const { error } = parse(response);
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['', 'name', 'summary']);
    expect(taskLog.appends).toHaveLength(0);
  });

  it.each([
    ['malformed JSON', '{"name": ', 'JSON_MALFORMED'],
    ['no body', '', 'REQUEST_INVALID'],
    ['an array', '[1]', 'REQUEST_INVALID'],
  ])('answers 400 for %s', async (_label, body, code) => {
    const response = await request('POST', '/tasks', body);
    expect(response.status).toBe(400);
    expect(parse(response).error.code).toBe(code);
  });

  it('creates nothing new for a retried request with the same Idempotency-Key', async () => {
    const key = newCommandId();
    const first = await request('POST', '/tasks', { name: 'Once' }, { 'idempotency-key': key });
    const second = await request(
      'POST',
      '/tasks',
      { name: 'Once' },
      { 'idempotency-key': key.toLowerCase() },
    );

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(parse(second)).toEqual(parse(first));
    expect(parse(first).id).toBe(key);
    expect(parse(first).lastCommandId).not.toBe(key);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(taskLog.appends).toHaveLength(1);
  });

  it('answers 409 when an Idempotency-Key that created a task comes back with another body', async () => {
    const key = newCommandId();
    await request('POST', '/tasks', { name: 'First' }, { 'idempotency-key': key });

    const reused = await request('POST', '/tasks', { name: 'Second' }, { 'idempotency-key': key });

    expect(reused.status).toBe(409);
    expect(parse(reused).error.code).toBe('IDEMPOTENCY_KEY_CONFLICT');
    expect(taskLog.appends).toHaveLength(1);
  });

  it('answers 400 for an Idempotency-Key that is not a ULID', async () => {
    const response = await request('POST', '/tasks', { name: 'x' }, { 'idempotency-key': 'abc' });
    expect(response.status).toBe(400);
    expect(parse(response).error.issues[0].path).toBe('headers.idempotency-key');
  });

  it('refuses a task for an unknown or deleted project with 422, and accepts an active one', async () => {
    projects.statuses.set('p-deleted', 'deleted');
    projects.statuses.set('p-active', 'active');

    const unknown = await request('POST', '/tasks', { name: 'x', projectId: 'p-none' });
    const deleted = await request('POST', '/tasks', { name: 'x', projectId: 'p-deleted' });
    const active = await request('POST', '/tasks', { name: 'x', projectId: 'p-active' });

    expect(unknown.status).toBe(422);
    expect(parse(unknown).error.code).toBe('PROJECT_UNKNOWN');
    expect(deleted.status).toBe(422);
    expect(parse(deleted).error.context.deleted).toBe(true);
    expect(active.status).toBe(201);
    expect(parse(active).projectId).toBe('p-active');
  });
});

describe('GET /tasks/:id', () => {
  it('answers 200 with the task and its ETag', async () => {
    const created = await createTask();
    const response = await request('GET', `/tasks/${created.id}`);
    expect(response.status).toBe(200);
    expect(parse(response)).toEqual(created);
    expect(response.headers.etag).toBe('"1"');
  });

  it('answers 404 for an unknown task', async () => {
    const response = await request('GET', '/tasks/nope');
    expect(response.status).toBe(404);
    expect(parse(response).error.code).toBe('TASK_NOT_FOUND');
  });
});

describe('PATCH /tasks/:id', () => {
  it('changes only the fields given and records only those in TaskUpdated', async () => {
    const created = await createTask();

    const response = await request('PATCH', `/tasks/${created.id}`, { name: 'Write the README' });

    expect(response.status).toBe(200);
    expect(parse(response)).toMatchObject({ name: 'Write the README', summary: 'all of them', version: 2 });
    const events = await taskLog.read(created.id);
    expect(events[1]).toMatchObject({ type: 'TaskUpdated', data: { name: 'Write the README' } });
    expect(Object.keys(events[1]!.data)).toEqual(['name']);
  });

  it('removes the summary with summary: null', async () => {
    const created = await createTask();
    const response = await request('PATCH', `/tasks/${created.id}`, { summary: null });
    expect(parse(response).summary).toBeUndefined();
    expect(parse(response).version).toBe(2);
  });

  it('completes and reopens a task with done', async () => {
    const created = await createTask();

    const done = await request('PATCH', `/tasks/${created.id}`, { done: true });
    const reopened = await request('PATCH', `/tasks/${created.id}`, { done: false });

    expect(parse(done)).toMatchObject({ done: true, version: 2 });
    expect(parse(reopened)).toMatchObject({ done: false, version: 3 });
    expect(taskLog.appends.map((append) => append.types)).toEqual([
      ['TaskCreated'],
      ['TaskCompleted'],
      ['TaskReopened'],
    ]);
  });

  it('appends nothing when the fields already have those values', async () => {
    const created = await createTask();
    const response = await request('PATCH', `/tasks/${created.id}`, { name: created.name, done: false });
    expect(response.status).toBe(200);
    expect(parse(response).version).toBe(1);
    expect(taskLog.appends).toHaveLength(1);
  });

  it('answers 409 when If-Match names a version the task has left', async () => {
    const created = await createTask();
    await request('PATCH', `/tasks/${created.id}`, { name: 'first writer' }, { 'if-match': '"1"' });

    const response = await request(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'second writer' },
      { 'if-match': '"1"' },
    );

    expect(response.status).toBe(409);
    expect(parse(response).error).toMatchObject({ code: 'VERSION_MISMATCH', context: { currentVersion: 2 } });
  });

  it('answers 409 when another writer appends between the read and the append of a conditional PATCH', async () => {
    const created = await createTask();
    taskLog.beforeNextAppend = async () => {
      await taskLog.append({
        aggregateId: created.id,
        expectedVersion: 1,
        commandId: newCommandId(),
        events: [{ type: 'TaskCompleted', data: { name: 'Write the docs' } }],
      });
    };

    const response = await request(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'racing' },
      { 'if-match': '"1"' },
    );

    expect(response.status).toBe(409);
    expect(parse(response).error.code).toBe('VERSION_MISMATCH');
    expect((await taskLog.read(created.id)).map((event) => event.type)).toEqual([
      'TaskCreated',
      'TaskCompleted',
    ]);
  });

  it('decides an unconditional PATCH again on the new state when another writer appends first', async () => {
    const created = await createTask();
    taskLog.beforeNextAppend = async () => {
      await taskLog.append({
        aggregateId: created.id,
        expectedVersion: 1,
        commandId: newCommandId(),
        events: [{ type: 'TaskCompleted', data: { name: 'Write the docs' } }],
      });
    };

    const response = await request('PATCH', `/tasks/${created.id}`, { name: 'racing' });

    expect(response.status).toBe(200);
    expect(parse(response)).toMatchObject({ name: 'racing', done: true, version: 3 });
    expect((await taskLog.read(created.id)).map((event) => event.type)).toEqual([
      'TaskCreated',
      'TaskCompleted',
      'TaskUpdated',
    ]);
  });

  it('applies a PATCH once for a repeated Idempotency-Key', async () => {
    const created = await createTask();
    const key = newCommandId();
    const first = await request('PATCH', `/tasks/${created.id}`, { done: true }, { 'idempotency-key': key });
    const again = await request('PATCH', `/tasks/${created.id}`, { done: true }, { 'idempotency-key': key });
    expect(parse(again)).toEqual(parse(first));
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(taskLog.appends).toHaveLength(2);
  });

  it.each([
    ['an empty body', {}],
    ['a wrong type', { done: 'yes' }],
    ['an unknown field', { colour: 'red' }],
  ])('answers 400 for %s', async (_label, body) => {
    const created = await createTask();
    const response = await request('PATCH', `/tasks/${created.id}`, body);
    expect(response.status).toBe(400);
    expect(parse(response).error.code).toBe('REQUEST_INVALID');
  });

  it('answers 400 for an If-Match that is not a version', async () => {
    const created = await createTask();
    const response = await request('PATCH', `/tasks/${created.id}`, { done: true }, { 'if-match': '"abc"' });
    expect(response.status).toBe(400);
  });

  it('answers 404 for an unknown task', async () => {
    const response = await request('PATCH', '/tasks/nope', { done: true });
    expect(response.status).toBe(404);
  });
});

describe('DELETE /tasks/:id', () => {
  it('soft-deletes a task: the events stay, GET and PATCH answer 404, a second DELETE changes nothing', async () => {
    const created = await createTask();

    const deleted = await request('DELETE', `/tasks/${created.id}`);
    const again = await request('DELETE', `/tasks/${created.id}`);
    const get = await request('GET', `/tasks/${created.id}`);
    const patch = await request('PATCH', `/tasks/${created.id}`, { done: true });

    expect(deleted.status).toBe(200);
    expect(parse(deleted)).toMatchObject({ deleted: true, version: 2 });
    expect(again.status).toBe(200);
    expect(parse(again).version).toBe(2);
    expect(get.status).toBe(404);
    expect(parse(get).error.context.deleted).toBe(true);
    expect(patch.status).toBe(404);
    expect((await taskLog.read(created.id)).map((event) => event.type)).toEqual([
      'TaskCreated',
      'TaskDeleted',
    ]);
  });
});

describe('projects routes', () => {
  it('creates and deletes a project', async () => {
    const created = await request('POST', '/projects', { name: 'Launch' });
    const project = parse(created);
    const deleted = await request('DELETE', `/projects/${project.id}`);

    expect(created.status).toBe(201);
    expect(project).toMatchObject({ name: 'Launch', deleted: false, version: 1 });
    expect(deleted.status).toBe(200);
    expect(parse(deleted)).toMatchObject({ deleted: true, version: 2 });
  });

  it('answers 404 for deleting an unknown project and 400 for an invalid one', async () => {
    expect((await request('DELETE', '/projects/nope')).status).toBe(404);
    expect((await request('POST', '/projects', { name: 7 })).status).toBe(400);
  });
});

describe('routing and errors', () => {
  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const unknown = await request('GET', '/nothing');
    const wrongMethod = await request('PUT', '/tasks/abc', {});
    expect(unknown.status).toBe(404);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, PATCH, DELETE');
  });

  it.each([
    ['a control character', '/tasks/a%00b'],
    ['an id too long for a partition key', `/tasks/${'x'.repeat(300)}`],
    ['broken percent-encoding', '/tasks/%E0%A4%A'],
  ])('answers 400 for a task id with %s', async (_label, path) => {
    const response = await request('PATCH', path, { done: true });
    expect(response.status).toBe(400);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('answers 500 without details and logs the error when the infrastructure fails', async () => {
    const failing = createRoutes({
      tasks: createTaskCommands({ log: taskLog, projects }),
      reader: {
        get: async () => {
          throw new Error('connection reset');
        },
      },
      logger,
    });
    const response = await failing({ method: 'GET', path: '/tasks/abc', headers: {} });
    expect(response.status).toBe(500);
    expect(response.body).not.toMatch(/connection reset/);
    expect(logger.error).toHaveBeenCalledOnce();
  });
});

describe('apiGatewayHandler', () => {
  it('serves the same routes from an HTTP API payload 2.0 event, base64 bodies included', async () => {
    const handler = apiGatewayHandler(handle);
    const event = {
      version: '2.0',
      routeKey: 'POST /tasks',
      rawPath: '/tasks',
      rawQueryString: '',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': newCommandId() },
      requestContext: { http: { method: 'POST', path: '/tasks' } },
      body: Buffer.from(JSON.stringify({ name: 'From API Gateway' })).toString('base64'),
      isBase64Encoded: true,
    } as unknown as APIGatewayProxyEventV2;

    const first = await handler(event);
    const retried = await handler(event);

    expect(first.statusCode).toBe(201);
    expect(JSON.parse(first.body!)).toMatchObject({ name: 'From API Gateway', version: 1 });
    expect(retried.statusCode).toBe(201);
    expect(retried.body).toBe(first.body);
    expect(taskLog.appends).toHaveLength(1);
  });
});

describe('command ids', () => {
  it('accepts an Idempotency-Key older than the task’s last change: a key is never a command id', async () => {
    const oldKey = newCommandId();
    const created = await createTask();

    const response = await request(
      'PATCH',
      `/tasks/${created.id}`,
      { done: true },
      { 'idempotency-key': oldKey },
    );

    expect(response.status).toBe(200);
    expect(parse(response)).toMatchObject({ done: true, version: 2 });
    expect(parse(response).lastCommandId > created.lastCommandId).toBe(true);
    expect((await taskLog.read(created.id))[1]?.metadata.causationId).toBe(oldKey);
  });

  it('gives each change a command id greater than the task’s last one', async () => {
    const created = await createTask();
    const updated = parse(await request('PATCH', `/tasks/${created.id}`, { done: true }));
    expect(updated.lastCommandId > created.lastCommandId).toBe(true);
  });
});
