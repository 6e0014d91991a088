import type { AwsCredentials } from '@tidemark/core';
import { checkEndpoint } from './check-endpoint';
import { DYNAMODB_LOCAL_IMAGE, KINESIS_MOCK_IMAGE, LOCALSTACK_IMAGE } from './containers/images';
import { startContainerEngines } from './containers/start-containers';
import { startLocalStack } from './containers/start-localstack';
import { type Edge, startEdge } from './edge/edge';
import { defaultJavaCommand, type EmbeddedEngines, startEmbeddedEngines } from './embedded';
import { EndpointUnavailableError, LocalAwsOptionsError } from './errors';
import {
  createHandle,
  type LocalAws,
  type LocalAwsConnection,
  type LocalAwsContainer,
  type LocalAwsProcess,
} from './local-aws-handle';
import { chooseLocalAwsMode, type LocalAwsModeOption } from './mode';

/** The region used unless `region` is given. */
export const DEFAULT_REGION = 'us-east-1';
/** The credentials used unless `credentials` are given (local engines accept any). */
export const DEFAULT_CREDENTIALS: AwsCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Options of {@link startLocalAws}. */
export interface StartLocalAwsOptions {
  /**
   * Which local AWS: `endpoint` (an existing one, from `endpoint` or `AWS_ENDPOINT_URL`), `containers`
   * (DynamoDB Local + kinesis-mock containers through testcontainers; needs Docker, no token),
   * `localstack` (through testcontainers; needs Docker, and `LOCALSTACK_AUTH_TOKEN` for images after
   * 4.14), `embedded` (DynamoDB Local + kinesis-mock processes; needs Java) or `auto` (endpoint if set,
   * else, when Docker answers, LocalStack if `LOCALSTACK_AUTH_TOKEN` is set or containers if not, else
   * embedded).
   * @default 'auto'
   */
  readonly mode?: LocalAwsModeOption;
  /** The upstream endpoint for the `endpoint` mode (and for `auto`). Default: `AWS_ENDPOINT_URL`. */
  readonly endpoint?: string;
  /** The region of the clients and resources. Default: `'us-east-1'`. */
  readonly region?: string;
  /** The credentials the clients sign with. Default: `{ accessKeyId: 'test', secretAccessKey: 'test' }`. */
  readonly credentials?: AwsCredentials;
  /** The `java` command for DynamoDB Local. Default: `$JAVA_HOME/bin/java`, else `java` on the PATH. */
  readonly java?: string;
  /** How long the engines (or LocalStack) may take to answer. Default: `60_000` (LocalStack: `180_000`). */
  readonly startTimeoutMs?: number;
  /** The LocalStack image. Default: {@link LOCALSTACK_IMAGE}. */
  readonly localstackImage?: string;
  /**
   * The DynamoDB Local image of the `containers` mode (its entrypoint must be `java` in the jar's
   * directory, as in Amazon's image).
   * @default DYNAMODB_LOCAL_IMAGE
   */
  readonly dynamodbImage?: string;
  /**
   * The kinesis-mock image of the `containers` mode.
   * @default KINESIS_MOCK_IMAGE
   */
  readonly kinesisImage?: string;
}

const OPTION_KEYS = [
  'mode',
  'endpoint',
  'region',
  'credentials',
  'java',
  'startTimeoutMs',
  'localstackImage',
  'dynamodbImage',
  'kinesisImage',
];
const MODES: readonly LocalAwsModeOption[] = ['auto', 'endpoint', 'containers', 'localstack', 'embedded'];

/**
 * Starts local AWS and resolves once it answers: the embedded engines (or LocalStack, or a given
 * endpoint) behind an edge on a free local port.
 *
 * @example
 * ```ts
 * import { PutItemCommand } from '@aws-sdk/client-dynamodb';
 * import { startLocalAws } from '@tidemark/testing';
 *
 * await using aws = await startLocalAws({ mode: 'auto' });
 * const { tableName } = await aws.createEventLogTable();
 * await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'a#1' }, sk: { N: '1' } } }));
 * ```
 */
