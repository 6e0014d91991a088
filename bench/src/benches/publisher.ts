/**
 * Publisher CPU and PutRecords calls: the Lambda handler (middy, event normalizer, mapping, wave
 * planning, batching) over DynamoDB stream events with a Kinesis client that accepts everything.
 */
import { createPublisher } from '@tidemark/publisher';
import { dynamoDbStreamEventFromEnvelopes, fakeLambdaContext } from '@tidemark/testing';
import { quietLogger } from '../catalog';
import { envelopeGrid, measureCpu } from '../envelopes';
import { fakeKinesis } from '../fake-clients';
import { type Figure, quantile } from '../report';

const BENCH = 'publisher (stubbed Kinesis)';
const BATCH = 1_000;
const BATCHES = 10;
const ROUNDS = 3;

async function runCase(label: string, aggregates: number, versions: number): Promise<Figure[]> {
  const kinesis = fakeKinesis();
  const publisher = createPublisher({
    kinesis: kinesis as never,
    streamName: 'bench',
    logger: quietLogger(),
  });
  const events = Array.from({ length: BATCHES + 1 }, (_, b) =>
    dynamoDbStreamEventFromEnvelopes(envelopeGrid(`pub-${label}-${b}`, aggregates, versions)),
  );
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  // Warm-up batch (JIT, lazy imports), not measured.
  await publisher(events[0]!, context);
  const rounds: number[] = [];
  let callsPerBatch = 0;
  const records = BATCH * BATCHES;
  for (let round = 0; round < ROUNDS; round += 1) {
    kinesis.calls.clear();
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
  }
  const cpu = rounds;
  const shape = `${aggregates} aggregates × ${versions} version${versions > 1 ? 's' : ''} per batch`;
  return [
    {
      bench: BENCH,
      case: `CPU, ${shape}`,
      value: quantile(cpu, 0.5),
      unit: 'µs/record',
      note: `median of ${ROUNDS} rounds of ${records} records in batches of ${BATCH} (min ${Math.min(...cpu).toFixed(1)}, max ${Math.max(...cpu).toFixed(1)})`,
    },
    {
      bench: BENCH,
      case: `PutRecords calls per batch, ${shape}`,
      value: callsPerBatch,
      unit: 'calls',
      note: versions === 1 ? '500 records per call' : `${versions} waves: one record per aggregate per call`,
    },
  ];
}

/** Runs the publisher benchmark. */
export async function publisherBench(): Promise<Figure[]> {
  const distinct = await runCase('distinct', BATCH, 1);
  const calls = distinct[1]!.value;
  if (calls !== 2)
    throw new Error(`publisher bench: 1,000 records of distinct aggregates took ${calls} calls, not 2`);
  const repeated = await runCase('repeated', 100, 10);
  if (repeated[1]!.value !== 10) {
    throw new Error(`publisher bench: 100 aggregates × 10 versions took ${repeated[1]!.value} calls, not 10`);
  }
  return [...distinct, ...repeated];
}
