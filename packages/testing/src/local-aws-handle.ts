/**
 * The handle of a local AWS (`LocalAws`): ready SDK clients on the edge, helpers that create fresh
 * tables and streams and wait until they are ACTIVE, fault control over HTTP, and `stop()`. The same
 * handle serves `startLocalAws`, `connectLocalAws` and the Vitest helpers.
 */
import { randomBytes } from 'node:crypto';
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
import { parseOptions } from '@tidemark/core/internal';
import { LocalAwsOptionsError, ResourceNotReadyError } from './errors';
import { createFaultControl, type FaultControl } from './faults/fault-control';
import {
  CREATE_EVENT_LOG_TABLE_OPTIONS_SCHEMA,
  CREATE_KINESIS_STREAM_OPTIONS_SCHEMA,
} from './local-aws-options';
import type { LocalAwsMode } from './mode';

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
  /** The start of the unique table name. @default 'event-log' (`LOCAL_AWS_DEFAULTS.eventLogTablePrefix`) */
  readonly prefix?: string;
}

/** Options of {@link LocalAws.createKinesisStream}. */
export interface CreateKinesisStreamOptions {
  /** The start of the unique stream name. @default 'stream' (`LOCAL_AWS_DEFAULTS.streamPrefix`) */
  readonly prefix?: string;
  /** The number of shards. @default 1 (`LOCAL_AWS_DEFAULTS.shardCount`) */
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

const READY_TIMEOUT_MS = 30_000;

/** The handle on a local AWS reachable at `connection`; `stop` releases what the caller started. */
export function createHandle(
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
    async createEventLogTable(input) {
      const { prefix } = parseOptions(CREATE_EVENT_LOG_TABLE_OPTIONS_SCHEMA, input, {
        factory: 'createEventLogTable',
      });
      const { tableName, streamArn } = await createTable(eventLogTableDescription(uniqueName(prefix)));
      if (streamArn === undefined) {
        throw new ResourceNotReadyError('table', tableName, 'ACTIVE without a stream ARN', READY_TIMEOUT_MS);
      }
      return { tableName, streamArn };
    },
    async createKinesisStream(input) {
      const { prefix, shardCount } = parseOptions(CREATE_KINESIS_STREAM_OPTIONS_SCHEMA, input, {
        factory: 'createKinesisStream',
      });
      const streamName = uniqueName(prefix);
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