export async function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  validateOptions(options);
  const region = options.region ?? DEFAULT_REGION;
  const credentials = { ...(options.credentials ?? DEFAULT_CREDENTIALS) };
  const choice = await chooseLocalAwsMode(options.mode ?? 'auto', options.endpoint);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const step of cleanups.splice(0).reverse()) {
      await step().catch((error: unknown) => errors.push(error));
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    let edge: Edge;
    let processes: readonly LocalAwsProcess[] = [];
    let containers: readonly LocalAwsContainer[] = [];
    if (choice.mode === 'containers') {
      const [engines, started] = await Promise.allSettled([
        startContainerEngines({
          region,
          startTimeoutMs: options.startTimeoutMs ?? 60_000,
          dynamodbImage: options.dynamodbImage ?? DYNAMODB_LOCAL_IMAGE,
          kinesisImage: options.kinesisImage ?? KINESIS_MOCK_IMAGE,
        }),
        startEdgeLater(),
      ]);
      if (started.status === 'fulfilled') cleanups.push(() => started.value.close());
      if (engines.status === 'fulfilled') cleanups.push(() => engines.value.stop());
      if (engines.status === 'rejected') throw engines.reason;
      if (started.status === 'rejected') throw started.reason;
      edge = started.value;
      edge.routes = {
        dynamodb: engines.value.dynamodbUrl,
        dynamodbStreams: engines.value.dynamodbUrl,
        kinesis: engines.value.kinesisUrl,
      };
      containers = engines.value.containers;
    } else if (choice.mode === 'embedded') {
      const [engines, started] = await Promise.allSettled([
        startEmbeddedEngines({
          region,
          java: options.java ?? defaultJavaCommand(),
          startTimeoutMs: options.startTimeoutMs ?? 60_000,
        }),
        startEdgeLater(),
      ]);
      if (started.status === 'fulfilled') cleanups.push(() => started.value.close());
      if (engines.status === 'fulfilled') cleanups.push(() => engines.value.stop());
      if (engines.status === 'rejected') throw engines.reason;
      if (started.status === 'rejected') throw started.reason;
      const running: EmbeddedEngines = engines.value;
      edge = started.value;
      edge.routes = {
        dynamodb: running.dynamodbUrl,
        dynamodbStreams: running.dynamodbUrl,
        kinesis: running.kinesisUrl,
      };
      processes = running.processes.map(({ name, pid, supervisorPid }) => ({
        name,
        pid,
        supervisorPid,
        readyInMs: running.readyInMs[name] ?? 0,
      }));
    } else if (choice.mode === 'endpoint') {
      if (choice.endpoint === undefined) {
        throw new EndpointUnavailableError(
          "mode 'endpoint' needs the `endpoint` option or AWS_ENDPOINT_URL (for example http://localhost:4566)",
        );
      }
      const upstream = await checkEndpoint(choice.endpoint);
      edge = await startEdge({
        routes: { dynamodb: upstream, dynamodbStreams: upstream, kinesis: upstream },
        fallback: upstream,
      });
      cleanups.push(() => edge.close());
    } else {
      const upstream = await startLocalStack(
        {
          image: options.localstackImage ?? LOCALSTACK_IMAGE,
          startTimeoutMs: options.startTimeoutMs ?? 180_000,
        },
        cleanups,
      );
      edge = await startEdge({
        routes: { dynamodb: upstream, dynamodbStreams: upstream, kinesis: upstream },
        fallback: upstream,
      });
      cleanups.push(() => edge.close());
    }
    return createHandle(
      { mode: choice.mode, endpoint: edge.endpoint, region, credentials },
      processes,
      containers,
      cleanup,
    );
  } catch (error) {
    // The start error is what the caller must see; a failure to clean up after it is reported as
    // its companion rather than replacing it.
    await cleanup().catch((cleanupError: unknown) => {
      if (error instanceof Error && error.cause === undefined) {
        Object.defineProperty(error, 'cause', { value: cleanupError, configurable: true, writable: true });
      }
    });
    throw error;
  }
}

/** The edge starts while the engines boot; its routes are filled in once they answer. */
async function startEdgeLater(): Promise<Edge> {
  // Port 9 (discard) is never served here: a call before the engines answer fails loudly.
  const nowhere = 'http://127.0.0.1:9';
  return startEdge({ routes: { dynamodb: nowhere, dynamodbStreams: nowhere, kinesis: nowhere } });
}

/**
 * Connects to a local AWS started elsewhere (by the Vitest global setup, or another process): clients,
 * helpers and fault control, without owning its processes.
 *
 * @example
 * ```ts
 * import { connectLocalAws } from '@tidemark/testing';
 *
 * const aws = connectLocalAws(JSON.parse(process.env.TIDEMARK_LOCAL_AWS!));
 * await aws.faults.set({ kinesis: { throttleRate: 1 } });
 * ```
 */
export function connectLocalAws(connection: LocalAwsConnection): LocalAws {
  return createHandle(connection, [], [], async () => undefined);
}

function validateOptions(options: StartLocalAwsOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new LocalAwsOptionsError('startLocalAws options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new LocalAwsOptionsError(
        `Unknown startLocalAws option "${key}"; known options: ${OPTION_KEYS.join(', ')}`,
        {
          key,
        },
      );
    }
  }
  if (options.mode !== undefined && !MODES.includes(options.mode)) {
    throw new LocalAwsOptionsError(
      `mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(options.mode)}`,
      {
        mode: options.mode,
      },
    );
  }
  for (const key of ['localstackImage', 'dynamodbImage', 'kinesisImage'] as const) {
    const image = options[key];
    if (image !== undefined && (typeof image !== 'string' || image.trim() === '')) {
      throw new LocalAwsOptionsError(`${key} must be a non-empty image name, got ${JSON.stringify(image)}`, {
        [key]: image,
      });
    }
  }
  if (
    options.startTimeoutMs !== undefined &&
    (!Number.isInteger(options.startTimeoutMs) || options.startTimeoutMs <= 0)
  ) {
    throw new LocalAwsOptionsError('startTimeoutMs must be a positive integer', {
      startTimeoutMs: options.startTimeoutMs,
    });
  }
}
