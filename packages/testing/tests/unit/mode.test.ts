import { chooseLocalAwsMode } from '@tidemark/testing';
import { describe, expect, it, vi } from 'vitest';
import { dockerEndpoint, dockerPlacesChecked } from '../../src/mode';

describe('chooseLocalAwsMode', () => {
  it('auto takes AWS_ENDPOINT_URL first, without probing Docker', async () => {
    const dockerAvailable = vi.fn(async () => true);

    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: { AWS_ENDPOINT_URL: 'http://localhost:4566' },
      dockerAvailable,
    });

    expect(choice).toMatchObject({ mode: 'endpoint', endpoint: 'http://localhost:4566' });
    expect(dockerAvailable).not.toHaveBeenCalled();
  });

  it('auto takes the endpoint option over AWS_ENDPOINT_URL', async () => {
    const choice = await chooseLocalAwsMode('auto', 'http://127.0.0.1:1234', {
      env: { AWS_ENDPOINT_URL: 'http://localhost:4566' },
      dockerAvailable: async () => false,
    });

    expect(choice).toMatchObject({ mode: 'endpoint', endpoint: 'http://127.0.0.1:1234' });
  });

  it('auto takes the containers mode when Docker answers and no LocalStack token is set', async () => {
    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: { LOCALSTACK_AUTH_TOKEN: ' ' },
      dockerAvailable: async () => true,
      packageInstalled: () => true,
    });

    expect(choice).toEqual({
      mode: 'containers',
      reason: expect.stringMatching(/LOCALSTACK_AUTH_TOKEN, which is not set/),
    });
  });

  it('auto takes LocalStack when Docker answers and a LocalStack token is set', async () => {
    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: { LOCALSTACK_AUTH_TOKEN: 'ls-token' },
      dockerAvailable: async () => true,
      packageInstalled: () => true,
    });

    expect(choice.mode).toBe('localstack');
  });

  it('auto keeps to containers when a token is set but @testcontainers/localstack is missing', async () => {
    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: { LOCALSTACK_AUTH_TOKEN: 'ls-token' },
      dockerAvailable: async () => true,
      packageInstalled: (name) => name === 'testcontainers',
    });

    expect(choice.mode).toBe('containers');
  });

  it('auto takes embedded when Docker answers but testcontainers is not installed', async () => {
    const packageInstalled = vi.fn((_name: string) => false);

    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: {},
      dockerAvailable: async () => true,
      packageInstalled,
    });

    expect(choice).toEqual({
      mode: 'embedded',
      reason: expect.stringMatching(/testcontainers package is not installed/),
    });
    expect(packageInstalled).toHaveBeenCalledWith('testcontainers');
  });

  it('auto finds the testcontainers installed in this workspace by default', async () => {
    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: {},
      dockerAvailable: async () => true,
    });

    expect(choice.mode).toBe('containers');
  });

  it('auto falls back to embedded when neither is available', async () => {
    const choice = await chooseLocalAwsMode('auto', undefined, {
      env: { AWS_ENDPOINT_URL: '  ' },
      dockerAvailable: async () => false,
    });

    expect(choice).toMatchObject({ mode: 'embedded', reason: expect.stringMatching(/no Docker/) });
  });

  it('explicit modes are kept as asked', async () => {
    const probes = { env: { AWS_ENDPOINT_URL: 'http://localhost:4566' }, dockerAvailable: async () => true };

    expect((await chooseLocalAwsMode('embedded', undefined, probes)).mode).toBe('embedded');
    expect((await chooseLocalAwsMode('containers', undefined, probes)).mode).toBe('containers');
    expect((await chooseLocalAwsMode('localstack', undefined, probes)).mode).toBe('localstack');
    expect(await chooseLocalAwsMode('endpoint', undefined, probes)).toMatchObject({
      mode: 'endpoint',
      endpoint: 'http://localhost:4566',
    });
  });

  it('endpoint mode without an endpoint has none (startLocalAws then throws)', async () => {
    const choice = await chooseLocalAwsMode('endpoint', undefined, { env: {} });

    expect(choice.endpoint).toBeUndefined();
  });
});

describe('dockerEndpoint', () => {
  it('reads unix and tcp DOCKER_HOST values', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toEqual({ host: '10.0.0.5', port: 2376 });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://docker' })).toEqual({ host: 'docker', port: 2375 });
  });

  it('does not guess for DOCKER_HOST schemes it cannot ping', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'ssh://me@host' })).toBeUndefined();
  });
});

describe('dockerPlacesChecked', () => {
  it('names DOCKER_HOST when it is set, else the sockets dockerEndpoint tries', () => {
    expect(dockerPlacesChecked({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toEqual([
      'DOCKER_HOST=tcp://10.0.0.5:2376',
    ]);
    const places = dockerPlacesChecked({ XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(places).toEqual([
      '/var/run/docker.sock',
      '/run/user/1000/docker.sock',
      expect.stringMatching(/\.docker\/run\/docker\.sock$/),
    ]);
  });
});
