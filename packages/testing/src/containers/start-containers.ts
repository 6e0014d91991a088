/**
 * The `containers` mode's engines: DynamoDB Local and kinesis-mock as two containers started through
 * testcontainers, each on a port of this host, labelled with a session that a watchdog removes when
 * this process goes away.
 */
import { randomBytes } from 'node:crypto';
import { kinesisMockEnvironment } from '../embedded';
import { ContainerStartError, TestcontainersNotInstalledError } from '../errors';
import { dockerEndpoint, dockerPlacesChecked, pingDocker } from '../mode';
import { SESSION_LABEL, startWatchdog, type Watchdog } from './watchdog';

/** Options of {@link startContainerEngines}. */
export interface ContainerEngineOptions {
  readonly region: string;
  readonly startTimeoutMs: number;
  readonly dynamodbImage: string;
  readonly kinesisImage: string;
}

/** A container the `containers` mode started. */
export interface StartedEngineContainer {
  /** `dynamodb-local` or `kinesis-mock`. */
  readonly name: string;
  /** The container id. */
  readonly id: string;
  /** The image it runs. */
  readonly image: string;
  /** Milliseconds from asking testcontainers to start it to its first HTTP answer. */
  readonly readyInMs: number;
}

/** The running containers. */
export interface ContainerEngines {
  readonly dynamodbUrl: string;
  readonly kinesisUrl: string;
  readonly containers: readonly StartedEngineContainer[];
  /** Stops and removes both containers; resolves when they are gone. */
  stop(): Promise<void>;
}

const DYNAMODB_PORT = 8000;
const KINESIS_PLAIN_PORT = 4568;
const KINESIS_TLS_PORT = 4567;

type TestcontainersModule = typeof import('testcontainers');

/** Loads the optional `testcontainers` peer dependency, or says how to install it. */
export async function loadTestcontainers(mode: string): Promise<TestcontainersModule> {
  try {
    return await import('testcontainers');
  } catch (cause) {
    if (isModuleNotFound(cause, 'testcontainers')) {
      throw new TestcontainersNotInstalledError('testcontainers', mode, { cause });
    }
    throw cause;
  }
}

/** True when `error` says that `name` itself (not one of its own imports) cannot be found. */
export function isModuleNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = String((error as Error).message);
  return message.includes(`'${name}'`) || message.includes(`"${name}"`);
}

/**
 * Starts the DynamoDB Local and kinesis-mock containers in parallel; resolves once both answer HTTP.
 * If either fails, everything started is removed before the error is thrown.
 */
export async function startContainerEngines(options: ContainerEngineOptions): Promise<ContainerEngines> {
  // The missing package first: it is the fix to make even before an engine runs.
  const testcontainers = await loadTestcontainers('containers');
  const target = dockerEndpoint();
  if (target === undefined || !(await pingDocker())) {
    const checked = dockerPlacesChecked();
    throw new ContainerStartError(
      [
        `no Docker engine answers (checked ${checked.join(', ')}).`,
        'Start Docker (or podman serving its Docker-compatible socket, with DOCKER_HOST pointing at it),',
        "or choose another mode with TIDEMARK_LOCAL_AWS_MODE: 'embedded' (needs Java) or 'endpoint'",
        '(with AWS_ENDPOINT_URL).',
      ].join(' '),
      { checked, modeVariable: 'TIDEMARK_LOCAL_AWS_MODE' },
    );
  }
  const session = randomBytes(8).toString('hex');
  let watchdog: Watchdog;
  try {
    watchdog = await startWatchdog(target, session);
  } catch (cause) {
    throw new ContainerStartError(String((cause as Error).message), { session }, { cause });
  }
  const labels = { [SESSION_LABEL]: session };
  const { GenericContainer, Wait } = testcontainers;
  const answersHttp = (port: number) =>
    Wait.forHttp('/', port)
      .withMethod('POST')
      .forStatusCodeMatching((status) => status > 0);

  const startOne = async (
    name: string,
    image: string,
    port: number,
    configure: (container: InstanceType<TestcontainersModule['GenericContainer']>) => void,
    // Every port the image exposes is published: podman lists an unpublished exposed port among the
    // port bindings, and testcontainers would wait for it to be bound.
    otherPorts: readonly number[] = [],
  ) => {
    const startedAt = performance.now();
    const container = new GenericContainer(image)
      .withLabels(labels)
      .withExposedPorts(port, ...otherPorts)
      .withWaitStrategy(answersHttp(port))
      .withStartupTimeout(options.startTimeoutMs);
    configure(container);
    try {
      const started = await container.start();
      return {
        url: `http://${started.getHost()}:${started.getMappedPort(port)}`,
        info: { name, id: started.getId(), image, readyInMs: Math.round(performance.now() - startedAt) },
      };
    } catch (cause) {
      throw new ContainerStartError(
        `${name} (${image}) did not start: ${(cause as Error).message ?? String(cause)}`,
        { container: name, image, session },
        { cause },
      );
    }
  };

  const results = await Promise.allSettled([
    startOne('dynamodb-local', options.dynamodbImage, DYNAMODB_PORT, (container) =>
      container
        // The public image's entrypoint is `java` in the jar's directory.
        .withCommand([
          '-Djava.library.path=./DynamoDBLocal_lib',
          '-jar',
          'DynamoDBLocal.jar',
          '-inMemory',
          '-sharedDb',
          '-port',
          String(DYNAMODB_PORT),
        ])
        .withEnvironment({
          DDB_LOCAL_TELEMETRY: '0',
          JAVA_TOOL_OPTIONS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData',
        }),
    ),
    startOne(
      'kinesis-mock',
      options.kinesisImage,
      KINESIS_PLAIN_PORT,
      (container) =>
        container.withEnvironment({
          ...kinesisMockEnvironment(options.region),
          KINESIS_MOCK_PLAIN_PORT: String(KINESIS_PLAIN_PORT),
          KINESIS_MOCK_TLS_PORT: String(KINESIS_TLS_PORT),
        }),
      [KINESIS_TLS_PORT],
    ),
  ]);
  const [dynamodb, kinesis] = results;
  if (dynamodb.status === 'rejected' || kinesis.status === 'rejected') {
    const error =
      dynamodb.status === 'rejected' ? dynamodb.reason : (kinesis as PromiseRejectedResult).reason;
    await watchdog.reap().catch((reapError: unknown) => {
      if (error instanceof Error && error.cause === undefined) {
        Object.defineProperty(error, 'cause', { value: reapError, configurable: true, writable: true });
      }
    });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    dynamodbUrl: dynamodb.value.url,
    kinesisUrl: kinesis.value.url,
    containers: [dynamodb.value.info, kinesis.value.info],
    stop() {
      // A forced removal kills and removes at once: the in-memory engines keep nothing worth a
      // graceful stop. The watchdog does it (and exits), as it would if this process died.
      stopping ??= watchdog.reap().then(() => undefined);
      return stopping;
    },
  };
}
