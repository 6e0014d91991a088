/**
 * `startLocalAws`: one call gives an endpoint, ready SDK clients, resource helpers and fault control,
 * whatever runs behind the edge (the embedded engines, LocalStack, or a given endpoint).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { type AwsCredentials, eventLogTableDescription } from '@tidemark/core';
import { DYNAMODB_LOCAL_IMAGE, KINESIS_MOCK_IMAGE } from './containers/images';
import { isModuleNotFound, startContainerEngines } from './containers/start-containers';
import { SESSION_LABEL, startWatchdog } from './containers/watchdog';
import { type Edge, startEdge } from './edge/edge';
import { defaultJavaCommand, type EmbeddedEngines, startEmbeddedEngines } from './embedded';
import {
  EndpointUnavailableError,
  LocalAwsOptionsError,
  LocalStackStartError,
  ResourceNotReadyError,
  TestcontainersNotInstalledError,
} from './errors';
import { createFaultControl, type FaultControl } from './faults/fault-control';
import {
  chooseLocalAwsMode,
  dockerEndpoint,
  dockerPlacesChecked,
  type LocalAwsMode,
  type LocalAwsModeOption,
  pingDocker,
} from './mode';

/**
 * The LocalStack image the `localstack` mode runs, pinned here and nowhere else. LocalStack images
 * after 4.14 need `LOCALSTACK_AUTH_TOKEN`, which is passed through when set.
 */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';

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

/** What a worker needs to connect to a running local AWS (JSON-serialisable). */
export interface LocalAwsConnection {
  /** The mode the local AWS runs in. */
  readonly mode: LocalAwsMode;
  /** The edge endpoint, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The region. */
  readonly region: string;
  /** The credentials. */
  readonly credentials: AwsCredentials;
}

/** A config that any SDK v3 client constructor takes. */
export interface LocalAwsClientConfig {
  /** The edge endpoint. */
  readonly endpoint: string;
  /** The region. */
  readonly region: string;
  /** The credentials (a fresh copy per config: the SDK writes into it). */
  readonly credentials: AwsCredentials;
}

/** An emulator process of the embedded mode. */
export interface LocalAwsProcess {
  /** `dynamodb-local` or `kinesis-mock`. */
  readonly name: string;
  /** The emulator's pid. */
  readonly pid: number;
  /** The pid of the supervisor that kills it if this process dies. */
  readonly supervisorPid: number;
  /** Milliseconds from spawning the emulator to its first HTTP answer. */
  readonly readyInMs: number;
}

/** A container of the `containers` mode. */
export interface LocalAwsContainer {
  /** `dynamodb-local` or `kinesis-mock`. */
  readonly name: string;
  /** The container id. */
  readonly id: string;
  /** The image it runs. */
  readonly image: string;
  /** Milliseconds from asking testcontainers to start it to its first HTTP answer. */
  readonly readyInMs: number;
}

/** Options of {@link LocalAws.createEventLogTable}. */
export interface CreateEventLogTableOptions {
  /** The start of the unique table name. Default: `'event-log'`. */
  readonly prefix?: string;
}

/** Options of {@link LocalAws.createKinesisStream}. */
export interface CreateKinesisStreamOptions {
  /** The start of the unique stream name. Default: `'stream'`. */
  readonly prefix?: string;
  /** The number of shards. Default: `1`. */
  readonly shardCount?: number;
}

/** A CreateTable input whose `TableName` may be left out (a unique one is made). */
export type CreateTableInput = Omit<CreateTableCommandInput, 'TableName'> & { readonly TableName?: string };

/** A created table. */
export interface CreatedTable {
  /** The table name. */
  readonly tableName: string;
  /** The stream ARN when the table has a stream. */
  readonly streamArn?: string;
}

/** A created event-log table (always with a `NEW_IMAGE` stream). */
export interface CreatedEventLogTable {
  /** The table name. */
  readonly tableName: string;
  /** The ARN of its `NEW_IMAGE` stream. */
  readonly streamArn: string;
}

/** A created Kinesis stream. */
export interface CreatedKinesisStream {
  /** The stream name. */
  readonly streamName: string;
  /** The stream ARN. */
  readonly streamArn: string;
}

