import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  EmulatorStartError,
  JavaNotFoundError,
  type LocalAwsProcess,
  startLocalAws,
} from '@tidemark/testing';
import { describe, expect, it } from 'vitest';
import { isAlive, processesWithEnv, waitUntilGone } from '../helpers/processes';

const onLinux = process.platform === 'linux';
const childScript = fileURLToPath(new URL('../helpers/start-local-aws-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

function pidsOf(processes: readonly LocalAwsProcess[]): number[] {
  return processes.flatMap(({ pid, supervisorPid }) => [pid, supervisorPid]);
}

/** Starts a node parent that starts the embedded local AWS; resolves with its processes. */
async function startParent(ending: string) {
  const parent = spawn(process.execPath, ['--import', 'tsx', childScript, ending], {
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
  const { processes } = JSON.parse(line) as { processes: LocalAwsProcess[] };
  return { parent, processes, exited };
}

describe('process hygiene', () => {
  it('stop() ends both emulators and their supervisors', async () => {
    const aws = await startLocalAws({ mode: 'embedded' });
    const pids = pidsOf(aws.processes);

    expect(aws.processes.map((child) => child.name).sort()).toEqual(['dynamodb-local', 'kinesis-mock']);
    expect(pids.every(isAlive)).toBe(true);
    await aws.stop();

    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('`await using` stops the emulators at the end of the scope', async () => {
    let pids: number[] = [];
    {
      await using aws = await startLocalAws({ mode: 'embedded' });
      pids = pidsOf(aws.processes);
      expect(pids.every(isAlive)).toBe(true);
    }

    expect(pids.filter(isAlive)).toEqual([]);
  });

  it.each([
    ['is SIGKILLed', 'SIGKILL'],
    ['gets SIGTERM', 'SIGTERM'],
    ['gets SIGINT', 'SIGINT'],
  ] as const)('no emulator outlives a parent that %s', async (_, signal) => {
    const { parent, processes, exited } = await startParent('wait');
    const pids = pidsOf(processes);
    expect(pids.every(isAlive)).toBe(true);

    parent.kill(signal);
    await exited;

    expect(await waitUntilGone(pids)).toEqual([]);
  });

  it.each([
    ['crashes with an uncaught exception', 'crash'],
    ['exits without calling stop()', 'exit'],
  ])('no emulator outlives a parent that %s', async (_, ending) => {
    const { processes, exited } = await startParent(ending);
    const pids = pidsOf(processes);

    await exited;

    expect(await waitUntilGone(pids)).toEqual([]);
  });

  it.skipIf(!onLinux)(
    'an emulator that exits at once gives EmulatorStartError and leaves no process (reads /proc, Linux only)',
    async () => {
      const marker = randomUUID();
      process.env.TIDEMARK_HYGIENE_MARKER = marker;
      try {
        const error = await startLocalAws({ mode: 'embedded', java: '/bin/false' }).catch(
          (caught: unknown) => caught,
        );

        expect(error).toBeInstanceOf(EmulatorStartError);
        expect(error).toMatchObject({ emulator: 'dynamodb-local', message: expect.stringMatching(/exited/) });
        expect(await waitUntilGone(processesWithEnv('TIDEMARK_HYGIENE_MARKER', marker))).toEqual([]);
      } finally {
        delete process.env.TIDEMARK_HYGIENE_MARKER;
      }
    },
  );

  it.skipIf(!onLinux)(
    'missing Java gives JavaNotFoundError naming both fixes and leaves no process (reads /proc, Linux only)',
    async () => {
      const marker = randomUUID();
      process.env.TIDEMARK_HYGIENE_MARKER = marker;
      try {
        const error = await startLocalAws({ mode: 'embedded', java: '/nonexistent/bin/java' }).catch(
          (caught: unknown) => caught,
        );

        expect(error).toBeInstanceOf(JavaNotFoundError);
        expect((error as JavaNotFoundError).code).toBe('JAVA_NOT_FOUND');
        expect((error as Error).message).toMatch(/apt-get install -y default-jre-headless/);
        expect((error as Error).message).toMatch(/Docker/);
        expect(await waitUntilGone(processesWithEnv('TIDEMARK_HYGIENE_MARKER', marker))).toEqual([]);
      } finally {
        delete process.env.TIDEMARK_HYGIENE_MARKER;
      }
    },
  );
});
