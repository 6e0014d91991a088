/**
 * Publisher CPU and PutRecords calls: the Lambda handler (middy, event normalizer, mapping, wave
 * planning, batching) over DynamoDB stream events, publishing to the strict Kinesis model, with the
 * bare minimum (unmarshall, build the envelope, encode) measured in the same rounds over the same
 * records. Three shapes of 1,000-record batches: 1,000 aggregates × 1 event, 100 × 10 and 1 × 1,000.
 * Items carry their command's version range as the event log writes them; the last case cuts every
 * command in two, so the publisher completes each from the log (the strict DynamoDB model).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type EventEnvelope, eventLogItemFromEnvelope, eventLogTableDescription } from '@tidemark/core';
import { createPublisher } from '@tidemark/publisher';
import { dynamoDbStreamEventFromItems, fakeLambdaContext } from '@tidemark/testing';
import { FakeDynamoDB, FakeKinesis } from '@tidemark/testing/fakes';
import { bareMinimumPublisher } from '../bare-minimum';
import { quietLogger } from '../catalog';
import { kinesisCostFigures, type MeasuredPublisher } from '../cost';
import { envelopeGrid, measureCpu } from '../envelopes';
import { RecordingClient, replayCpu } from '../fake-cost';
import { type Figure, quantile } from '../report';

const BENCH = 'publisher (in-memory Kinesis)';
const STREAM = 'bench';
const SHARDS = 4;
const BATCHES = 10;
const ROUNDS = 5;

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

/** The figures of one shape, with what the checks read. */
interface CaseResult {
  readonly figures: Figure[];
  readonly callsPerBatch: number;
  readonly queriesPerBatch: number;
  /** What one batch put on Kinesis, for the cost per million events. */
  readonly kinesis: Omit<MeasuredPublisher, 'shape'>;
}

