import type { AwsCredentials } from '@tidemark/core';
import { parseOptions } from '@tidemark/core/internal';
import { checkEndpoint } from './check-endpoint';
import { DYNAMODB_LOCAL_IMAGE, KINESIS_MOCK_IMAGE, LOCALSTACK_IMAGE } from './containers/images';
import { startContainerEngines } from './containers/start-containers';
import { startLocalStack } from './containers/start-localstack';
import { type Edge, startEdge } from './edge/edge';
import { defaultJavaCommand, type EmbeddedEngines, startEmbeddedEngines } from './embedded';
import { EndpointUnavailableError } from './errors';
import {
  createHandle,
  type LocalAws,
  type LocalAwsConnection,
  type LocalAwsContainer,
  type LocalAwsProcess,
} from './local-aws-handle';
import { LOCAL_AWS_DEFAULTS, START_LOCAL_AWS_OPTIONS_SCHEMA } from './local-aws-options';
import { chooseLocalAwsMode, type LocalAwsModeOption } from './mode';

/** The region used unless `region` is given (`LOCAL_AWS_DEFAULTS.region`). */
export const DEFAULT_REGION = LOCAL_AWS_DEFAULTS.region;
/** The credentials used unless `credentials` are given (local engines accept any; `LOCAL_AWS_DEFAULTS.credentials`). */
export const DEFAULT_CREDENTIALS: AwsCredentials = LOCAL_AWS_DEFAULTS.credentials;

/** Options of {@link startLocalAws}. */
export interface StartLocalAwsOptions {
  /**
   * Which local AWS: `endpoint` (an existing one, from `endpoint` or `AWS_ENDPOINT_URL`), `containers`
   * (DynamoDB Local + kinesis-mock containers through testcontainers; needs Docker, no token),
   * `localstack` (through testcontainers; needs Docker, and `LOCALSTACK_AUTH_TOKEN` for images after
   * 4.14), `embedded` (DynamoDB Local + kinesis-mock processes; needs Java) or `auto` (endpoint if set,
   * else, when Docker answers, LocalStack if `LOCALSTACK_AUTH_TOKEN` is set or containers if not, else
   * embedded).
   * @default 'auto' (`LOCAL_AWS_DEFAULTS.mode`)
   */
  readonly mode?: LocalAwsModeOption;
  /** The upstream endpoint for the `endpoint` mode (and for `auto`). Default: `AWS_ENDPOINT_URL`. */
  readonly endpoint?: string;
  /**
   * The region of the clients and resources.
   *
   * @default 'us-east-1' (`LOCAL_AWS_DEFAULTS.region`)
   */
  readonly region?: string;
  /**
   * The credentials the clients sign with.
   *
   * @default { accessKeyId: 'test', secretAccessKey: 'test' } (`LOCAL_AWS_DEFAULTS.credentials`)
   */
  readonly credentials?: AwsCredentials;
  /** The `java` command for DynamoDB Local. Default: `$JAVA_HOME/bin/java`, else `java` on the PATH. */
  readonly java?: string;
  /**
   * How long the engines (or LocalStack) may take to answer, in ms.
   *
   * @default 60000, LocalStack 180000 (`LOCAL_AWS_DEFAULTS.startTimeoutMs`, `LOCAL_AWS_DEFAULTS.localstackStartTimeoutMs`)
   */
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
export async function startLocalAws(input?: StartLocalAwsOptions): Promise<LocalAws> {
  const options = parseOptions(START_LOCAL_AWS_OPTIONS_SCHEMA, input, { factory: 'startLocalAws' });
  const { region } = options;
  const credentials = { ...(options.credentials ?? LOCAL_AWS_DEFAULTS.credentials) };
  const choice = await chooseLocalAwsMode(options.mode, options.endpoint);
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
          startTimeoutMs: options.startTimeoutMs ?? LOCAL_AWS_DEFAULTS.startTimeoutMs,
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
          startTimeoutMs: options.startTimeoutMs ?? LOCAL_AWS_DEFAULTS.startTimeoutMs,
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
          startTimeoutMs: options.startTimeoutMs ?? LOCAL_AWS_DEFAULTS.localstackStartTimeoutMs,
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
