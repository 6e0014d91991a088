/**
 * Consumer CPU with stubbed I/O: the handler (decode, validate, group, checkpoint logic, payload
 * parsing, summary) over 1,000-record Kinesis batches with an in-memory DynamoDB.
 */
import { createConsumer } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes } from '@tidemark/testing';
import { benchEvents, quietLogger } from '../catalog';
import { envelopeGrid, measureCpu } from '../envelopes';
import { fakeDynamoDb } from '../fake-clients';
import type { Figure } from '../report';

const BENCH = 'consumer (stubbed DynamoDB)';
const BATCHES = 10;

/** Runs the consumer CPU benchmark: first delivery and redelivery of 10 × 1,000 records. */
export async function consumerCpuBench(): Promise<Figure[]> {
  const dynamodb = fakeDynamoDb();
  let effects = 0;
  const consumer = createConsumer({
    name: 'bench-cpu',
    events: benchEvents,
    handlers: {
      TaskCreated: () => {
        effects += 1;
      },
      TaskRenamed: () => {
        effects += 1;
      },
    },
    checkpoints: { tableName: 'bench-consumer', dynamodb: dynamodb as never },
    logger: quietLogger(),
  });
  const events = Array.from({ length: BATCHES + 1 }, (_, b) =>
    kinesisEventFromEnvelopes(envelopeGrid(`cpu-${b}`, 100, 10)),
  );
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  await consumer(events[0]!, context); // warm-up
  const run = async () => {
    for (const event of events.slice(1)) {
      const response = await consumer(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('consumer bench: a record failed');
    }
  };
  effects = 0;
  dynamodb.calls.clear();
  const first = await measureCpu(run);
  if (effects !== BATCHES * 1_000)
    throw new Error(`consumer bench: ${effects} effects, not ${BATCHES * 1_000}`);
  const firstCalls = [...dynamodb.calls.values()].reduce((a, b) => a + b, 0);
  dynamodb.calls.clear();
  const again = await measureCpu(run);
  if (effects !== BATCHES * 1_000) throw new Error('consumer bench: a redelivered record was applied again');
  const againCalls = [...dynamodb.calls.values()].reduce((a, b) => a + b, 0);
  const records = BATCHES * 1_000;
  return [
    {
      bench: BENCH,
      case: 'CPU, first delivery (100 aggregates × 10 versions per batch)',
      value: first.cpuMicros / records,
      unit: 'µs/record',
      note: `${records} records; ${firstCalls / BATCHES} DynamoDB calls per batch; wall ${Math.round(first.wallMs)} ms`,
    },
    {
      bench: BENCH,
      case: 'CPU, redelivery (all duplicates)',
      value: again.cpuMicros / records,
      unit: 'µs/record',
      note: `${againCalls / BATCHES} DynamoDB calls per batch; wall ${Math.round(again.wallMs)} ms`,
    },
  ];
}
