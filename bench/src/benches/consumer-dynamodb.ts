/**
 * The Tidemark consumer (at-least-once and transactional) against Powertools batch + idempotency
 * on DynamoDB Local, in the same run, on the same 1,000-record batches in three shapes (100
 * aggregates × 10 versions; 1,000 aggregates × 1; 10 hot aggregates × 100): DynamoDB requests
 * (every HTTP attempt, counted below the SDK's retries), the request units they are billed, and wall
 * time, first delivery and redelivery, with the ratios of each round. Every handler has the same
 * effect, a counter, which must reach 1,000 and stay there. Three rounds with fresh tables, the
 * order of the contenders alternating (DynamoDB Local warms up); medians reported. The request
 * units feed the cost per million events (`src/cost.ts`).
 */
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { consumerTableDescription, createConsumer, type Transaction } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { itemSize } from '@tidemark/testing/fakes';
import type { KinesisStreamEvent } from 'aws-lambda';
import { benchEvents, quietLogger } from '../catalog';
import { costFigures, type MeasuredConsumer, type WorkloadShape } from '../cost';
import { envelopeGrid } from '../envelopes';
import { createPowertoolsConsumer, powertoolsTableInput } from '../powertools-consumer';
import { type Figure, quantile } from '../report';
import { countRequests, type RequestCounter } from '../request-counter';

const BENCH = 'consumer vs Powertools (DynamoDB Local, 1,000 records)';
const ROUNDS = 3;

/** The shapes of the 1,000-record batch: aggregates × versions of each. */
const SHAPES: readonly WorkloadShape[] = [
  { name: '100 aggregates × 10 versions', aggregates: 100, versions: 10 },
  { name: 'many aggregates: 1,000 × 1', aggregates: 1000, versions: 1 },
  { name: 'hot aggregates: 10 × 100', aggregates: 10, versions: 100 },
];

/** Items larger than this would make the request-unit count of updates inexact (see request-counter). */
const MAX_ITEM_BYTES_COUNTED = 1024;

type Handler = (event: KinesisStreamEvent) => Promise<{ batchItemFailures: unknown[] }>;

