import { newCommandId } from '@tidemark/core';
import { EventLogBusyError } from '@tidemark/event-log';
import { projectEvents, taskEvents } from '@tidemark-examples/task-events';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiGatewayHandler } from '../../src/http/lambda-adapter';
import { createRoutes } from '../../src/http/routes';
import type { HttpHandler, HttpRequest, HttpResponse } from '../../src/http/types';
import { MAX_BODY_BYTES } from '../../src/http/types';
import { createProjectCommands, type ProjectEvent } from '../../src/project-commands';
import { foldTask, type TaskEvent } from '../../src/task';
import { createTaskCommands } from '../../src/task-commands';
import { InMemoryLog, InMemoryProjects } from '../helpers/in-memory';

/** The largest and the smallest ULID: keys a client can send that no command id could follow. */
const LARGEST_ULID = '7ZZZZZZZZZZZZZZZZZZZZZZZZZ';
const SMALLEST_ULID = '00000000000000000000000000';

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
    reader: { get: async (id) => foldTask(await taskLog.read(id)) },
    projects: createProjectCommands({ log: projectLog }),
    logger,
  });
});

afterEach(() => {
  // Whatever an attacker sends is the attacker's mistake: nothing here may reach the 500 path.
  expect(logger.error).not.toHaveBeenCalled();
});

const JSON_TYPE = { 'content-type': 'application/json' };

const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  handle({ method, path, headers, ...(body === undefined ? {} : { body }) } satisfies HttpRequest);

const sendJson = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(method, path, { ...JSON_TYPE, ...headers }, JSON.stringify(body));

const parse = (response: HttpResponse) => JSON.parse(response.body ?? 'null');

async function createTask(body: unknown = { name: 'Target' }, headers: Record<string, string> = {}) {
  const response = await sendJson('POST', '/tasks', body, headers);
  expect(response.status).toBe(201);
  return parse(response) as { id: string; version: number; lastCommandId: string };
}

