import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const hide = fileURLToPath(new URL('../helpers/hide-testcontainers.mjs', import.meta.url));
const script = fileURLToPath(new URL('../helpers/start-without-testcontainers.ts', import.meta.url));

describe('without the optional testcontainers peer dependency', () => {
  it('each container mode fails with an error naming the package to install; auto keeps to embedded', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--import', hide, script],
      {
        cwd: packageDir,
        // No engine needs to answer: the missing package is reported first.
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      },
    );
    const { containers, localstack, auto } = JSON.parse(stdout);

    expect(containers).toMatchObject({
      name: 'TestcontainersNotInstalledError',
      code: 'TESTCONTAINERS_NOT_INSTALLED',
      context: { packageName: 'testcontainers', mode: 'containers' },
      message: expect.stringContaining('npm install --save-dev testcontainers'),
    });
    expect(localstack).toMatchObject({
      code: 'TESTCONTAINERS_NOT_INSTALLED',
      context: { packageName: '@testcontainers/localstack', mode: 'localstack' },
    });
    expect(auto).toEqual({
      mode: 'embedded',
      reason: 'a Docker engine answers, but the optional testcontainers package is not installed',
    });
  }, 60_000);
});
