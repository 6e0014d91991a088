import { LocalAwsNotProvidedError } from '@tidemark/testing';
import { localAws } from '@tidemark/testing/vitest';
import { describe, expect, it } from 'vitest';

describe('localAws', () => {
  it('says how to fix a run without the global setup', async () => {
    const saved = process.env.TIDEMARK_LOCAL_AWS;
    delete process.env.TIDEMARK_LOCAL_AWS;
    try {
      const error = await localAws().catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(LocalAwsNotProvidedError);
      expect((error as Error).message).toMatch(/@tidemark\/testing\/vitest-global-setup/);
    } finally {
      if (saved !== undefined) process.env.TIDEMARK_LOCAL_AWS = saved;
    }
  });

  it('connects from the TIDEMARK_LOCAL_AWS environment variable when nothing is injected', async () => {
    const saved = process.env.TIDEMARK_LOCAL_AWS;
    process.env.TIDEMARK_LOCAL_AWS = JSON.stringify({
      mode: 'endpoint',
      endpoint: 'http://127.0.0.1:4566',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      const aws = await localAws();

      expect(aws).toMatchObject({ mode: 'endpoint', endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1' });
      expect(aws.clientConfig).toEqual({
        endpoint: 'http://127.0.0.1:4566',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      expect(await localAws()).toBe(aws);
    } finally {
      if (saved === undefined) delete process.env.TIDEMARK_LOCAL_AWS;
      else process.env.TIDEMARK_LOCAL_AWS = saved;
    }
  });
});
