/**
 * The `containers` mode for real, through a container engine (run by `npm run test:containers`, which
 * provisions one): DynamoDB Local and kinesis-mock in two containers behind the edge.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  ContainerStartError,
  chooseLocalAwsMode,
  DYNAMODB_LOCAL_IMAGE,
  KINESIS_MOCK_IMAGE,
  LocalStackStartError,
  pingDocker,
  startLocalAws,
} from '@tidemark/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersLabelled, networksLabelled, sessionContainers, sessionOf } from '../helpers/containers';

let runContainers = new Set<string>();

beforeAll(async () => {
  // Never a skip: this suite exists to prove the mode on an engine.
  if (!(await pingDocker())) {
    throw new Error('no container engine answers: run these tests through `npm run test:containers`');
  }
  // The run's own local AWS (from the global setup) is up before and after this file.
  runContainers = new Set((await containersLabelled('org.testcontainers')).map(({ Id }) => Id));
});

afterAll(async () => {
  const strays = (await containersLabelled('org.testcontainers')).filter(({ Id }) => !runContainers.has(Id));
  expect(strays).toEqual([]);
  // The mode publishes ports on the engine's default network and creates none of its own.
  expect(await networksLabelled('org.testcontainers')).toEqual([]);
});

describe('containers mode', () => {
  it('runs both engines as containers of the pinned images behind the edge, with faults and streams', async () => {
    await using aws = await startLocalAws({ mode: 'containers' });
    const { tableName, streamArn } = await aws.createEventLogTable();
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });

    await aws.dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'task#1' }, sk: { N: '1' } } }),
    );
    const read = await aws.dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'task#1' }, sk: { N: '1' } } }),
    );
    const { StreamDescription } = await aws.dynamodbStreams.send(
      // DescribeStream through the edge's Streams route reaches the same DynamoDB Local.
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    const { ShardIterator } = await aws.dynamodbStreams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: StreamDescription?.Shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await aws.dynamodbStreams.send(new GetRecordsCommand({ ShardIterator }));
    await aws.faults.set({ kinesis: { putRecordsEntryFailureRate: 1 } });
    const failed = await aws.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }],
      }),
    );
    await aws.faults.clear();
    const written = await aws.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }],
      }),
    );

    expect(aws.mode).toBe('containers');
    expect(aws.processes).toEqual([]);
    expect(aws.containers.map(({ name, image }) => ({ name, image }))).toEqual([
      { name: 'dynamodb-local', image: DYNAMODB_LOCAL_IMAGE },
      { name: 'kinesis-mock', image: KINESIS_MOCK_IMAGE },
    ]);
    for (const container of aws.containers) {
      expect(container.id).toMatch(/^[0-9a-f]{12,}$/);
      expect(container.readyInMs).toBeGreaterThan(0);
      console.log(`${container.name} (${container.image}) ready in ${container.readyInMs} ms`);
    }
    expect(read.Item?.pk?.S).toBe('task#1');
    expect(Records?.map((record) => record.eventName)).toEqual(['INSERT']);
    expect(failed.FailedRecordCount).toBe(1);
    expect(written.FailedRecordCount).toBe(0);
    expect((await aws.faults.stats()).putRecordsEntriesFailed).toBe(1);
  });

  it('stop() removes both containers, and a second stop() is harmless', async () => {
    const aws = await startLocalAws({ mode: 'containers' });
    const session = await sessionOf(aws.containers[0]?.id ?? '');
    expect((await sessionContainers(session)).map(({ State }) => State)).toEqual(['running', 'running']);

    const stoppedAt = performance.now();
    await aws.stop();
    console.log(`stop() removed both containers in ${Math.round(performance.now() - stoppedAt)} ms`);
    await aws.stop();

    expect(await sessionContainers(session)).toEqual([]);
  });

  it('`await using` removes the containers at the end of the scope', async () => {
    let session = '';
    {
      await using aws = await startLocalAws({ mode: 'containers' });
      session = await sessionOf(aws.containers[1]?.id ?? '');
      expect(await sessionContainers(session)).toHaveLength(2);
    }

    expect(await sessionContainers(session)).toEqual([]);
  });

  it('an image that does not exist is a typed error naming it, and leaves no container', async () => {
    const before = new Set((await sessionContainers()).map(({ Id }) => Id));
    const image = 'localhost/tidemark/no-such-image:0';

    const error = await startLocalAws({ mode: 'containers', kinesisImage: image }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(ContainerStartError);
    expect(error).toMatchObject({
      code: 'CONTAINER_START_FAILED',
      context: { container: 'kinesis-mock', image },
      message: expect.stringContaining(image),
    });
    // The DynamoDB Local container that did start is removed too.
    const after = (await sessionContainers()).filter(({ Id }) => !before.has(Id));
    expect(after).toEqual([]);
  });

  it('a container that exits at once is a typed error, and leaves no container', async () => {
    const before = new Set((await sessionContainers()).map(({ Id }) => Id));

    // DynamoDB Local's image started with the kinesis-mock command: `java ./main.js` fails at once.
    const error = await startLocalAws({
      mode: 'containers',
      kinesisImage: DYNAMODB_LOCAL_IMAGE,
      startTimeoutMs: 20_000,
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ContainerStartError);
    expect((error as ContainerStartError).context).toMatchObject({ container: 'kinesis-mock' });
    expect((await sessionContainers()).filter(({ Id }) => !before.has(Id))).toEqual([]);
  });

  it('without a Docker engine is a typed error naming the places checked and TIDEMARK_LOCAL_AWS_MODE', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const error = await startLocalAws({ mode: 'containers' }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ContainerStartError);
      expect((error as Error).message).toMatch(
        /no Docker engine answers.*nonexistent.*TIDEMARK_LOCAL_AWS_MODE/,
      );
      expect((error as ContainerStartError).context).toEqual({
        checked: ['DOCKER_HOST=unix:///nonexistent/docker.sock'],
        modeVariable: 'TIDEMARK_LOCAL_AWS_MODE',
      });
    } finally {
      process.env.DOCKER_HOST = saved;
    }
  });

  it('auto chooses containers where Docker answers and no LocalStack token is set', async () => {
    const env = { ...process.env, LOCALSTACK_AUTH_TOKEN: undefined, AWS_ENDPOINT_URL: undefined };

    const choice = await chooseLocalAwsMode('auto', undefined, { env });
    const withToken = await chooseLocalAwsMode('auto', undefined, {
      env: { ...env, LOCALSTACK_AUTH_TOKEN: 'ls-token' },
    });

    expect(choice).toEqual({ mode: 'containers', reason: expect.stringMatching(/LOCALSTACK_AUTH_TOKEN/) });
    expect(withToken.mode).toBe('localstack');
  });
});

describe('localstack mode glue (without LocalStack’s image)', () => {
  it('an image the engine cannot get is a LocalStackStartError that names the token, and leaves no container', async () => {
    const image = 'localhost/tidemark/no-such-localstack:0';
    const saved = process.env.LOCALSTACK_AUTH_TOKEN;
    delete process.env.LOCALSTACK_AUTH_TOKEN;
    try {
      const error = await startLocalAws({
        mode: 'localstack',
        localstackImage: image,
        startTimeoutMs: 20_000,
      }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(LocalStackStartError);
      expect(error).toMatchObject({ code: 'LOCALSTACK_START_FAILED', context: { image } });
      expect((error as Error).message).toMatch(/LOCALSTACK_AUTH_TOKEN is not set/);
      expect((await containersLabelled('org.testcontainers')).filter(({ Image }) => Image === image)).toEqual(
        [],
      );
    } finally {
      if (saved !== undefined) process.env.LOCALSTACK_AUTH_TOKEN = saved;
    }
  });
});
