/**
 * `npm run profile --workspace @tidemark/bench -- <workload> <file.cpuprofile> [rounds]`: runs one
 * handler over the CPU benchmarks' records and writes a V8 CPU profile of that work alone (the
 * records are made and the handler warmed up before the profiler starts; no bare minimum, no
 * replay), read with `profile-top`. The strict fakes' own frames (under `@tidemark/testing`) are in
 * it and are not Tidemark's. Workloads: `publisher` (the 1,000 aggregates × 1 and 100 × 10 shapes),
 * `publisher-hot` (1 aggregate × 1,000), `consumer` (first delivery, 100 aggregates × 10) and
 * `consumer-redelivery` (the same batches again: all duplicates).
 *
 * ```sh
 * npm run profile --workspace @tidemark/bench -- consumer /tmp/consumer.cpuprofile 20
 * npm run profile-top --workspace @tidemark/bench -- /tmp/consumer.cpuprofile 30
 * ```
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { eventLogItemFromEnvelope, eventLogTableDescription } from '@tidemark/core';
import { createPublisher } from '@tidemark/publisher';
import {
  dynamoDbStreamEventFromItems,
  fakeLambdaContext,
  kinesisEventFromEnvelopes,
} from '@tidemark/testing';
import { FakeDynamoDB, FakeKinesis } from '@tidemark/testing/fakes';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { benchEvents, quietLogger } from './catalog';
import { envelopeGrid } from './envelopes';

const WORKLOADS = ['publisher', 'publisher-hot', 'consumer', 'consumer-redelivery'] as const;
type Workload = (typeof WORKLOADS)[number];

const BATCHES = 10;

/**
 * A prepared workload: `prepare` makes the inputs of `runs` runs (outside the profile), `run`
 * handles every batch once and returns the records handled.
 */
interface Prepared {
  readonly prepare: (runs: number) => void;
  readonly run: () => Promise<number>;
}

async function publisherWorkload(shapes: readonly (readonly [number, number])[]): Promise<Prepared> {
  const kinesis = new FakeKinesis();
  kinesis.createStream('profile', 4);
  const dynamodb = new FakeDynamoDB();
  await dynamodb.send(new CreateTableCommand(eventLogTableDescription('profile-events')));
  const publisher = createPublisher({
    kinesis: kinesis as never,
    dynamodb: dynamodb as never,
    tableName: 'profile-events',
    streamName: 'profile',
    logger: quietLogger(),
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  const events: DynamoDBStreamEvent[] = [];
  for (const [aggregates, versions] of shapes) {
    for (let b = 0; b < BATCHES; b += 1) {
      const items = envelopeGrid(`profile-${aggregates}-${b}`, aggregates, versions).map((envelope) => ({
        ...eventLogItemFromEnvelope(envelope),
        commandFirstVersion: envelope.aggregateversion,
        commandLastVersion: envelope.aggregateversion,
      }));
      events.push(dynamoDbStreamEventFromItems(items));
    }
  }
  // The middy event normalizer unmarshalls images in place: every run gets fresh events.
  const fresh: DynamoDBStreamEvent[][] = [];
  return {
    prepare: (runs) => {
      for (let run = 0; run < runs; run += 1) fresh.push(events.map((event) => structuredClone(event)));
    },
    run: async () => {
      let records = 0;
      for (const event of fresh.shift()!) {
        const response = await publisher(event, context);
        if (response.batchItemFailures.length > 0) throw new Error('profile: a record was not published');
        records += event.Records.length;
      }
      kinesis.resetStats();
      return records;
    },
  };
}

async function consumerWorkload(redelivery: boolean): Promise<Prepared> {
  const events = Array.from({ length: BATCHES }, (_, b) =>
    kinesisEventFromEnvelopes(envelopeGrid(`profile-${b}`, 100, 10)),
  );
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  const deliver = async (consumer: ReturnType<typeof createConsumer>) => {
    for (const event of events) {
      const response = await consumer(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('profile: a record failed');
    }
    return events.length * 1_000;
  };
  const consumerOnFreshTable = () => {
    // A fresh table each run: the same records are a first delivery again.
    const dynamodb = new FakeDynamoDB();
    dynamodb.createTable(consumerTableDescription('profile-consumer'));
    return createConsumer({
      name: 'profile',
      events: benchEvents,
      handlers: { TaskCreated: () => {}, TaskRenamed: () => {} },
      checkpoints: { tableName: 'profile-consumer', dynamodb: dynamodb as never },
      logger: quietLogger(),
    });
  };
  const consumers: ReturnType<typeof createConsumer>[] = [];
  if (redelivery) {
    const consumer = consumerOnFreshTable();
    await deliver(consumer);
    return { prepare: () => {}, run: () => deliver(consumer) };
  }
  return {
    prepare: (runs) => {
      for (let run = 0; run < runs; run += 1) consumers.push(consumerOnFreshTable());
    },
    run: () => deliver(consumers.shift()!),
  };
}

async function main(): Promise<void> {
  const [name, file, roundsArg] = process.argv.slice(2);
  if (!WORKLOADS.includes(name as Workload) || file === undefined) {
    throw new Error(`usage: profile-workload <${WORKLOADS.join('|')}> <file.cpuprofile> [rounds]`);
  }
  const rounds = Number(roundsArg ?? 10);
  const workload = name as Workload;
  const prepared =
    workload === 'publisher'
      ? await publisherWorkload([
          [1000, 1],
          [100, 10],
        ])
      : workload === 'publisher-hot'
        ? await publisherWorkload([[1, 1000]])
        : await consumerWorkload(workload === 'consumer-redelivery');
  prepared.prepare(rounds + 1);
  await prepared.run(); // warm-up: JIT, lazy imports
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  let records = 0;
  for (let round = 0; round < rounds; round += 1) records += await prepared.run();
  const used = process.cpuUsage(cpu);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  writeFileSync(file, JSON.stringify(profile));
  console.log(
    `${workload}: ${records} records, ${((used.user + used.system) / records).toFixed(1)} µs/record under the profiler (the fakes' CPU included); profile in ${file}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
