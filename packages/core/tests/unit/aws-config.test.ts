import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/index';
import { isSdkClient, resolveAwsClientConfig, resolveClient } from '../../src/internal';

describe('resolveAwsClientConfig', () => {
  it('prefers options over the environment', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };
    expect(
      resolveAwsClientConfig({ region: 'us-east-1', endpoint: 'http://localhost:9000' }, 'kinesis', env),
    ).toEqual({
      region: 'us-east-1',
      endpoint: 'http://localhost:9000',
    });
  });

  it('reads the standard variables, service-specific endpoint first', () => {
    const env = {
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4567',
    };
    expect(resolveAwsClientConfig({}, 'kinesis', env)).toEqual({
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:4567',
    });
    expect(resolveAwsClientConfig({}, 'dynamodb', env)).toEqual({
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:4566',
    });
  });

  it('hard-codes nothing when nothing is configured', () => {
    expect(resolveAwsClientConfig({}, 'dynamodb', {})).toEqual({});
  });

  it('honours AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', () => {
    expect(
      resolveAwsClientConfig({}, 'dynamodb', {
        AWS_ENDPOINT_URL: 'http://x:1',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
    ).toEqual({});
  });

  it('refuses a malformed endpoint with a typed error', () => {
    expect(() => resolveAwsClientConfig({ endpoint: 'localhost:4566' }, 'kinesis', {})).toThrow(
      ConfigurationError,
    );
  });
});

describe('resolveClient', () => {
  it('returns a given client as is, and builds one from a config otherwise', () => {
    const client = { send: async () => ({}), config: {} };
    expect(
      resolveClient(client, () => {
        throw new Error('must not build');
      }),
    ).toBe(client);
    const built = resolveClient(
      { region: 'eu-west-1' },
      (config) => ({ send: async () => ({}), config }),
      'dynamodb',
    );
    expect(built.config).toMatchObject({ region: 'eu-west-1' });
    expect(isSdkClient(built)).toBe(true);
    expect(isSdkClient({ region: 'x' })).toBe(false);
  });
});
