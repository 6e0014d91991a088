import { newCommandId } from '@tidemark/core';
import { ScenarioFailedError } from '../errors';
import type { Task } from '../task';
import type { LocalApp } from './local-app';

/** A response as the scenario reads it. */
interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  readonly body: any;
}

/** What the scenario did, for the final checks and the tests. */
export interface ScenarioResult {
  /** The ids of the tasks it made. */
  readonly tasks: {
    readonly readme: string;
    readonly throwaway: string;
    readonly venue: string;
    readonly invitations: string;
  };
  /** The project it made and deleted. */
  readonly projectId: string;
  /** The statuses of the two concurrent PATCHes, sorted (expected `[200, 409]`). */
  readonly concurrentStatuses: readonly number[];
  /** How many POSTs were refused with 422 while the task service did not know the project yet. */
  readonly unknownProjectRetries: number;
}

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  /** The API's base URL. */
  readonly url: string;
  /** Where progress lines go. Default: `console.log`. */
  readonly log?: (line: string) => void;
  /** How long to wait for the listeners at each eventually consistent step, in ms. Default: `30000`. */
  readonly timeoutMs?: number;
}

/**
 * Drives the demo over real HTTP: creates, updates, completes and deletes tasks; retries a POST
 * with the same Idempotency-Key; provokes a 409 with two concurrent PATCHes, a 400, a 415, a 409
 * for a reused key and a 422;
 * creates a project, a task in it, deletes the project and waits until its tasks are deleted.
 * Throws {@link ScenarioFailedError} at the first unexpected answer.
 *
 * @example
 * ```ts
 * const result = await runScenario({ url: app.url });
 * ```
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let stepNumber = 0;
  const step = (title: string) => log(`\n${++stepNumber}. ${title}`);

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const response = await fetch(`${options.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  };
  const expectStatus = (response: ApiResponse, status: number, what: string): ApiResponse => {
    if (response.status !== status) {
      throw new ScenarioFailedError(`${what}: expected ${status}, got ${response.status}`, {
        body: response.body,
      });
    }
    return response;
  };
  const show = (response: ApiResponse, what: string) => {
    const task = response.body as Partial<Task> | undefined;
    const details =
      response.status < 300
        ? `ETag ${response.headers.get('etag')}, version ${task?.version}, last command ${task?.lastCommandId}`
        : `${response.body?.error?.code}: ${response.body?.error?.message}`;
    log(`   ${response.status} ${what} — ${details}`);
  };
  const waitUntil = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new ScenarioFailedError(`Timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const readModelHas = (taskId: string, check: (response: ApiResponse) => boolean) => async () =>
    check(await call('GET', `/tasks/${taskId}`));
  // 404 alone could mean the read model has not seen the task yet: wait for "was deleted".
  const isDeleted = (response: ApiResponse) =>
    response.status === 404 && response.body?.error?.context?.deleted === true;

  step('Create a task (POST /tasks with an Idempotency-Key)');
  const createKey = newCommandId();
  const readmeBody = { name: 'Write the README', summary: 'architecture, commands, curl lines' };
  const created = expectStatus(
    await call('POST', '/tasks', readmeBody, { 'idempotency-key': createKey }),
    201,
    'create',
  );
  const readme = created.body as Task;
  show(created, `created task ${readme.id}`);

  step('Retry the same POST with the same Idempotency-Key: nothing new is created');
  const retried = expectStatus(
    await call('POST', '/tasks', readmeBody, { 'idempotency-key': createKey }),
    201,
    'retried create',
  );
  if (retried.body.id !== readme.id || retried.body.version !== 1) {
    throw new ScenarioFailedError('A retried POST created something new', {
      first: readme,
      retried: retried.body,
    });
  }
  show(
    retried,
    `same task ${retried.body.id}, Idempotent-Replayed: ${retried.headers.get('idempotent-replayed')}`,
  );

  step(
    'Send invalid requests: 400 with the issues, 415 for a body that is not JSON, 409 for a reused key; never 500',
  );
  const invalid = expectStatus(
    await call('POST', '/tasks', { name: '', colour: 'red' }),
    400,
    'invalid body',
  );
  show(invalid, 'invalid body');
  for (const issue of invalid.body.error.issues) log(`      - ${issue.path || '(body)'}: ${issue.message}`);
  show(
    expectStatus(await call('POST', '/tasks', '{"name": "unfinished'), 400, 'malformed JSON'),
    'malformed JSON',
  );
  show(
    expectStatus(
      await call('POST', '/tasks', readmeBody, { 'content-type': 'text/plain' }),
      415,
      'a body that is not JSON',
    ),
    'text/plain body',
  );
  show(
    expectStatus(
      await call('POST', '/tasks', { name: 'Another task' }, { 'idempotency-key': createKey }),
      409,
      'the same Idempotency-Key for another body',
    ),
    'key reused for another body',
  );

  step('Read it back (GET /tasks/:id comes from the read model, kept by a listener)');
  await waitUntil(
    'the read model has the task',
    readModelHas(readme.id, (r) => r.status === 200),
  );
  show(await call('GET', `/tasks/${readme.id}`), 'from the read model');

  step('Update the summary (PATCH: absent fields stay unchanged), then complete the task');
  show(
    expectStatus(
      await call(
        'PATCH',
        `/tasks/${readme.id}`,
        { summary: 'architecture, commands, curl lines, the scenario' },
        {
          'if-match': '"1"',
        },
      ),
      200,
      'update',
    ),
    'summary updated',
  );
  const completed = expectStatus(
    await call('PATCH', `/tasks/${readme.id}`, { done: true }, { 'if-match': '"2"' }),
    200,
    'complete',
  );
  show(completed, `completed (done: ${completed.body.done})`);

  step('Two clients rename it at once from the same version: one wins, the other gets 409');
  const [first, second] = await Promise.all([
    call('PATCH', `/tasks/${readme.id}`, { name: 'Write the README (client A)' }, { 'if-match': '"3"' }),
    call('PATCH', `/tasks/${readme.id}`, { name: 'Write the README (client B)' }, { 'if-match': '"3"' }),
  ]);
  const concurrentStatuses = [first.status, second.status].sort();
  show(first, 'client A');
  show(second, 'client B');
  if (concurrentStatuses[0] !== 200 || concurrentStatuses[1] !== 409) {
    throw new ScenarioFailedError(
      `Concurrent PATCHes answered ${concurrentStatuses.join(' and ')}, not 200 and 409`,
    );
  }

  step('Create a second task and delete it (soft delete: its events stay in the log)');
  const throwaway = expectStatus(await call('POST', '/tasks', { name: 'Throwaway' }), 201, 'create')
    .body as Task;
  show(
    expectStatus(await call('DELETE', `/tasks/${throwaway.id}`), 200, 'delete'),
    `deleted task ${throwaway.id}`,
  );
  await waitUntil('the read model shows the task deleted', readModelHas(throwaway.id, isDeleted));
  show(await call('GET', `/tasks/${throwaway.id}`), 'GET after delete');

  step('Create a project in the project service; tasks can join it once the task service knows it');
  const project = expectStatus(
    await call('POST', '/projects', { name: 'Launch party' }),
    201,
    'create project',
  );
  const projectId = project.body.id as string;
  show(project, `created project ${projectId}`);
  const venueKey = newCommandId();
  let unknownProjectRetries = 0;
  let venue: ApiResponse | undefined;
  await waitUntil('the task service knows the project', async () => {
    venue = await call(
      'POST',
      '/tasks',
      { name: 'Book the venue', projectId },
      { 'idempotency-key': venueKey },
    );
    if (venue.status === 422) unknownProjectRetries++;
    return venue.status !== 422;
  });
  if (unknownProjectRetries > 0) {
    log(
      `   (422 ${unknownProjectRetries}× while the projects listener caught up; retried with the same key)`,
    );
  }
  const venueTask = expectStatus(venue!, 201, 'task in project').body as Task;
  show(venue!, `task ${venueTask.id} in the project`);
  const invitations = expectStatus(
    await call('POST', '/tasks', { name: 'Send the invitations', projectId }),
    201,
    'task in project',
  ).body as Task;
  log(`   201 task ${invitations.id} in the project`);
  show(
    expectStatus(
      await call('POST', '/tasks', { name: 'Orphan', projectId: 'no-such-project' }),
      422,
      'task for an unknown project',
    ),
    'task for an unknown project',
  );

  step("Delete the project: the projects listener deletes the project's tasks");
  show(
    expectStatus(await call('DELETE', `/projects/${projectId}`), 200, 'delete project'),
    'project deleted',
  );
  for (const taskId of [venueTask.id, invitations.id]) {
    await waitUntil(`task ${taskId} is deleted`, readModelHas(taskId, isDeleted));
    log(`   404 GET /tasks/${taskId} — deleted with its project`);
  }

  return {
    tasks: { readme: readme.id, throwaway: throwaway.id, venue: venueTask.id, invitations: invitations.id },
    projectId,
    concurrentStatuses,
    unknownProjectRetries,
  };
}

/**
 * Checks the end state once the listeners have settled: the read model, the cascade deletions,
 * the activity feed and the on-failure destinations. Returns the problems found (empty when all
 * is well).
 *
 * @example
 * ```ts
 * const problems = await checkOutcome(app, result);
 * ```
 */
