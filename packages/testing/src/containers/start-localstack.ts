/**
 * The `localstack` mode: LocalStack in a container, removed by the session's watchdog.
 */
import { randomBytes } from 'node:crypto';
import { LocalStackStartError, TestcontainersNotInstalledError } from '../errors';
import { dockerEndpoint, dockerPlacesChecked, pingDocker } from '../mode';
import { isModuleNotFound } from './start-containers';
import { SESSION_LABEL, startWatchdog } from './watchdog';

/**
 * Starts LocalStack (DynamoDB, DynamoDB Streams, Kinesis) through `@testcontainers/localstack`,
 * watched like the containers mode's engines; returns its endpoint. The watchdog's cleanup is
 * pushed onto `cleanups`.
 */
export async function startLocalStack(
  options: { readonly image: string; readonly startTimeoutMs: number },
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  const { image } = options;
  let localstack: typeof import('@testcontainers/localstack');
  try {
    localstack = await import('@testcontainers/localstack');
  } catch (cause) {
    for (const name of ['@testcontainers/localstack', 'testcontainers']) {
      if (isModuleNotFound(cause, name))
        throw new TestcontainersNotInstalledError(name, 'localstack', { cause });
    }
    throw cause;
  }
  const target = dockerEndpoint();
  if (target === undefined || !(await pingDocker())) {
    const checked = dockerPlacesChecked();
    throw new LocalStackStartError(
      `no Docker engine answers (checked ${checked.join(', ')}); start Docker, or choose another mode with TIDEMARK_LOCAL_AWS_MODE: 'embedded' (needs Java) or 'endpoint' (with AWS_ENDPOINT_URL)`,
      { checked, modeVariable: 'TIDEMARK_LOCAL_AWS_MODE' },
    );
  }
  try {
    const { LocalstackContainer } = localstack;
    const environment: Record<string, string> = { SERVICES: 'dynamodb,dynamodbstreams,kinesis' };
    const token = process.env.LOCALSTACK_AUTH_TOKEN;
    if (token) environment.LOCALSTACK_AUTH_TOKEN = token;
    // The container is removed by a watchdog, as in the containers mode: after stop(), and also
    // when this process dies without it (testcontainers' reaper may be disabled or unavailable).
    const watchdog = await startWatchdog(target, randomBytes(8).toString('hex'));
    cleanups.push(async () => {
      await watchdog.reap();
    });
    const container = await new LocalstackContainer(image)
      .withLabels({ [SESSION_LABEL]: watchdog.session })
      .withEnvironment(environment)
      .withStartupTimeout(options.startTimeoutMs)
      .start();
    return container.getConnectionUri();
  } catch (cause) {
    throw new LocalStackStartError(
      `${image} failed to start${process.env.LOCALSTACK_AUTH_TOKEN ? '' : ' (LOCALSTACK_AUTH_TOKEN is not set; LocalStack images after 4.14 need one)'}: ${String(cause)}`,
      { image },
      { cause },
    );
  }
}
