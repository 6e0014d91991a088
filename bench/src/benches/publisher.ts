/**
 * Publisher CPU and PutRecords calls: the Lambda handler (middy, event normalizer, mapping, wave
 * planning, batching) over DynamoDB stream events with a Kinesis client that accepts everything.
 * Items carry their command's version range as the event log writes them; the last case cuts every
 * command in two, so the publisher completes each from the log (the strict DynamoDB model).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type EventEnvelope, eventLogItemFromEnvelope, eventLogTableDescription } from '@tidemark/core';
import { createPublisher } from '@tidemark/publisher';
import { dynamoDbStreamEventFromItems, fakeLambdaContext } from '@tidemark/testing';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import { quietLogger } from '../catalog';
import { envelopeGrid, measureCpu } from '../envelopes';
import { fakeKinesis } from '../fake-clients';
import { type Figure, quantile } from '../report';

const BENCH = 'publisher (stubbed Kinesis)';
const BATCH = 1_000;
const BATCHES = 10;
const ROUNDS = 3;

/** Event-log items of envelopes: each envelope one command, or each aggregate's all one command. */
function itemsOf(envelopes: readonly EventEnvelope[], oneCommandPerAggregate: boolean) {
  const last = new Map<string, number>();
  for (const envelope of envelopes)
    last.set(envelope.aggregateid, Math.max(last.get(envelope.aggregateid) ?? 0, envelope.aggregateversion));
  return envelopes.map((envelope) => ({
    ...eventLogItemFromEnvelope(envelope),
    commandFirstVersion: oneCommandPerAggregate ? 1 : envelope.aggregateversion,
    commandLastVersion: oneCommandPerAggregate ? last.get(envelope.aggregateid)! : envelope.aggregateversion,
  }));
}

/**
 * `split`: each aggregate's `versions` events are one command, and each batch holds only the first
 * half of every command (the stream cut it); the rest is read from the log.
 */
async function runCase(
  label: string,
  aggregates: number,
  versions: number,
  split = false,
): Promise<Figure[]> {
  const kinesis = fakeKinesis();
  const dynamodb = new FakeDynamoDB();
  await dynamodb.client.send(new CreateTableCommand(eventLogTableDescription('bench-events')));
  const publisher = createPublisher({
    kinesis: kinesis as never,
    dynamodb: dynamodb.client,
    tableName: 'bench-events',
    streamName: 'bench',
    logger: quietLogger(),
  });
  const events = Array.from({ length: BATCHES + 1 }, (_, b) => {
    const items = itemsOf(envelopeGrid(`pub-${label}-${b}`, aggregates, versions), split);
    dynamodb.seed(
      'bench-events',
      items.map((item) => marshall(item, { removeUndefinedValues: true })),
    );
    return dynamoDbStreamEventFromItems(split ? items.filter((item) => item.sk <= versions / 2) : items);
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  // Warm-up batch (JIT, lazy imports), not measured.
  await publisher(events[0]!, context);
  const rounds: number[] = [];
  let callsPerBatch = 0;
  let queriesPerBatch = 0;
  const records = events[1]!.Records.length * BATCHES;
  for (let round = 0; round < ROUNDS; round += 1) {
    kinesis.calls.clear();
    dynamodb.resetStats();
    // The handler's event normalizer unmarshalls images in place: every round gets fresh events.
    const batches = events.slice(1).map((event) => structuredClone(event));
    const { cpuMicros } = await measureCpu(async () => {
      for (const event of batches) {
        const response = await publisher(event, context);
        if (response.batchItemFailures.length > 0)
          throw new Error('publisher bench: a record was not published');
      }
    });
    rounds.push(cpuMicros / records);
    callsPerBatch = (kinesis.calls.get('PutRecords') ?? 0) / BATCHES;
    queriesPerBatch = (dynamodb.requestCounts.Query ?? 0) / BATCHES;
  }
  const cpu = rounds;
  const shape = split
    ? `${aggregates} commands of ${versions} events, each cut in half by the batch`
    : `${aggregates} aggregates × ${versions} version${versions > 1 ? 's' : ''} per batch`;
  return [
    {
      bench: BENCH,
      case: `DynamoDB Queries per batch, ${shape}`,
      value: queriesPerBatch,
      unit: 'requests',
      note: split
        ? `${aggregates} split commands: one strongly consistent Query each`
        : 'whole commands: the fast path reads nothing',
    },
    {
      bench: BENCH,
      case: `CPU, ${shape}`,
      value: quantile(cpu, 0.5),
      unit: 'µs/record',
      note: `median of ${ROUNDS} rounds of ${records} stream records in batches of ${records / BATCHES} (min ${Math.min(...cpu).toFixed(1)}, max ${Math.max(...cpu).toFixed(1)})${split ? '; each batch publishes twice its records (half read from the log), and the in-memory DynamoDB model answering the Queries is counted' : ''}`,
    },
    {
      bench: BENCH,
      case: `PutRecords calls per batch, ${shape}`,
      value: callsPerBatch,
      unit: 'calls',
      note:
        versions === 1
          ? '500 records per call'
          : `each aggregate's ${versions} versions packed in one record (one wave)`,
    },
  ];
}

/** Runs the publisher benchmark. */
export async function publisherBench(): Promise<Figure[]> {
  const distinct = await runCase('distinct', BATCH, 1);
  if (distinct[0]!.value !== 0) throw new Error('publisher bench: whole commands made DynamoDB requests');
  const calls = distinct[2]!.value;
  if (calls !== 2)
    throw new Error(`publisher bench: 1,000 records of distinct aggregates took ${calls} calls, not 2`);
  const repeated = await runCase('repeated', 100, 10);
  // Each aggregate's 10 versions go in one packed record: 100 records, one call.
  if (repeated[2]!.value !== 1) {
    throw new Error(`publisher bench: 100 aggregates × 10 versions took ${repeated[2]!.value} calls, not 1`);
  }
  const split = await runCase('split', 100, 20, true);
  if (split[0]!.value !== 100) {
    throw new Error(`publisher bench: 100 split commands took ${split[0]!.value} Queries, not 100`);
  }
  return [...distinct, ...repeated, ...split];
}