export async function checkOutcome(app: LocalApp, result: ScenarioResult): Promise<string[]> {
  const problems: string[] = [];
  const tasks = new Map((await app.tasks()).map((task) => [task.id, task]));
  const readme = tasks.get(result.tasks.readme);
  if (!readme?.done || readme.deleted || readme.version !== 4 || !readme.name.includes('(client')) {
    problems.push(`the README task is not done at version 4 in the read model: ${JSON.stringify(readme)}`);
  }
  for (const id of [result.tasks.throwaway, result.tasks.venue, result.tasks.invitations]) {
    if (!tasks.get(id)?.deleted) problems.push(`task ${id} is not deleted in the read model`);
  }
  const cascaded = app.cascadeDeletions.map((deletion) => deletion.taskId).sort();
  const expected = [result.tasks.venue, result.tasks.invitations].sort();
  if (JSON.stringify(cascaded) !== JSON.stringify(expected)) {
    problems.push(
      `the projects listener deleted ${JSON.stringify(cascaded)}, expected ${JSON.stringify(expected)}`,
    );
  }
  const taskEventsSeen = app.seen['read-model'].length;
  // 1 created + 1 updated + 1 completed + 1 renamed; 2 for the throwaway; 2 per project task.
  if (taskEventsSeen !== 10) problems.push(`the read model saw ${taskEventsSeen} task events, expected 10`);
  const feed = await app.feed();
  if (feed.length !== taskEventsSeen + 2) {
    problems.push(`the activity feed has ${feed.length} entries, expected ${taskEventsSeen + 2}`);
  }
  if (app.onFailureCount() > 0)
    problems.push(`${app.onFailureCount()} records went to an on-failure destination`);
  return problems;
}