/** A running (or connected) local AWS. */
export interface LocalAws extends AsyncDisposable {
  /** The mode in use. */
  readonly mode: LocalAwsMode;
  /** The edge endpoint: stock SDK clients need only this (and region, credentials). */
  readonly endpoint: string;
  /** The region of the clients and resources. */
  readonly region: string;
  /** The credentials the clients sign with. */
  readonly credentials: AwsCredentials;
  /** `{ endpoint, region, credentials }`: pass it to any SDK v3 client constructor. */
  readonly clientConfig: LocalAwsClientConfig;
  /** What a worker needs to connect ({@link connectLocalAws}). */
  readonly connection: LocalAwsConnection;
  /** A ready DynamoDB client (HTTP/1.1 to the edge). */
  readonly dynamodb: DynamoDBClient;
  /** A ready DynamoDB Streams client. */
  readonly dynamodbStreams: DynamoDBStreamsClient;
  /** A ready Kinesis client (HTTP/2 cleartext to the edge). */
  readonly kinesis: KinesisClient;
  /** The emulator processes this handle started (embedded mode only; empty otherwise). */
  readonly processes: readonly LocalAwsProcess[];
  /** The containers this handle started (`containers` mode only; empty otherwise). */
  readonly containers: readonly LocalAwsContainer[];
  /** Fault injection at the edge. */
  readonly faults: FaultControl;
  /** Creates an event-log table under a unique name; resolves when it is ACTIVE. */
  createEventLogTable(options?: CreateEventLogTableOptions): Promise<CreatedEventLogTable>;
  /** Creates a table (unique name unless given); resolves when it is ACTIVE. */
  createTable(input: CreateTableInput): Promise<CreatedTable>;
  /** Creates a Kinesis stream under a unique name; resolves when it is ACTIVE. */
  createKinesisStream(options?: CreateKinesisStreamOptions): Promise<CreatedKinesisStream>;
  /**
   * Stops what this handle started (edge, engines, container) and destroys its clients. On a handle
   * from {@link connectLocalAws} (or `localAws()` in Vitest) it destroys the clients only.
   */
  stop(): Promise<void>;
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
const READY_TIMEOUT_MS = 30_000;

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
      const upstream = await startLocalStack(options, cleanups);
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

function createHandle(
  connection: LocalAwsConnection,
  processes: readonly LocalAwsProcess[],
  containers: readonly LocalAwsContainer[],
  stopOwned: () => Promise<void>,
): LocalAws {
  const { mode, endpoint, region, credentials } = connection;
  // The SDK writes into the credentials object it gets, so every client gets its own copy.
  const configFor = (): LocalAwsClientConfig => ({ endpoint, region, credentials: { ...credentials } });
  const clientConfig = configFor();
  const dynamodb = new DynamoDBClient(configFor());
  const dynamodbStreams = new DynamoDBStreamsClient(configFor());
  const kinesis = new KinesisClient(configFor());
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      dynamodb.destroy();
      dynamodbStreams.destroy();
      kinesis.destroy();
      await stopOwned();
    })();
    return stopping;
  };

  const createTable = async (input: CreateTableInput): Promise<CreatedTable> => {
    const tableName = input.TableName ?? uniqueName('table');
    await dynamodb.send(new CreateTableCommand({ ...input, TableName: tableName }));
    const description = await waitFor('table', tableName, async () => {
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      return { status: Table?.TableStatus, value: Table };
    });
    return description?.LatestStreamArn === undefined
      ? { tableName }
      : { tableName, streamArn: description.LatestStreamArn };
  };

  return {
    mode,
    endpoint,
    region,
    credentials,
    clientConfig,
    connection: { mode, endpoint, region, credentials: { ...credentials } },
    dynamodb,
    dynamodbStreams,
    kinesis,
    processes: Object.freeze([...processes]),
    containers: Object.freeze([...containers]),
    faults: createFaultControl(endpoint),
    createTable,
    async createEventLogTable(options = {}) {
      checkHelperOptions('createEventLogTable', options, ['prefix']);
      const { tableName, streamArn } = await createTable(
        eventLogTableDescription(uniqueName(options.prefix ?? 'event-log')),
      );
      if (streamArn === undefined) {
        throw new ResourceNotReadyError('table', tableName, 'ACTIVE without a stream ARN', READY_TIMEOUT_MS);
      }
      return { tableName, streamArn };
    },
    async createKinesisStream(options = {}) {
      checkHelperOptions('createKinesisStream', options, ['prefix', 'shardCount']);
      const shardCount = options.shardCount ?? 1;
      if (!Number.isInteger(shardCount) || shardCount < 1) {
        throw new LocalAwsOptionsError(`shardCount must be a positive integer, got ${shardCount}`, {
          shardCount,
        });
      }
      const streamName = uniqueName(options.prefix ?? 'stream');
      await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
      const summary = await waitFor('stream', streamName, async () => {
        const { StreamDescriptionSummary } = await kinesis.send(
          new DescribeStreamSummaryCommand({ StreamName: streamName }),
        );
        return { status: StreamDescriptionSummary?.StreamStatus, value: StreamDescriptionSummary };
      });
      return { streamName, streamArn: summary?.StreamARN ?? '' };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function startLocalStack(
  options: StartLocalAwsOptions,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  const image = options.localstackImage ?? LOCALSTACK_IMAGE;
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
      .withStartupTimeout(options.startTimeoutMs ?? 180_000)
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

/** Checks that something answers HTTP at the endpoint; returns it without a trailing slash. */
async function checkEndpoint(endpoint: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`protocol ${url.protocol}`);
  } catch (cause) {
    throw new EndpointUnavailableError(
      `${JSON.stringify(endpoint)} is not an http(s) URL`,
      { endpoint },
      { cause },
    );
  }
  const answered = await new Promise<boolean>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'GET', timeout: 5000, rejectUnauthorized: false },
      (response) => {
        response.resume();
        resolve(true);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
    request.end();
  });
  if (!answered) {
    throw new EndpointUnavailableError(`nothing answers at ${endpoint}; is LocalStack running?`, {
      endpoint,
    });
  }
  return url.origin;
}

async function waitFor<T>(
  kind: 'table' | 'stream',
  name: string,
  describe: () => Promise<{ status: string | undefined; value: T }>,
): Promise<T> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: string | undefined;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const { status, value } = await describe();
    last = status;
    if (status === 'ACTIVE') return value;
    if (Date.now() > deadline) throw new ResourceNotReadyError(kind, name, last, READY_TIMEOUT_MS);
    await sleep(delay);
  }
}

/** A unique, valid DynamoDB table / Kinesis stream name. */
export function uniqueName(prefix: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(prefix)) {
    throw new LocalAwsOptionsError(
      `prefix must be 1–64 characters of a-z, A-Z, 0-9, _ . -; got ${JSON.stringify(prefix)}`,
      {
        prefix,
      },
    );
  }
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function checkHelperOptions(helper: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new LocalAwsOptionsError(
        `Unknown ${helper} option "${key}"; known options: ${known.join(', ')}`,
        {
          helper,
          key,
        },
      );
    }
  }
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