describe('Idempotency-Key: no value a client sends can make later commands impossible', () => {
  it.each([
    ['the largest ULID', LARGEST_ULID],
    ['the smallest ULID', SMALLEST_ULID],
    ['a ULID from the far future, lower case', '7ZZZZZZZZZZZZZZZZZZZZZZZZY'.toLowerCase()],
    ['a ULID from 1970', '00000000010000000000000000'],
    ['a fresh ULID', newCommandId()],
  ])('%s: creates, then every later PATCH and DELETE of that task succeeds', async (_label, key) => {
    const created = await createTask({ name: 'Keyed' }, { 'idempotency-key': key });
    expect(created.id).toBe(key.toUpperCase());

    const patched = await sendJson('PATCH', `/tasks/${created.id}`, { name: 'Renamed' });
    const keyedPatch = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { done: true },
      {
        'idempotency-key': newCommandId(),
      },
    );
    const deleted = await send('DELETE', `/tasks/${created.id}`, { 'idempotency-key': newCommandId() });

    expect([patched.status, keyedPatch.status, deleted.status]).toEqual([200, 200, 200]);
    expect(parse(deleted)).toMatchObject({ name: 'Renamed', done: true, deleted: true, version: 4 });
  });

  it.each([
    ['the largest ULID', LARGEST_ULID],
    ['the smallest ULID', SMALLEST_ULID],
  ])(
    '%s on a PATCH: applied, and later commands (a project deletion among them) still succeed',
    async (_label, key) => {
      projects.statuses.set('p-1', 'active');
      const created = await createTask({ name: 'In a project', projectId: 'p-1' });
      const tasks = createTaskCommands({ log: taskLog, projects });

      const keyed = await sendJson(
        'PATCH',
        `/tasks/${created.id}`,
        { done: true },
        { 'idempotency-key': key },
      );
      const later = await sendJson(
        'PATCH',
        `/tasks/${created.id}`,
        { name: 'Later' },
        {
          'idempotency-key': newCommandId(),
        },
      );
      // What the projects listener does when the project is deleted.
      const cascade = await tasks.delete(created.id, { reason: 'project-deleted', projectId: 'p-1' });

      expect(keyed.status).toBe(200);
      expect(later.status).toBe(200);
      expect(cascade).toMatchObject({ result: 'applied', task: { deleted: true, version: 4 } });
      const commandIds = (await taskLog.read(created.id)).map((event) => event.commandId);
      expect(commandIds).not.toContain(key);
      expect([...commandIds].sort()).toEqual(commandIds);
    },
  );

  it('the largest ULID on a project: created, and it can be deleted afterwards', async () => {
    const created = await sendJson('POST', '/projects', { name: 'P' }, { 'idempotency-key': LARGEST_ULID });
    const deleted = await send('DELETE', `/projects/${LARGEST_ULID}`);

    expect(created.status).toBe(201);
    expect(deleted.status).toBe(200);
    expect(parse(deleted)).toMatchObject({ id: LARGEST_ULID, deleted: true, version: 2 });
  });

  it.each([
    ['empty', ''],
    ['too short', '01J'],
    ['too long', `${newCommandId()}0`],
    ['a UUID', '3f0a2c9e-7b1d-4c55-9a61-2f6e8d4b1a07'],
    ['Crockford look-alike I', `${newCommandId().slice(0, 25)}I`],
    ['Crockford look-alike L', `${newCommandId().slice(0, 25)}L`],
    ['Crockford look-alike O', `${newCommandId().slice(0, 25)}O`],
    ['Crockford look-alike U', `${newCommandId().slice(0, 25)}U`],
    ['above the largest ULID', '80000000000000000000000000'],
    ['two keys joined by a proxy', `${newCommandId()}, ${newCommandId()}`],
    ['a CRLF injection', `${newCommandId()}\r\nset-cookie: a=b`],
    ['non-ASCII', 'ÄÖÜ01234567890123456789012'],
    ['a lone surrogate', `${newCommandId().slice(0, 25)}\ud800`],
  ])('answers 400 for a key that is %s, on every keyed route', async (_label, key) => {
    const created = await createTask();
    const headers = { 'idempotency-key': key };

    const responses = [
      await sendJson('POST', '/tasks', { name: 'x' }, headers),
      await sendJson('PATCH', `/tasks/${created.id}`, { done: true }, headers),
      await send('DELETE', `/tasks/${created.id}`, headers),
      await sendJson('POST', '/projects', { name: 'x' }, headers),
    ];

    expect(responses.map((response) => response.status)).toEqual([400, 400, 400, 400]);
    for (const response of responses) {
      expect(parse(response).error.issues[0].path).toBe('headers.idempotency-key');
    }
    expect(taskLog.appends).toHaveLength(1);
  });
});