interface Delivery {
  readonly requests: number;
  readonly byOperation: string;
  readonly wallMs: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

interface Contender {
  readonly name: 'Tidemark' | 'Tidemark transactional' | 'Powertools';
  readonly handler: Handler;
  readonly counter: RequestCounter;
  /** The effects so far (read after the timed delivery). */
  readonly effects: () => Promise<number>;
  /** The tables it writes (their items are sized after the run). */
  readonly tables: readonly string[];
  readonly close: () => void;
}

async function deliver(contender: Contender, event: KinesisStreamEvent): Promise<Delivery> {
  contender.counter.reset();
  const started = performance.now();
  const response = await contender.handler(event);
  const wallMs = performance.now() - started;
  if (response.batchItemFailures.length > 0)
    throw new Error(`${contender.name}: the batch reported failures`);
  const byOperation = [...contender.counter.byOperation]
    .map(([operation, n]) => `${operation} ${n}`)
    .join(', ');
  const units = contender.counter.units();
  return {
    requests: contender.counter.total(),
    byOperation,
    wallMs,
    readUnits: units.read,
    writeUnits: units.write,
  };
}

/** The largest item, in DynamoDB's bytes, of the tables (read with a fresh client). */
async function largestItemBytes(aws: LocalAws, tables: readonly string[]): Promise<number> {
  const reader = new DynamoDBClient(aws.clientConfig);
  let largest = 0;
  try {
    for (const TableName of tables) {
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await reader.send(new ScanCommand({ TableName, ExclusiveStartKey }));
        for (const item of page.Items ?? []) largest = Math.max(largest, itemSize(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
  } finally {
    reader.destroy();
  }
  return largest;
}

async function tidemarkContender(aws: LocalAws, unique: string): Promise<Contender> {
  const tableName = `bench-tidemark-${unique}`;
  await aws.createTable(consumerTableDescription(tableName));
  const client = new DynamoDBClient(aws.clientConfig);
  const counter = countRequests(client);
  let effects = 0;
  const effect = () => {
    effects += 1;
  };
  const consumer = createConsumer({
    name: 'bench-tidemark',
    events: benchEvents,
    handlers: { TaskCreated: effect, TaskRenamed: effect },
    checkpoints: { tableName, dynamodb: client },
    logger: quietLogger(),
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  return {
    name: 'Tidemark',
    handler: (event) => consumer(event, context),
    counter,
    effects: async () => effects,
    tables: [tableName],
    close: () => client.destroy(),
  };
}

/**
 * Tidemark in transactional mode with a DynamoDB effect: each event stages a conditional Put of an
 * item of its own (aggregate, version), committed with the checkpoint in one transaction per
 * aggregate. (Events updating one shared item could not share a transaction: DynamoDB allows one
 * write per item in a transaction.) Exactly-once for the items; `effects()` counts them.
 */
async function transactionalContender(aws: LocalAws, unique: string): Promise<Contender> {
  const tableName = `bench-tidemark-tx-${unique}`;
  await aws.createTable(consumerTableDescription(tableName));
  const effectsTable = `bench-effects-${unique}`;
  await aws.createTable(consumerTableDescription(effectsTable));
  const client = new DynamoDBClient(aws.clientConfig);
  const counter = countRequests(client);
  const effect = (
    event: { aggregate: { type: string; id: string }; version: number },
    { transaction }: { transaction: Transaction },
  ) => {
    transaction.put({
      TableName: effectsTable,
      Item: {
        pk: { S: `${event.aggregate.type}#${event.aggregate.id}` },
        sk: { S: String(event.version) },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  };
  const consumer = createConsumer({
    name: 'bench-tidemark-tx',
    events: benchEvents,
    transactional: true,
    handlers: { TaskCreated: effect, TaskRenamed: effect },
    checkpoints: { tableName, dynamodb: client },
    logger: quietLogger(),
  });
  const context = fakeLambdaContext({ timeoutSeconds: 900 });
  return {
    name: 'Tidemark transactional',
    handler: (event) => consumer(event, context),
    counter,
    effects: async () => {
      const reader = new DynamoDBClient(aws.clientConfig);
      try {
        let items = 0;
        let start: Record<string, AttributeValue> | undefined;
        do {
          const page = await reader.send(
            new ScanCommand({
              TableName: effectsTable,
              ConsistentRead: true,
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          items += page.Count ?? 0;
          start = page.LastEvaluatedKey;
        } while (start);
        return items;
      } finally {
        reader.destroy();
      }
    },
    tables: [tableName, effectsTable],
    close: () => client.destroy(),
  };
}

async function powertoolsContender(aws: LocalAws, unique: string): Promise<Contender> {
  const tableName = `bench-powertools-${unique}`;
  await aws.createTable(powertoolsTableInput(tableName));
  // A default client, as a Powertools user has (50 sockets: Powertools processes a batch's records in
  // parallel, so the SDK queues the rest and may warn about socket capacity).
  const client = new DynamoDBClient(aws.clientConfig);
  const counter = countRequests(client);
  let effects = 0;
  const handler = createPowertoolsConsumer({
    tableName,
    dynamodb: client,
    effect: async () => {
      effects += 1;
    },
  });
  return {
    name: 'Powertools',
    handler: (event) => handler(event, fakeLambdaContext({ timeoutSeconds: 900 })),
    counter,
    effects: async () => effects,
    tables: [tableName],
    close: () => client.destroy(),
  };
}

type Who = Contender['name'];
type Phase = 'first delivery' | 'redelivery';

/** Runs the comparison. */
export async function consumerDynamoDbBench(aws: LocalAws): Promise<Figure[]> {
  const figures: Figure[] = [];
  const measured: MeasuredConsumer[] = [];
  for (const shape of SHAPES) {
    const results = new Map<string, Delivery[]>();
    const record = (who: Who, phase: Phase, delivery: Delivery) =>
      results.set(`${who}|${phase}`, [...(results.get(`${who}|${phase}`) ?? []), delivery]);
    for (let round = 0; round < ROUNDS; round += 1) {
      const unique = `${Date.now().toString(36)}-${round}`;
      const event = kinesisEventFromEnvelopes(
        envelopeGrid(`ddb-${unique}`, shape.aggregates, shape.versions),
      );
      const contenders = [
        await tidemarkContender(aws, unique),
        await transactionalContender(aws, unique),
        await powertoolsContender(aws, unique),
      ];
      if (round % 2 === 1) contenders.reverse();
      for (const contender of contenders) {
        for (const phase of ['first delivery', 'redelivery'] as const) {
          record(contender.name, phase, await deliver(contender, event));
          const effects = await contender.effects();
          if (effects !== event.Records.length) {
            throw new Error(
              `${contender.name} has ${effects} effects after the ${phase} of ${event.Records.length} records`,
            );
          }
        }
        const largest = await largestItemBytes(aws, contender.tables);
        if (largest > MAX_ITEM_BYTES_COUNTED) {
          throw new Error(
            `${contender.name} wrote an item of ${largest} bytes: the request-unit count assumes items of at most 1 KB`,
          );
        }
        contender.close();
      }
    }
    const get = (who: Who, phase: Phase) => results.get(`${who}|${phase}`)!;
    const median = (values: readonly number[]) => quantile(values, 0.5);
    const ratio = (a: readonly Delivery[], b: readonly Delivery[], of: (d: Delivery) => number) =>
      median(a.map((d, i) => of(d) / of(b[i]!)));
    const bench = `${BENCH}, ${shape.name}`;
    for (const [key, deliveries] of results) {
      const [who, phase] = key.split('|');
      const walls = deliveries.map((d) => d.wallMs);
      const requests = new Set(deliveries.map((d) => d.requests));
      figures.push(
        {
          bench,
          case: `${who}, ${phase}: DynamoDB requests`,
          value: deliveries[0]!.requests,
          unit: 'requests',
          note: `${deliveries[0]!.byOperation}${requests.size > 1 ? ` (varied: ${[...requests].join(', ')})` : ''}; ${median(deliveries.map((d) => d.readUnits))} read + ${median(deliveries.map((d) => d.writeUnits))} write request units`,
        },
        {
          bench,
          case: `${who}, ${phase}: wall time (median of ${ROUNDS})`,
          value: Math.round(median(walls)),
          unit: 'ms',
          note: `min ${Math.round(Math.min(...walls))}, max ${Math.round(Math.max(...walls))}; effects stay at 1,000${who === 'Tidemark transactional' ? ' (counters in DynamoDB, read back after each delivery, untimed)' : ''}`,
        },
      );
    }
    for (const phase of ['first delivery', 'redelivery'] as const) {
      const tidemark = get('Tidemark', phase);
      const transactional = get('Tidemark transactional', phase);
      const powertools = get('Powertools', phase);
      for (const [label, a, b] of [
        ['Tidemark / Powertools', tidemark, powertools],
        ['Tidemark transactional / Powertools', transactional, powertools],
        ['transactional / at-least-once', transactional, tidemark],
      ] as const) {
        figures.push({
          bench,
          case: `${label}, ${phase}`,
          value: ratio(a, b, (d) => d.wallMs),
          unit: '× wall',
          note: `median of the ${ROUNDS} rounds' ratios of wall time; requests ${ratio(a, b, (d) => d.requests).toFixed(3)}×, request units ${ratio(a, b, (d) => d.readUnits + d.writeUnits).toFixed(3)}×`,
        });
      }
    }
    for (const who of ['Tidemark', 'Tidemark transactional', 'Powertools'] as const) {
      const first = get(who, 'first delivery');
      const again = get(who, 'redelivery');
      measured.push({
        who,
        shape,
        records: shape.aggregates * shape.versions,
        first: { read: median(first.map((d) => d.readUnits)), write: median(first.map((d) => d.writeUnits)) },
        redelivery: {
          read: median(again.map((d) => d.readUnits)),
          write: median(again.map((d) => d.writeUnits)),
        },
        requests: { first: first[0]!.requests, redelivery: again[0]!.requests },
      });
    }
  }
  return [...figures, ...costFigures(measured)];
}
