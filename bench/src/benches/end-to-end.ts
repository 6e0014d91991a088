/**
 * End to end on the embedded stack: append (createEventLog) → DynamoDB stream → publisher (Lambda
 * event-source emulation) → Kinesis → consumer (event-source emulation): latency from the start of
 * the append to the handler, p50 and p99, with the emulation polling idle shards every 100 ms
 * (the default) and every 10 ms, to show what polling contributes.
 */
import { consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { newCommandId } from '@tidemark/core';
import { createEventLog } from '@tidemark/event-log';
import { createPublisher } from '@tidemark/publisher';
import { createDynamoDbStreamEventSource, createKinesisEventSource, type LocalAws } from '@tidemark/testing';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { benchEvents, quietLogger, taskEvent } from '../catalog';
import { type Figure, quantile } from '../report';

const BENCH = 'end to end (embedded DynamoDB Local + kinesis-mock)';
const EVENTS = 300;
const AGGREGATES = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runCase(aws: LocalAws, pollIntervalMs: number): Promise<Figure[]> {
  const { tableName, streamArn } = await aws.createEventLogTable({ prefix: 'bench-e2e' });
  const { streamName } = await aws.createKinesisStream({ prefix: 'bench-e2e', shardCount: 2 });
  const consumerTable = `bench-e2e-consumer-${Date.now().toString(36)}`;
  await aws.createTable(consumerTableDescription(consumerTable));
  const log = createEventLog({ tableName, dynamodb: aws.dynamodb, catalog: benchEvents, source: '/bench' });

  const appendStarted = new Map<string, number>();
  const appendMs: number[] = [];
  const publisherInvoked = new Map<string, number>();
  const latencies: number[] = [];
  const toPublisher: number[] = [];
  const publisherToHandler: number[] = [];
  const handled = (event: { aggregate: { id: string }; version: number }) => {
    const now = performance.now();
    const key = `${event.aggregate.id}:${event.version}`;
    const started = appendStarted.get(key);
    const published = publisherInvoked.get(key);
    if (started !== undefined) latencies.push(now - started);
    if (started !== undefined && published !== undefined) {
      toPublisher.push(published - started);
      publisherToHandler.push(now - published);
    }
  };
  const publisher = createPublisher({
    kinesis: aws.kinesis,
    dynamodb: aws.dynamodb,
    streamName,
    logger: quietLogger(),
  });
  // Notes when the publisher is first invoked with each event, to split the latency in two hops.
  const timedPublisher = (event: DynamoDBStreamEvent, context: Context) => {
    const now = performance.now();
    for (const record of event.Records) {
      const pk = record.dynamodb?.NewImage?.pk?.S;
      const sk = record.dynamodb?.NewImage?.sk?.N;
      const key = `${pk?.slice('Task#'.length)}:${sk}`;
      if (!publisherInvoked.has(key)) publisherInvoked.set(key, now);
    }
    return publisher(event, context);
  };
  const consumer = createConsumer({
    name: 'bench-e2e',
    events: benchEvents,
    handlers: { TaskCreated: handled, TaskRenamed: handled },
    checkpoints: { tableName: consumerTable, dynamodb: aws.dynamodb },
    logger: quietLogger(),
  });
  const publisherSource = createDynamoDbStreamEventSource({
    dynamodbStreams: aws.dynamodbStreams,
    streamArn,
    handler: timedPublisher,
    reportBatchItemFailures: true,
    functionTimeoutSeconds: 30,
    pollIntervalMs,
  });
  const consumerSource = createKinesisEventSource({
    kinesis: aws.kinesis,
    streamName,
    handler: consumer,
    reportBatchItemFailures: true,
    functionTimeoutSeconds: 30,
    pollIntervalMs,
  });
  try {
    await publisherSource.start();
    await consumerSource.start();
    const versions = new Map<number, number>();
    for (let i = 0; i < EVENTS; i += 1) {
      const a = i % AGGREGATES;
      const version = (versions.get(a) ?? 0) + 1;
      versions.set(a, version);
      const id = `e2e-${pollIntervalMs}-${a}`;
      const started = performance.now();
      appendStarted.set(`${id}:${version}`, started);
      await log.append({
        aggregate: { type: 'Task', id },
        commandId: newCommandId(),
        expectedVersion: version - 1,
        events: [taskEvent(version, id)],
      });
      appendMs.push(performance.now() - started);
      await sleep(15); // a steady trickle, not one burst
    }
    await publisherSource.drain({ timeoutMs: 60_000 });
    await consumerSource.drain({ timeoutMs: 60_000 });
  } finally {
    await publisherSource.stop();
    await consumerSource.stop();
  }
  if (latencies.length !== EVENTS)
    throw new Error(`end-to-end bench: ${latencies.length} of ${EVENTS} events handled`);
  const polling =
    `idle shards polled every ${pollIntervalMs} ms on 2 hops: about ${pollIntervalMs} ms on average ` +
    `(up to ${2 * pollIntervalMs} ms) of the latency is the emulation waiting to poll`;
  return [
    {
      bench: BENCH,
      case: `latency append → handler, p50 (poll ${pollIntervalMs} ms)`,
      value: Math.round(quantile(latencies, 0.5)),
      unit: 'ms',
      note: `${EVENTS} events over ${AGGREGATES} aggregates; ${polling}`,
    },
    {
      bench: BENCH,
      case: `latency append → handler, p99 (poll ${pollIntervalMs} ms)`,
      value: Math.round(quantile(latencies, 0.99)),
      unit: 'ms',
    },
    {
      bench: BENCH,
      case: `  of which append → publisher invoked, p50 (poll ${pollIntervalMs} ms)`,
      value: Math.round(quantile(toPublisher, 0.5)),
      unit: 'ms',
      note: 'the append itself, DynamoDB Local streams, one poll',
    },
    {
      bench: BENCH,
      case: `  of which publisher invoked → handler, p50 (poll ${pollIntervalMs} ms)`,
      value: Math.round(quantile(publisherToHandler, 0.5)),
      unit: 'ms',
      note: 'PutRecords, kinesis-mock, one poll, the consumer batch',
    },
    {
      bench: BENCH,
      case: `append (TransactWriteItems) p50 (poll ${pollIntervalMs} ms)`,
      value: Math.round(quantile(appendMs, 0.5) * 10) / 10,
      unit: 'ms',
      note: 'part of the latency above',
    },
  ];
}

/** Runs the end-to-end latency benchmark. */
export async function endToEndBench(aws: LocalAws): Promise<Figure[]> {
  return [...(await runCase(aws, 100)), ...(await runCase(aws, 10))];
}
