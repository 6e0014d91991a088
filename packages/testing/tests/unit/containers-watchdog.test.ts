import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ContainerCleanupError, SESSION_LABEL } from '@tidemark/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startWatchdog } from '../../src/containers/watchdog';
import { waitUntilGone } from '../helpers/processes';

const childScript = fileURLToPath(new URL('../helpers/start-watchdog-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** A fake Docker API holding some containers; DELETE answers with `deleteStatus`. */
async function fakeDocker(ids: string[], deleteStatus = 204) {
  const left = new Set(ids);
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'GET' && request.url?.startsWith('/containers/json')) {
      response.end(JSON.stringify([...left].map((Id) => ({ Id }))));
      return;
    }
    const id = /^\/containers\/([^?]+)\?/.exec(request.url ?? '')?.[1] ?? '';
    if (request.method === 'DELETE' && deleteStatus < 300) left.delete(id);
    response.statusCode = request.method === 'DELETE' ? deleteStatus : 404;
    response.end(deleteStatus < 300 ? '' : '{"message":"engine refused"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { target: { host: '127.0.0.1', port }, requests, left, close: () => server.close() };
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe('the container watchdog', () => {
  it('force-removes exactly the containers labelled with its session, then exits', async () => {
    const docker = await fakeDocker(['c1', 'c2']);
    servers.push(docker);
    const watchdog = await startWatchdog(docker.target, 'session-1');

    expect(docker.requests).toEqual([]);
    const { removed } = await watchdog.reap();

    const filters = encodeURIComponent(JSON.stringify({ label: [`${SESSION_LABEL}=session-1`] }));
    expect(removed).toBe(2);
    expect(docker.left.size).toBe(0);
    expect(docker.requests).toContain(`GET /containers/json?all=true&filters=${filters}`);
    expect(docker.requests).toContain('DELETE /containers/c1?force=true&v=true');
    expect(docker.requests).toContain('DELETE /containers/c2?force=true&v=true');
    expect(() => process.kill(watchdog.pid, 0)).toThrow();
    // A second reap is the same outcome, not a second round of requests.
    const count = docker.requests.length;
    expect(await watchdog.reap()).toEqual({ removed: 2 });
    expect(docker.requests.length).toBe(count);
  });

  it('after its parent is SIGKILLed, removes the containers, also one whose creation completes late', async () => {
    const docker = await fakeDocker(['c1']);
    servers.push(docker);
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, JSON.stringify(docker.target), 'session-late'],
      {
        cwd: packageDir,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    const { pid } = JSON.parse(
      await new Promise<string>((resolve) => {
        let stdout = '';
        parent.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
          if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
        });
      }),
    ) as { pid: number };
    expect(docker.requests).toEqual([]);

    parent.kill('SIGKILL');
    await exited;
    // A create request the parent sent before it died completes a moment later.
    setTimeout(() => docker.left.add('late'), 500);

    expect(await waitUntilGone([pid])).toEqual([]);
    expect([...docker.left]).toEqual([]);
    expect(docker.requests).toContain('DELETE /containers/c1?force=true&v=true');
    expect(docker.requests).toContain('DELETE /containers/late?force=true&v=true');
  });

  it('an engine that refuses the removal is a ContainerCleanupError naming the session', async () => {
    const docker = await fakeDocker(['c1'], 500);
    servers.push(docker);
    const watchdog = await startWatchdog(docker.target, 'session-2');

    const error = await watchdog.reap().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ContainerCleanupError);
    expect(error).toMatchObject({
      code: 'CONTAINER_CLEANUP_FAILED',
      context: { session: 'session-2' },
      message: expect.stringMatching(/HTTP 500.*engine refused/),
    });
  });

  it('an engine that does not answer is a ContainerCleanupError', async () => {
    const docker = await fakeDocker([]);
    docker.close();
    const watchdog = await startWatchdog(docker.target, 'session-3');

    await expect(watchdog.reap()).rejects.toMatchObject({ code: 'CONTAINER_CLEANUP_FAILED' });
  });
});
