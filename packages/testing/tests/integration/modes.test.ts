import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  EndpointUnavailableError,
  LOCALSTACK_IMAGE,
  LocalStackStartError,
  pingDocker,
  startLocalAws,
} from '@tidemark/testing';
import { localAws } from '@tidemark/testing/vitest';
import { afterEach, describe, expect, it } from 'vitest';

const dockerAnswers = await pingDocker();
const savedEndpoint = process.env.AWS_ENDPOINT_URL;

afterEach(() => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

describe('endpoint mode', () => {
  it('puts a second edge in front of a given endpoint, with its own faults', async () => {
    const first = await localAws();
    await using second = await startLocalAws({ mode: 'endpoint', endpoint: first.endpoint });
    const { tableName } = await second.createEventLogTable();
    const { streamName } = await second.createKinesisStream();

    await second.faults.set({ kinesis: { putRecordsEntryFailureRate: 1 } });
    const throughSecond = await second.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }],
      }),
    );
    const throughFirst = await first.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }],
      }),
    );
    await second.faults.clear();

    expect(second.mode).toBe('endpoint');
    expect(second.endpoint).not.toBe(first.endpoint);
    expect(second.processes).toEqual([]);
    expect((await first.dynamodb.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
    expect((await first.kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards).toHaveLength(
      1,
    );
    expect(throughSecond.FailedRecordCount).toBe(1);
    expect(throughFirst.FailedRecordCount).toBe(0);
    expect((await second.faults.stats()).putRecordsEntriesFailed).toBe(1);
    expect((await first.faults.stats()).putRecordsEntriesFailed).toBe(0);
  });

  it('auto takes AWS_ENDPOINT_URL when it is set', async () => {
    const first = await localAws();
    process.env.AWS_ENDPOINT_URL = first.endpoint;

    await using second = await startLocalAws();
    const { tableName } = await second.createEventLogTable();

    expect(second.mode).toBe('endpoint');
    expect((await first.dynamodb.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
  });

  it('endpoint mode without an endpoint is a typed error', async () => {
    delete process.env.AWS_ENDPOINT_URL;

    await expect(startLocalAws({ mode: 'endpoint' })).rejects.toBeInstanceOf(EndpointUnavailableError);
  });

  it('an endpoint where nothing answers is a typed error', async () => {
    await expect(startLocalAws({ mode: 'endpoint', endpoint: 'http://127.0.0.1:9' })).rejects.toThrow(
      EndpointUnavailableError,
    );
    await expect(startLocalAws({ mode: 'endpoint', endpoint: 'ftp://example' })).rejects.toThrow(
      /not an http/,
    );
  });
});

describe('localstack mode', () => {
  it.skipIf(!dockerAnswers)(
    `runs ${LOCALSTACK_IMAGE} through testcontainers behind the edge (skipped here: no Docker engine answers)`,
    async () => {
      await using aws = await startLocalAws({ mode: 'localstack' });
      const { tableName, streamArn } = await aws.createEventLogTable();
      const { streamName } = await aws.createKinesisStream();
      await aws.faults.set({ kinesis: { putRecordsEntryFailureRate: 1 } });

      const put = await aws.kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }],
        }),
      );

      expect(aws.mode).toBe('localstack');
      expect(tableName).toMatch(/^event-log-/);
      expect(streamArn).toMatch(/stream/);
      expect(put.FailedRecordCount).toBe(1);
    },
    300_000,
  );

  it.skipIf(dockerAnswers)(
    'without a Docker engine is a typed error that says what to do (skipped where Docker answers)',
    async () => {
      const error = await startLocalAws({ mode: 'localstack' }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(LocalStackStartError);
      expect((error as Error).message).toMatch(/no Docker engine answers.*embedded/);
    },
  );
});

describe('options', () => {
  it('rejects unknown options and modes', async () => {
    await expect(startLocalAws({ mod: 'embedded' } as never)).rejects.toThrow(
      /^startLocalAws: unknown option "mod"; expected one of mode, endpoint, region/,
    );
    await expect(startLocalAws({ mod: 'embedded' } as never)).rejects.toMatchObject({
      name: 'ConfigurationError',
      factory: 'startLocalAws',
      option: 'mod',
    });
    await expect(startLocalAws({ mode: 'docker' } as never)).rejects.toThrow(
      /^startLocalAws: mode: .*"embedded".*; received "docker"$/,
    );
  });
});
