/**
 * Vitest helpers: a `test` with an `aws` fixture (the run's local AWS) and fixtures that create a
 * fresh event-log table or Kinesis stream per test, and `localAws()` for hooks.
 */
import { DeleteTableCommand, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand, ResourceNotFoundException as StreamNotFound } from '@aws-sdk/client-kinesis';
import { test as baseTest, inject } from 'vitest';
import { LocalAwsNotProvidedError } from './errors';
import { connectLocalAws } from './local-aws';
import type {
  CreatedEventLogTable,
  CreatedKinesisStream,
  LocalAws,
  LocalAwsConnection,
} from './local-aws-handle';

export type { CreatedEventLogTable, CreatedKinesisStream, LocalAws } from './local-aws-handle';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The connection of the run's local AWS, provided by `@tidemark/testing/vitest-global-setup`. */
    tidemarkLocalAws: LocalAwsConnection;
  }
}

/** The fixtures {@link test} adds. */
export interface LocalAwsFixtures {
  /** The run's local AWS (one per worker, shared by its tests). */
  aws: LocalAws;
  /** A fresh event-log table (with its `NEW_IMAGE` stream), deleted after the test. */
  eventLogTable: CreatedEventLogTable;
  /** A fresh one-shard Kinesis stream, deleted after the test. */
  kinesisStream: CreatedKinesisStream;
}

let shared: LocalAws | undefined;

/**
 * The run's local AWS, connected from this worker: clients, helpers and fault control. The process
 * belongs to the global setup, so `stop()` on this handle does nothing.
 *
 * @example
 * ```ts
 * import { beforeAll } from 'vitest';
 * import { localAws } from '@tidemark/testing/vitest';
 *
 * let streamName: string;
 * beforeAll(async () => {
 *   const aws = await localAws();
 *   ({ streamName } = await aws.createKinesisStream({ shardCount: 2 }));
 * });
 * ```
 */
export async function localAws(): Promise<LocalAws> {
  if (shared === undefined) {
    const connected = connectLocalAws(providedConnection());
    shared = Object.freeze({
      ...connected,
      stop: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    });
  }
  return shared;
}

function providedConnection(): LocalAwsConnection {
  let connection: LocalAwsConnection | undefined;
  try {
    connection = inject('tidemarkLocalAws');
  } catch {
    connection = undefined;
  }
  if (connection === undefined) {
    const fromEnv = process.env.TIDEMARK_LOCAL_AWS;
    if (fromEnv) connection = JSON.parse(fromEnv) as LocalAwsConnection;
  }
  if (connection === undefined) throw new LocalAwsNotProvidedError();
  return connection;
}

/**
 * Vitest's `test` with local AWS fixtures: `aws`, `eventLogTable` and `kinesisStream`.
 *
 * @example
 * ```ts
 * import { PutRecordCommand } from '@aws-sdk/client-kinesis';
 * import { test } from '@tidemark/testing/vitest';
 *
 * test('writes to a fresh stream', async ({ aws, kinesisStream }) => {
 *   await aws.kinesis.send(
 *     new PutRecordCommand({ StreamName: kinesisStream.streamName, PartitionKey: 'a', Data: new Uint8Array([1]) }),
 *   );
 * });
 * ```
 */
export const test = baseTest.extend<LocalAwsFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads fixture dependencies from this destructuring
  aws: async ({}, use) => {
    await use(await localAws());
  },
  eventLogTable: async ({ aws }, use) => {
    const table = await aws.createEventLogTable();
    await use(table);
    await aws.dynamodb
      .send(new DeleteTableCommand({ TableName: table.tableName }))
      .catch((error: unknown) => {
        if (!(error instanceof TableNotFound)) throw error;
      });
  },
  kinesisStream: async ({ aws }, use) => {
    const stream = await aws.createKinesisStream();
    await use(stream);
    await aws.kinesis
      .send(new DeleteStreamCommand({ StreamName: stream.streamName, EnforceConsumerDeletion: true }))
      .catch((error: unknown) => {
        if (!(error instanceof StreamNotFound)) throw error;
      });
  },
});