describe('Idempotency-Key: the same key for a different request answers 409, on every route', () => {
  it('POST /tasks with another body', async () => {
    const key = newCommandId();
    await createTask({ name: 'First' }, { 'idempotency-key': key });
    const reused = await sendJson('POST', '/tasks', { name: 'Second' }, { 'idempotency-key': key });
    expect(reused.status).toBe(409);
    expect(parse(reused).error.code).toBe('IDEMPOTENCY_KEY_CONFLICT');
  });

  it('POST /tasks with the id of a task made without that key', async () => {
    const unkeyed = await createTask({ name: 'Mine' });
    const claimed = await sendJson('POST', '/tasks', { name: 'Mine' }, { 'idempotency-key': unkeyed.id });
    expect(claimed.status).toBe(409);
    expect(taskLog.appends).toHaveLength(1);
  });

  it('PATCH with another body, or another If-Match; the same PATCH replays', async () => {
    const created = await createTask();
    const key = newCommandId();
    const first = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'A' },
      {
        'idempotency-key': key,
        'if-match': '"1"',
      },
    );

    const otherBody = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'B' },
      { 'idempotency-key': key },
    );
    const otherField = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { done: true },
      { 'idempotency-key': key },
    );
    const otherIfMatch = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'A' },
      {
        'idempotency-key': key,
        'if-match': '"2"',
      },
    );
    const same = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'A' },
      {
        'idempotency-key': key,
        'if-match': '"1"',
      },
    );

    expect(first.status).toBe(200);
    expect([otherBody.status, otherField.status, otherIfMatch.status]).toEqual([409, 409, 409]);
    expect(parse(otherBody).error.code).toBe('IDEMPOTENCY_KEY_CONFLICT');
    expect(same.status).toBe(200);
    expect(same.headers['idempotent-replayed']).toBe('true');
    expect(parse(same)).toEqual(parse(first));
    expect(taskLog.appends).toHaveLength(2);
  });

  it('a retried PATCH answers as the first run did, even after later changes', async () => {
    const created = await createTask();
    const key = newCommandId();
    const first = await sendJson('PATCH', `/tasks/${created.id}`, { name: 'A' }, { 'idempotency-key': key });
    await sendJson('PATCH', `/tasks/${created.id}`, { name: 'B' });

    const retried = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'A' },
      { 'idempotency-key': key },
    );

    expect(retried.status).toBe(200);
    expect(parse(retried)).toEqual(parse(first));
    expect(retried.headers.etag).toBe('"2"');
    expect((await taskLog.read(created.id)).at(-1)?.data).toEqual({ name: 'B' });
  });

  it('DELETE with the key of a PATCH, and PATCH or DELETE with the key that created the task', async () => {
    const key = newCommandId();
    const created = await createTask({ name: 'x' }, { 'idempotency-key': key });
    const patchKey = newCommandId();
    await sendJson('PATCH', `/tasks/${created.id}`, { done: true }, { 'idempotency-key': patchKey });

    const deleteWithPatchKey = await send('DELETE', `/tasks/${created.id}`, { 'idempotency-key': patchKey });
    const patchWithCreateKey = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { name: 'y' },
      {
        'idempotency-key': key,
      },
    );
    const deleteWithCreateKey = await send('DELETE', `/tasks/${created.id}`, { 'idempotency-key': key });

    expect([deleteWithPatchKey.status, patchWithCreateKey.status, deleteWithCreateKey.status]).toEqual([
      409, 409, 409,
    ]);
    expect(taskLog.appends).toHaveLength(2);
  });

  it('DELETE /tasks/:id retried with its key replays; DELETE /projects/:id likewise', async () => {
    const created = await createTask();
    const key = newCommandId();
    const first = await send('DELETE', `/tasks/${created.id}`, { 'idempotency-key': key });
    const again = await send('DELETE', `/tasks/${created.id}`, { 'idempotency-key': key });
    const project = parse(await sendJson('POST', '/projects', { name: 'P' }));
    const projectKey = newCommandId();
    const projectFirst = await send('DELETE', `/projects/${project.id}`, { 'idempotency-key': projectKey });
    const projectAgain = await send('DELETE', `/projects/${project.id}`, { 'idempotency-key': projectKey });

    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(parse(again)).toEqual(parse(first));
    expect(projectAgain.status).toBe(200);
    expect(projectAgain.headers['idempotent-replayed']).toBe('true');
    expect(parse(projectAgain)).toEqual(parse(projectFirst));
  });

  it('POST /projects with another name, and DELETE /projects/:id with the key that created it', async () => {
    const key = newCommandId();
    const first = await sendJson('POST', '/projects', { name: 'Launch' }, { 'idempotency-key': key });
    const same = await sendJson('POST', '/projects', { name: 'Launch' }, { 'idempotency-key': key });
    const other = await sendJson('POST', '/projects', { name: 'Other' }, { 'idempotency-key': key });
    const deleteWithCreateKey = await send('DELETE', `/projects/${key}`, { 'idempotency-key': key });

    expect(first.status).toBe(201);
    expect(same.status).toBe(201);
    expect(same.headers['idempotent-replayed']).toBe('true');
    expect([other.status, deleteWithCreateKey.status]).toEqual([409, 409]);
    expect(parse(other).error.code).toBe('IDEMPOTENCY_KEY_CONFLICT');
  });
});