/** What the recorded PutRecords calls of `batches` batches of `events` events put, per batch. */
function kinesisUse(
  commands: readonly unknown[],
  batches: number,
  events: number,
): Omit<MeasuredPublisher, 'shape'> {
  let records = 0;
  let roundedKb = 0;
  let putPayloadUnits = 0;
  let calls = 0;
  for (const command of commands as { input: { Records?: { Data: Uint8Array; PartitionKey: string }[] } }[]) {
    if (!command.input.Records) continue;
    calls += 1;
    for (const entry of command.input.Records) {
      const bytes = entry.Data.byteLength + Buffer.byteLength(entry.PartitionKey);
      records += 1;
      roundedKb += Math.ceil(bytes / 1024);
      putPayloadUnits += Math.ceil(bytes / (25 * 1024));
    }
  }
  return {
    events,
    records: records / batches,
    roundedKb: roundedKb / batches,
    putPayloadUnits: putPayloadUnits / batches,
    calls: calls / batches,
  };
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
): Promise<CaseResult> {
  const kinesis = new RecordingClient(new FakeKinesis());
  kinesis.fake.createStream(STREAM, SHARDS);
  const dynamodb = new RecordingClient(new FakeDynamoDB());
  await dynamodb.fake.send(new CreateTableCommand(eventLogTableDescription('bench-events')));
  const publisher = createPublisher({
    kinesis: kinesis.client,
    dynamodb: dynamodb.client,
    tableName: 'bench-events',
    streamName: STREAM,
    logger: quietLogger(),
  });
  const events = Array.from({ length: BATCHES + 1 }, (_, b) => {
    const items = itemsOf(envelopeGrid(`pub-${label}-${b}`, aggregates, versions), split);
    dynamodb.fake.seed(
      'bench-events',
      items.map((item) => marshall(item, { removeUndefinedValues: true })),
    );
    return dynamoDbStreamEventFromItems(split ? items.filter((item) => item.sk <= versions / 2) : items);
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  // Warm-up batch (JIT, lazy imports), not measured; the bare minimum warms up too.
  await publisher(structuredClone(events[0]!), context);
  bareMinimumPublisher(events[0]!);
  kinesis.take();
  dynamodb.take();
  const tidemark: number[] = [];
  const fakes: number[] = [];
  const bare: number[] = [];
  const ratios: number[] = [];
  let callsPerBatch = 0;
  let queriesPerBatch = 0;
  let kinesisPerBatch: Omit<MeasuredPublisher, 'shape'> | undefined;
  const measured = events.slice(1);
  const records = measured.reduce((sum, event) => sum + event.Records.length, 0);
  for (let round = 0; round < ROUNDS; round += 1) {
    kinesis.fake.resetStats();
    dynamodb.fake.resetStats();
    // The handler's event normalizer unmarshalls images in place: every run gets fresh events.
    const batches = measured.map((event) => structuredClone(event));
    const bareBatches = measured.map((event) => structuredClone(event));
    let encoded = 0;
    const bareRun = () =>
      measureCpu(async () => {
        for (const event of bareBatches) encoded += bareMinimumPublisher(event);
      });
    // Alternate which runs first, so a burst of load on the machine does not favour one side.
    const bareFirst = round % 2 === 0 ? await bareRun() : undefined;
    const { cpuMicros } = await measureCpu(async () => {
      for (const event of batches) {
        const response = await publisher(event, context);
        if (response.batchItemFailures.length > 0)
          throw new Error('publisher bench: a record was not published');
      }
    });
    const bareMicros = (bareFirst ?? (await bareRun())).cpuMicros;
    if (encoded === 0) throw new Error('publisher bench: the bare minimum encoded nothing');
    callsPerBatch = (kinesis.fake.requestCounts.PutRecords ?? 0) / BATCHES;
    queriesPerBatch = (dynamodb.fake.requestCounts.Query ?? 0) / BATCHES;
    const replayKinesis = new FakeKinesis();
    replayKinesis.createStream(STREAM, SHARDS);
    const putCommands = kinesis.take();
    kinesisPerBatch = kinesisUse(putCommands, BATCHES, records / BATCHES);
    const kinesisReplay = await replayCpu(replayKinesis, putCommands);
    // The Queries only read: the same fake answers them again.
    const dynamodbReplay = await replayCpu(dynamodb.fake, dynamodb.take());
    if (kinesisReplay.refused + dynamodbReplay.refused > 0)
      throw new Error('publisher bench: the fakes refused a replayed call');
    const fakeMicros = kinesisReplay.cpuMicros + dynamodbReplay.cpuMicros;
    const own = (cpuMicros - fakeMicros) / records;
    tidemark.push(own);
    fakes.push(fakeMicros / records);
    bare.push(bareMicros / records);
    ratios.push(own / (bareMicros / records));
  }
  const shape = split
    ? `${aggregates} commands of ${versions} events, each cut in half by the batch`
    : `${aggregates} aggregate${aggregates > 1 ? 's' : ''} × ${versions} version${versions > 1 ? 's' : ''} per batch`;
  const spread = (values: readonly number[]) =>
    `min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)}`;
  const perBatch = records / BATCHES;
  const figures: Figure[] = [
    {
      bench: BENCH,
      case: `CPU, ${shape}`,
      value: quantile(tidemark, 0.5),
      unit: 'µs/record',
      note: `median of ${ROUNDS} rounds of ${records} stream records in batches of ${perBatch} (${spread(tidemark)}); the fakes' own CPU (${quantile(fakes, 0.5).toFixed(1)} µs/record, measured by replaying their calls) is not counted${split ? '; each batch publishes twice its records (half read from the log)' : ''}`,
    },
  ];
  if (!split) {
    figures.push(
      {
        bench: BENCH,
        case: `bare minimum, ${shape}`,
        value: quantile(bare, 0.5),
        unit: 'µs/record',
        note: `unmarshall the image, build the envelope, JSON encode: a straight loop over the same records (${spread(bare)})`,
      },
      {
        bench: BENCH,
        case: `Tidemark / bare minimum, ${shape}`,
        value: quantile(ratios, 0.5),
        unit: '×',
        note: `median of the ${ROUNDS} rounds' ratios (${spread(ratios)}); goal ≤ 2`,
      },
    );
  }
  figures.push(
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
      case: `PutRecords calls per batch, ${shape}`,
      value: callsPerBatch,
      unit: 'calls',
      note: `${perBatch} records per batch, ${versions} version${versions > 1 ? 's' : ''} of each aggregate`,
    },
  );
  return { figures, callsPerBatch, queriesPerBatch, kinesis: kinesisPerBatch! };
}

/**
 * PutRecords calls per 1,000-record batch allowed per shape (the goals, met by packing runs):
 * a shape that needs more fails the run (the bound only ever tightens).
 */
const MAX_CALLS_PER_BATCH = { '1000x1': 2, '100x10': 2, '10x100': 2, '1x1000': 5 } as const;

/** Runs the publisher benchmark. */
export async function publisherBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const costs: MeasuredPublisher[] = [];
  const shapes = [
    ['1000x1', 1000, 1, 'many aggregates: 1,000 × 1'],
    ['100x10', 100, 10, '100 aggregates × 10 versions'],
    ['10x100', 10, 100, 'hot aggregates: 10 × 100'],
    ['1x1000', 1, 1000, 'one aggregate: 1 × 1,000'],
  ] as const;
  for (const [name, aggregates, versions, shapeName] of shapes) {
    const result = await runCase(name, aggregates, versions);
    costs.push({ shape: { name: shapeName, aggregates, versions }, ...result.kinesis });
    if (result.queriesPerBatch !== 0)
      throw new Error(`publisher bench: whole commands (${name}) made DynamoDB requests`);
    if (result.callsPerBatch > MAX_CALLS_PER_BATCH[name]) {
      throw new Error(
        `publisher bench: ${aggregates} aggregates × ${versions} versions took ${result.callsPerBatch} PutRecords calls per batch, more than ${MAX_CALLS_PER_BATCH[name]}`,
      );
    }
    figures.push(...result.figures);
  }
  const split = await runCase('split', 100, 20, true);
  if (split.queriesPerBatch !== 100) {
    throw new Error(`publisher bench: 100 split commands took ${split.queriesPerBatch} Queries, not 100`);
  }
  return [...figures, ...split.figures, ...kinesisCostFigures(costs)];
}
