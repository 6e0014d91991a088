/**
 * No container of the `containers` mode outlives the process that started it, however that process
 * ends, without testcontainers' reaper (run by `npm run test:containers`, with the reaper disabled).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type LocalAwsContainer, pingDocker } from '@tidemark/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { processesMentioning, sessionOf, waitUntilRemoved } from '../helpers/containers';
import { waitUntilGone } from '../helpers/processes';

const childScript = fileURLToPath(new URL('../helpers/start-local-aws-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(async () => {
  if (!(await pingDocker())) {
    throw new Error('no container engine answers: run these tests through `npm run test:containers`');
  }
});

/** Starts a node parent that starts the containers mode; resolves with its containers and session. */
async function startParent(ending: string) {
  const parent = spawn(process.execPath, ['--import', 'tsx', childScript, ending, 'containers'], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  parent.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited (${code}) before starting: ${stderr}`)));
  });
  const { containers } = JSON.parse(line) as { containers: LocalAwsContainer[] };
  const sessions = new Set(await Promise.all(containers.map(({ id }) => sessionOf(id))));
  expect(containers).toHaveLength(2);
  expect(sessions.size).toBe(1);
  const ids = containers.map(({ id }) => id);
  return { parent, session: [...sessions][0] ?? '', ids, exited };
}

describe('containers hygiene without the reaper', () => {
  it.each([
    ['is SIGKILLed', 'SIGKILL'],
    ['gets SIGTERM', 'SIGTERM'],
    ['gets SIGINT', 'SIGINT'],
  ] as const)('no container outlives a parent that %s', async (_, signal) => {
    const { parent, session, ids, exited } = await startParent('wait');
    const watchers = processesMentioning([session, ...ids]);
    expect(watchers.length).toBeGreaterThanOrEqual(1);

    parent.kill(signal);
    await exited;

    expect(await waitUntilRemoved(session)).toEqual([]);
    // The watchdog and podman's container monitors are gone too.
    expect(await waitUntilGone(watchers)).toEqual([]);
  });

  it.each([
    ['crashes with an uncaught exception', 'crash'],
    ['exits without calling stop()', 'exit'],
  ])('no container outlives a parent that %s', async (_, ending) => {
    const { session, ids, exited } = await startParent(ending);
    const watchers = processesMentioning([session, ...ids]);

    await exited;

    expect(await waitUntilRemoved(session)).toEqual([]);
    expect(await waitUntilGone(watchers)).toEqual([]);
  });

  it('no container outlives a whole process group killed at once (the watchdog is in a session of its own)', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', childScript, 'wait', 'containers'], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    const line = await new Promise<string>((resolve) => {
      let stdout = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
      });
    });
    const { containers } = JSON.parse(line) as { containers: LocalAwsContainer[] };
    const session = await sessionOf(containers[0]?.id ?? '');

    process.kill(-(parent.pid ?? 0), 'SIGKILL');
    await exited;

    expect(await waitUntilRemoved(session)).toEqual([]);
    expect(await waitUntilGone([parent.pid ?? 0])).toEqual([]);
  });
});