describe('concurrent requests with the same key', () => {
  it('POST: every delivery answers 201 with the one task made', async () => {
    const key = newCommandId();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        sendJson('POST', '/tasks', { name: 'Once' }, { 'idempotency-key': key }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((response) => parse(response).id))).toEqual(new Set([key]));
    expect(taskLog.appends).toHaveLength(1);
  });

  it('POST with different bodies: one 201, the others 409', async () => {
    const key = newCommandId();
    const responses = await Promise.all(
      ['A', 'B', 'C'].map((name) => sendJson('POST', '/tasks', { name }, { 'idempotency-key': key })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409]);
    expect(taskLog.appends).toHaveLength(1);
  });

  it.each([
    ['PATCH', { done: true }],
    ['DELETE', undefined],
  ])('%s: applied once, every delivery answers 200 with the same task', async (method, body) => {
    const created = await createTask();
    const key = newCommandId();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        body === undefined
          ? send(method, `/tasks/${created.id}`, { 'idempotency-key': key })
          : sendJson(method, `/tasks/${created.id}`, body, { 'idempotency-key': key }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(200));
    expect(new Set(responses.map((response) => response.body)).size).toBe(1);
    expect(taskLog.appends).toHaveLength(2);
  });
});

describe('bodies: JSON only', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a UTF-8 charset', 'text/plain; charset=utf-8'],
    ['XML', 'application/xml'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['JSON in another charset', 'application/json; charset=iso-8859-1'],
    ['a look-alike type', 'application/jsonx'],
    ['a suffix without a name', 'application/+json'],
    ['a wildcard', '*/*'],
    ['garbage', ';;;'],
  ])('answers 415 for %s, on POST and PATCH, and writes nothing', async (_label, contentType) => {
    const created = await createTask();
    const post = await send('POST', '/tasks', { 'content-type': contentType }, '{"name":"x"}');
    const patch = await send(
      'PATCH',
      `/tasks/${created.id}`,
      { 'content-type': contentType },
      '{"done":true}',
    );
    const project = await send('POST', '/projects', { 'content-type': contentType }, '{"name":"x"}');

    expect([post.status, patch.status, project.status]).toEqual([415, 415, 415]);
    expect(parse(post).error.code).toBe('MEDIA_TYPE_UNSUPPORTED');
    expect(post.headers['accept-post']).toBe('application/json');
    expect(patch.headers['accept-patch']).toBe('application/json');
    expect(taskLog.appends).toHaveLength(1);
  });

  it('answers 415 for a body without Content-Type (it is not guessed at)', async () => {
    const response = await send('POST', '/tasks', {}, '{"name":"x"}');
    expect(response.status).toBe(415);
    expect(parse(response).error.message).toMatch(/no Content-Type/);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset="UTF-8"',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/vnd.tidemark.task+json; version=1',
  ])('accepts %s', async (contentType) => {
    const response = await send('POST', '/tasks', { 'content-type': contentType }, '{"name":"x"}');
    expect(response.status).toBe(201);
  });

  it('accepts a DELETE without body or Content-Type', async () => {
    const created = await createTask();
    expect((await send('DELETE', `/tasks/${created.id}`)).status).toBe(200);
  });

  it(`answers 413 for a body over ${MAX_BODY_BYTES} bytes, counted in UTF-8 bytes, not characters`, async () => {
    // 30 000 characters of 3 bytes each: under the limit in characters, over it in bytes.
    const body = JSON.stringify({ name: 'x', summary: '€'.repeat(30_000) });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    const response = await send('POST', '/tasks', JSON_TYPE, body);
    expect(response.status).toBe(413);
    expect(parse(response).error.code).toBe('BODY_TOO_LARGE');
  });

  it.each([
    ['nested 20 000 arrays deep', `{"name":"x","deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
    ['nested 10 000 objects deep', `{"name":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
    ['a string 60 000 characters long', JSON.stringify({ name: 'x'.repeat(60_000) })],
    ['a summary over its limit', JSON.stringify({ name: 'x', summary: 's'.repeat(2001) })],
    ['__proto__', '{"name":"x","__proto__":{"polluted":true}}'],
    ['constructor', '{"name":"x","constructor":{"prototype":{"polluted":true}}}'],
    ['a huge number', '{"name":"x","done":1e999999}'],
    ['a number as name', '{"name":12345678901234567890}'],
    ['null', 'null'],
    ['a string', '"task"'],
    ['true', 'true'],
    ['an array of objects', '[{"name":"x"}]'],
    ['trailing garbage', '{"name":"x"} {}'],
    ['a trailing comma', '{"name":"x",}'],
    ['single quotes', "{'name':'x'}"],
    ['a comment', '{"name":"x" /* hi */}'],
    ['NaN', '{"name":"x","done":NaN}'],
    ['only whitespace', '   '],
    ['a lone high surrogate in the name', '{"name":"broken \\ud800 text"}'],
    ['a lone low surrogate in the summary', '{"name":"x","summary":"\\udc00"}'],
    ['a reversed surrogate pair', '{"name":"\\udc00\\ud800"}'],
    ['a lone surrogate in the project id', '{"name":"x","projectId":"\\ud800"}'],
    ['a control character in the project id', '{"name":"x","projectId":"a\\u0000b"}'],
    ['a project id over 200 characters', JSON.stringify({ name: 'x', projectId: 'p'.repeat(201) })],
    ['a name of spaces only', '{"name":"   "}'],
  ])('answers 400 for a body with %s, and writes nothing', async (_label, body) => {
    const response = await send('POST', '/tasks', JSON_TYPE, body);
    expect(response.status).toBe(400);
    expect(['REQUEST_INVALID', 'JSON_MALFORMED']).toContain(parse(response).error.code);
    expect(taskLog.appends).toHaveLength(0);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each([
    ['at the top', '{"name":"a","name":"b"}', ''],
    ['with equal values', '{"name":"a","name":"a"}', ''],
    ['spelled with an escape', '{"name":"a","n\\u0061me":"b"}', ''],
    ['in a nested object', '{"name":"a","x":[{"k":1},{"k":1,"k":2}]}', 'x.1'],
  ])(
    'answers 400 for a duplicate key %s (parsers disagree on which one wins)',
    async (_label, body, path) => {
      const response = await send('POST', '/tasks', JSON_TYPE, body);
      expect(response.status).toBe(400);
      expect(parse(response).error.issues[0]).toMatchObject({ path, code: 'duplicate_key' });
      expect(taskLog.appends).toHaveLength(0);
    },
  );

  it.each([
    ['quotes, braces and commas inside strings', '{"name":"a\\"}{,\\\\","summary":"\\"name\\":"}'],
    ['the same key in two different objects', '{"name":"x","nested":{"name":1,"inner":{"name":2}}}'],
    ['a key inside a string value', '{"name":"x","summary":"{\\"name\\":1}"}'],
    ['keys that differ only in case', '{"name":"x","Name":"y"}'],
  ])('does not take %s for a duplicate key', async (_label, body) => {
    const response = await send('POST', '/tasks', JSON_TYPE, body);
    const issues: { code: string }[] = parse(response).error?.issues ?? [];
    expect(issues.map((issue) => issue.code)).not.toContain('duplicate_key');
  });

  it('accepts names with emoji, right-to-left text and combining marks, and keeps them intact', async () => {
    const name = '👩‍💻 مهمة é\u0301 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
    const created = await createTask({ name });
    expect((await taskLog.read(created.id))[0]?.data).toEqual({ name });
  });
});

describe('paths and ids', () => {
  it.each([
    ['a raw lone surrogate', '/tasks/a\ud800b', 400],
    ['an encoded lone surrogate (CESU-8 bytes)', '/tasks/%ED%A0%80', 400],
    ['overlong UTF-8', '/tasks/%C0%AF', 400],
    ['a control character', '/tasks/a%00b', 400],
    ['an encoded newline', '/tasks/a%0D%0Ab', 400],
    ['broken percent-encoding', '/tasks/%E0%A4%A', 400],
    ['an id too long for a partition key', `/tasks/${'x'.repeat(300)}`, 400],
    ['an encoded slash', '/tasks/a%2Fb', 404],
    ['an emoji', '/tasks/%F0%9F%98%80', 404],
    ['a dot segment', '/tasks/..', 404],
    ['a hash sign', '/tasks/a%23b', 404],
    ['an empty id', '/tasks/', 404],
  ])('%s: answers %i to GET, PATCH and DELETE', async (_label, path, status) => {
    const responses = [
      await send('GET', path),
      await sendJson('PATCH', path, { done: true }),
      await send('DELETE', path),
      await send('DELETE', path.replace('/tasks/', '/projects/')),
    ];
    expect(responses.map((response) => response.status)).toEqual([status, status, status, status]);
  });
});

describe('If-Match', () => {
  it.each([
    ['empty', ''],
    ['a bare quote', '"'],
    ['a negative version', '"-1"'],
    ['version zero', '"0"'],
    ['a fraction', '"1.5"'],
    ['an exponent', '"1e3"'],
    ['a version with 10 digits', '"9999999999"'],
    ['a version beyond 2^53', '"99999999999999999999"'],
    ['a list', '"1", "2"'],
    ['a word', '"abc"'],
    ['non-ASCII digits', '"١"'],
    ['a CRLF injection', '"1"\r\nx: y'],
  ])('answers 400 for %s', async (_label, ifMatch) => {
    const created = await createTask();
    const patch = await sendJson('PATCH', `/tasks/${created.id}`, { done: true }, { 'if-match': ifMatch });
    const remove = await send('DELETE', `/tasks/${created.id}`, { 'if-match': ifMatch });
    expect([patch.status, remove.status]).toEqual([400, 400]);
    expect(parse(patch).error.issues[0].path).toBe('headers.if-match');
    expect(taskLog.appends).toHaveLength(1);
  });

  it.each([
    ['"1"', 200],
    ['W/"1"', 200],
    ['1', 200],
    ['*', 200],
    ['"2"', 409],
    ['"999999999"', 409],
  ])('If-Match %s on a task at version 1 answers %i', async (ifMatch, status) => {
    const created = await createTask();
    const response = await sendJson('PATCH', `/tasks/${created.id}`, { done: true }, { 'if-match': ifMatch });
    expect(response.status).toBe(status);
  });
});

describe('the answer when the event log cannot confirm a write', () => {
  const busy = (outcomeUnknown: boolean) =>
    new EventLogBusyError(
      {
        aggregateKey: 'Task#x',
        commandId: newCommandId(),
        attempts: 4,
        reasons: ['InternalServerError'],
        outcomeUnknown,
      },
      new Error('InternalServerError'),
    );

  it.each([
    [false, {}, 'BUSY', /nothing was written/],
    [true, { 'idempotency-key': newCommandId() }, 'OUTCOME_UNKNOWN', /may or may not.*same Idempotency-Key/],
    [true, {}, 'OUTCOME_UNKNOWN', /may or may not.*Read the resource before retrying/],
  ])('outcome unknown: %s, headers %o → 503 %s', async (outcomeUnknown, headers, code, message) => {
    taskLog.beforeNextAppend = async () => {
      throw busy(outcomeUnknown);
    };
    const response = await sendJson('POST', '/tasks', { name: 'x' }, headers);

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(parse(response).error.code).toBe(code);
    expect(parse(response).error.message).toMatch(message);
    expect(parse(response).error.message).not.toMatch(
      code === 'BUSY' ? /may or may not/ : /nothing was written/,
    );
  });

  it('a retry with the same key after an unknown outcome that did write answers from the first run', async () => {
    const key = newCommandId();
    // The append commits, then the answer is lost: the client sees 503 OUTCOME_UNKNOWN.
    const original = taskLog.append.bind(taskLog);
    taskLog.append = async (input) => {
      await original(input);
      taskLog.append = original;
      throw busy(true);
    };
    const lost = await sendJson('POST', '/tasks', { name: 'x' }, { 'idempotency-key': key });
    const retried = await sendJson('POST', '/tasks', { name: 'x' }, { 'idempotency-key': key });

    expect(lost.status).toBe(503);
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(taskLog.appends).toHaveLength(1);
  });
});

describe('the API Gateway adapter', () => {
  const event = (body: string, isBase64Encoded: boolean, headers: Record<string, string> = JSON_TYPE) =>
    ({
      version: '2.0',
      rawPath: '/tasks',
      headers,
      requestContext: { http: { method: 'POST', path: '/tasks' } },
      body,
      isBase64Encoded,
    }) as unknown as APIGatewayProxyEventV2;

  it('answers 400 for a base64 body that is not UTF-8, instead of replacing the bytes', async () => {
    const handler = apiGatewayHandler(handle);
    const bytes = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const result = await handler(event(bytes.toString('base64'), true));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error.code).toBe('BODY_ENCODING_INVALID');
    expect(taskLog.appends).toHaveLength(0);
  });

  it('answers 413 for a body over the limit and 415 for one that is not JSON', async () => {
    const handler = apiGatewayHandler(handle);
    const large = await handler(event(JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) }), false));
    const xml = await handler(event('<task name="x"/>', false, { 'Content-Type': 'application/xml' }));
    expect(large.statusCode).toBe(413);
    expect(xml.statusCode).toBe(415);
  });
});

