/**
 * Consumer CPU against the strict in-memory DynamoDB: the handler (decode, validate, group,
 * checkpoint logic, payload parsing, summary) over 1,000-record Kinesis batches, first delivery and
 * redelivery, with the bare minimum (base64, JSON, envelope and payload schemas) measured in the
 * same rounds over the same records. The fake's own CPU is measured by replaying its calls and is
 * not counted.
 */
import { consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes } from '@tidemark/testing';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import type { KinesisStreamEvent } from 'aws-lambda';
import { bareMinimumConsumer } from '../bare-minimum';
import { benchEvents, quietLogger } from '../catalog';
import { envelopeGrid, measureCpu } from '../envelopes';
import { RecordingClient, replayCpu } from '../fake-cost';
import { type Figure, quantile } from '../report';

const BENCH = 'consumer (in-memory DynamoDB)';
const TABLE = 'bench-consumer';
const BATCHES = 10;
const ROUNDS = 5;

interface Phase {
  readonly tidemark: number[];
  readonly fake: number[];
  readonly ratio: number[];
  calls: number;
}

const newPhase = (): Phase => ({ tidemark: [], fake: [], ratio: [], calls: 0 });

/** Runs the consumer CPU benchmark: first delivery and redelivery of 10 × 1,000 records. */
export async function consumerCpuBench(): Promise<Figure[]> {
  const dynamodb = new RecordingClient(new FakeDynamoDB());
  dynamodb.fake.createTable(consumerTableDescription(TABLE));
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
    checkpoints: { tableName: TABLE, dynamodb: dynamodb.client },
    logger: quietLogger(),
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  const warmUp = kinesisEventFromEnvelopes(envelopeGrid('cpu-warm-up', 100, 10));
  await consumer(warmUp, context);
  bareMinimumConsumer(warmUp);
  dynamodb.take();
  const records = BATCHES * 1_000;
  const first = newPhase();
  const again = newPhase();
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const events = Array.from({ length: BATCHES }, (_, b) =>
      kinesisEventFromEnvelopes(envelopeGrid(`cpu-${round}-${b}`, 100, 10)),
    );
    let valid = 0;
    const bareRun = () =>
      measureCpu(async () => {
        for (const event of events) valid += bareMinimumConsumer(event);
      });
    // Alternate which runs first, so a burst of load on the machine does not favour one side.
    const bareFirst = round % 2 === 0 ? await bareRun() : undefined;
    effects = 0;
    await deliver(consumer, context, dynamodb, events, first, records);
    if (effects !== records) throw new Error(`consumer bench: ${effects} effects, not ${records}`);
    await deliver(consumer, context, dynamodb, events, again, records);
    if (effects !== records) throw new Error('consumer bench: a redelivered record was applied again');
    const bareMicros = (bareFirst ?? (await bareRun())).cpuMicros / records;
    if (valid !== records) throw new Error(`consumer bench: the bare minimum read ${valid} of ${records}`);
    bare.push(bareMicros);
    first.ratio.push(first.tidemark.at(-1)! / bareMicros);
    again.ratio.push(again.tidemark.at(-1)! / bareMicros);
  }
  const spread = (values: readonly number[]) =>
    `min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)}`;
  const figures: Figure[] = [
    {
      bench: BENCH,
      case: 'bare minimum (base64, JSON, envelope and payload schemas)',
      value: quantile(bare, 0.5),
      unit: 'µs/record',
      note: `a straight loop over the same records (${spread(bare)})`,
    },
  ];
  for (const [name, phase] of [
    ['first delivery (100 aggregates × 10 versions per batch)', first],
    ['redelivery (all duplicates)', again],
  ] as const) {
    figures.push(
      {
        bench: BENCH,
        case: `CPU, ${name}`,
        value: quantile(phase.tidemark, 0.5),
        unit: 'µs/record',
        note: `median of ${ROUNDS} rounds of ${records} records (${spread(phase.tidemark)}); ${phase.calls / BATCHES} DynamoDB calls per batch; the fake's own CPU (${quantile(phase.fake, 0.5).toFixed(1)} µs/record, measured by replaying its calls) is not counted`,
      },
      {
        bench: BENCH,
        case: `Tidemark / bare minimum, ${name.replace(/ \(.*/, '')}`,
        value: quantile(phase.ratio, 0.5),
        unit: '×',
        note: `median of the ${ROUNDS} rounds' ratios (${spread(phase.ratio)}); goal ≤ 2`,
      },
    );
  }
  return figures;
}

/** One delivery of `events`; its CPU per record without the fake's goes into `phase`. */
async function deliver(
  consumer: ReturnType<typeof createConsumer>,
  context: ReturnType<typeof fakeLambdaContext>,
  dynamodb: RecordingClient<FakeDynamoDB>,
  events: readonly KinesisStreamEvent[],
  phase: Phase,
  records: number,
): Promise<void> {
  const before = dynamodb.fake.snapshot();
  const { cpuMicros } = await measureCpu(async () => {
    for (const event of events) {
      const response = await consumer(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('consumer bench: a record failed');
    }
  });
  const commands = dynamodb.take();
  phase.calls = commands.length;
  const replay = new FakeDynamoDB();
  replay.restore(before);
  const { cpuMicros: fakeMicros, refused } = await replayCpu(replay, commands);
  if (refused > 0) throw new Error(`consumer bench: the fake refused ${refused} replayed calls`);
  phase.tidemark.push((cpuMicros - fakeMicros) / records);
  phase.fake.push(fakeMicros / records);
}
