/**
 * What the publisher's integration tests share on the real engines (DynamoDB Local + kinesis-mock):
 * an event log on the test's table, the publisher wired to the local clients, and the records the
 * event-log table's DynamoDB stream holds, captured through the Lambda event-source emulation.
 */
import { createEventLog, type EventLog } from '@tidemark/event-log';
import {
  createDynamoDbStreamEventSource,
  type DynamoDbStreamEventSource,
  type DynamoDbStreamEventSourceOptions,
  type LocalAws,
  memoryLogger,
} from '@tidemark/testing';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createPublisher, type PublisherOptions } from '../../src/index';
import { catalog } from './fakes';

/** The event log of the tests (sample catalog, source `/it`) on `tableName`. */
export function testEventLog(aws: LocalAws, tableName: string): EventLog<typeof catalog> {
  return createEventLog({ tableName, dynamodb: aws.dynamodb, catalog, source: '/it' });
}

/**
 * A publisher on the local clients, logging to a memory logger unless `options` says otherwise;
 * `options` names the stream (`streamName`, `streamArn` or `route`) and anything else to change.
 */
export function testPublisher(aws: LocalAws, options: Partial<PublisherOptions>) {
  return createPublisher({
    kinesis: aws.kinesis,
    dynamodb: aws.dynamodb,
    logger: memoryLogger().logger,
    ...options,
  } as PublisherOptions);
}

/**
 * Runs `handler` on the DynamoDB stream `streamArn` through the Lambda event-source emulation
 * (`ReportBatchItemFailures`, a 20 s function timeout) until it has handled every record the stream
 * holds, then stops it. Returns the stopped source, whose `onFailure` holds what it gave up on.
 */
export async function drainStream(
  aws: LocalAws,
  streamArn: string,
  handler: DynamoDbStreamEventSourceOptions['handler'],
  { batchSize, timeoutMs = 30_000 }: { readonly batchSize?: number; readonly timeoutMs?: number } = {},
): Promise<DynamoDbStreamEventSource> {
  const source = createDynamoDbStreamEventSource({
    dynamodbStreams: aws.dynamodbStreams,
    streamArn,
    handler,
    ...(batchSize === undefined ? {} : { batchSize }),
    reportBatchItemFailures: true,
    functionTimeoutSeconds: 20,
  });
  try {
    await source.start();
    await source.drain({ timeoutMs });
  } finally {
    await source.stop();
  }
  return source;
}

/** Every record the DynamoDB stream `streamArn` holds now, in shard order, as Lambda delivers them. */
export async function captureStream(
  aws: LocalAws,
  streamArn: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<DynamoDBRecord[]> {
  const captured: DynamoDBRecord[] = [];
  await drainStream(
    aws,
    streamArn,
    async (event: DynamoDBStreamEvent) => {
      captured.push(...event.Records);
      return { batchItemFailures: [] };
    },
    options,
  );
  return captured;
}