describe('any request an attacker can make', () => {
  const FUZZ_SEED = 20_261_130;

  it(`never answers 500 and never leaves the task unchangeable (seed ${FUZZ_SEED})`, async () => {
    const created = await createTask({ name: 'Target' });
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('', '*', '"1"', LARGEST_ULID, SMALLEST_ULID, LARGEST_ULID.toLowerCase(), '\ud800'),
      fc.ulid(),
    );
    const body = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc
        .record(
          {
            name: fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.jsonValue({ maxDepth: 2 })),
            summary: fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 30 })),
            done: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
            projectId: fc.string({ unit: 'binary', maxLength: 30 }),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    const requestArbitrary = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'get', 'TRACE'),
      path: fc.oneof(
        fc.constantFrom('/tasks', `/tasks/${created.id}`, '/projects', '/projects/p', '/'),
        text.map((segment) => `/tasks/${segment}`),
        text.map((segment) => `/projects/${segment}`),
      ),
      contentType: fc.option(
        fc.oneof(
          fc.constantFrom('application/json', 'text/plain', 'application/x+json; charset=utf-16'),
          text,
        ),
        { nil: undefined },
      ),
      idempotencyKey: fc.option(text, { nil: undefined }),
      ifMatch: fc.option(text, { nil: undefined }),
      body: fc.option(body, { nil: undefined }),
    });

    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (generated) => {
        // Deleting the target is allowed, but then "still takes a change" below means nothing.
        fc.pre(!(generated.method === 'DELETE' && generated.path === `/tasks/${created.id}`));
        const headers: Record<string, string> = {};
        if (generated.contentType !== undefined) headers['content-type'] = generated.contentType;
        if (generated.idempotencyKey !== undefined) headers['idempotency-key'] = generated.idempotencyKey;
        if (generated.ifMatch !== undefined) headers['if-match'] = generated.ifMatch;
        const response = await send(
          generated.method,
          generated.path,
          headers,
          generated.body === undefined ? undefined : generated.body,
        );
        expect(response.status).toBeLessThan(500);
        expect(() => JSON.parse(response.body ?? '')).not.toThrow();
      }),
      { numRuns: 1500, seed: FUZZ_SEED },
    );

    // Whatever was sent, the task still takes a change, with and without a new key.
    const after = await sendJson('PATCH', `/tasks/${created.id}`, { name: 'Still alive' });
    const keyed = await sendJson(
      'PATCH',
      `/tasks/${created.id}`,
      { summary: 'yes' },
      {
        'idempotency-key': newCommandId(),
      },
    );
    expect([after.status, keyed.status]).toEqual([200, 200]);
  }, 120_000); // seeded fuzz: about 2 s on an idle machine; the budget is for a loaded CI runner
});
