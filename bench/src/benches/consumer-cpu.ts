/**
 * Consumer CPU with stubbed I/O: the handler (decode, validate, group, checkpoint logic, payload
 * parsing, summary) over 1,000-record Kinesis batches with an in-memory DynamoDB.
 */
import { createConsumer } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes } from '@tidemark/testing';
import { benchEvents, quietLogger } from '../catalog';
import { envelopeGrid, measureCpu } from '../envelopes';
import { fakeDynamoDb } from '../fake-clients';
import { type Figure, quantile } from '../report';

const BENCH = 'consumer (stubbed DynamoDB)';
const BATCHES = 10;
const ROUNDS = 3;

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
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  await consumer(kinesisEventFromEnvelopes(envelopeGrid('cpu-warm-up', 100, 10)), context);
  const records = BATCHES * 1_000;
  const first: number[] = [];
  const again: number[] = [];
  let firstCalls = 0;
  let againCalls = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const events = Array.from({ length: BATCHES }, (_, b) =>
      kinesisEventFromEnvelopes(envelopeGrid(`cpu-${round}-${b}`, 100, 10)),
    );
    const run = async () => {
      for (const event of events) {
        const response = await consumer(event, context);
        if (response.batchItemFailures.length > 0) throw new Error('consumer bench: a record failed');
      }
    };
    effects = 0;
    dynamodb.calls.clear();
    first.push((await measureCpu(run)).cpuMicros / records);
    firstCalls = [...dynamodb.calls.values()].reduce((a, b) => a + b, 0);
    if (effects !== records) throw new Error(`consumer bench: ${effects} effects, not ${records}`);
    dynamodb.calls.clear();
    again.push((await measureCpu(run)).cpuMicros / records);
    againCalls = [...dynamodb.calls.values()].reduce((a, b) => a + b, 0);
    if (effects !== records) throw new Error('consumer bench: a redelivered record was applied again');
  }
  const spread = (values: number[]) =>
    `median of ${ROUNDS} rounds of ${records} records (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
  return [
    {
      bench: BENCH,
      case: 'CPU, first delivery (100 aggregates × 10 versions per batch)',
      value: quantile(first, 0.5),
      unit: 'µs/record',
      note: `${spread(first)}; ${firstCalls / BATCHES} DynamoDB calls per batch`,
    },
    {
      bench: BENCH,
      case: 'CPU, redelivery (all duplicates)',
      value: quantile(again, 0.5),
      unit: 'µs/record',
      note: `${spread(again)}; ${againCalls / BATCHES} DynamoDB calls per batch`,
    },
  ];
}
