/**
 * The Tidemark consumer against Powertools batch + idempotency on DynamoDB Local, in the same run,
 * on the same 1,000-record batch (100 aggregates × 10 versions): DynamoDB requests (every HTTP
 * attempt, counted below the SDK's retries) and wall time, first delivery and redelivery. Every
 * contender has one effect per record, whose count must reach 1,000 and stay there. Three rounds
 * with fresh tables, the order of the two alternating (DynamoDB Local warms up); the median is
 * reported.
 */
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { consumerTableDescription, createConsumer, type Transaction } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import type { KinesisStreamEvent } from 'aws-lambda';
import { benchEvents, quietLogger } from '../catalog';
import { envelopeGrid } from '../envelopes';
import { createPowertoolsConsumer, powertoolsTableInput } from '../powertools-consumer';
import { type Figure, quantile } from '../report';
import { countRequests, type RequestCounter } from '../request-counter';

const BENCH = 'consumer vs Powertools (DynamoDB Local, 1,000 records)';
const ROUNDS = 3;

type Handler = (event: KinesisStreamEvent) => Promise<{ batchItemFailures: unknown[] }>;

interface Delivery {
  readonly requests: number;
  readonly byOperation: string;
  readonly wallMs: number;
}

interface Contender {
  readonly name: 'Tidemark' | 'Tidemark transactional' | 'Powertools';
  readonly handler: Handler;
  readonly counter: RequestCounter;
  /** The effects so far (read after the timed delivery). */
  readonly effects: () => Promise<number>;
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
  return { requests: contender.counter.total(), byOperation, wallMs };
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
    close: () => client.destroy(),
  };
}

/** Runs the comparison. */
export async function consumerDynamoDbBench(aws: LocalAws): Promise<Figure[]> {
  const results = new Map<string, Delivery[]>();
  const record = (key: string, delivery: Delivery) =>
    results.set(key, [...(results.get(key) ?? []), delivery]);
  for (let round = 0; round < ROUNDS; round += 1) {
    const unique = `${Date.now().toString(36)}-${round}`;
    const event = kinesisEventFromEnvelopes(envelopeGrid(`ddb-${unique}`, 100, 10));
    const contenders = [
      await tidemarkContender(aws, unique),
      await transactionalContender(aws, unique),
      await powertoolsContender(aws, unique),
    ];
    if (round % 2 === 1) contenders.reverse();
    for (const contender of contenders) {
      for (const phase of ['first delivery', 'redelivery']) {
        record(`${contender.name}|${phase}`, await deliver(contender, event));
        const effects = await contender.effects();
        if (effects !== event.Records.length) {
          throw new Error(
            `${contender.name} has ${effects} effects after the ${phase} of ${event.Records.length} records`,
          );
        }
      }
      contender.close();
    }
  }
  const figures: Figure[] = [];
  for (const [key, deliveries] of results) {
    const [who, phase] = key.split('|');
    const walls = deliveries.map((d) => d.wallMs);
    const requests = new Set(deliveries.map((d) => d.requests));
    figures.push(
      {
        bench: BENCH,
        case: `${who}, ${phase}: DynamoDB requests`,
        value: deliveries[0]!.requests,
        unit: 'requests',
        note: `${deliveries[0]!.byOperation}${requests.size > 1 ? ` (varied: ${[...requests].join(', ')})` : ''}`,
      },
      {
        bench: BENCH,
        case: `${who}, ${phase}: wall time (median of ${ROUNDS})`,
        value: Math.round(quantile(walls, 0.5)),
        unit: 'ms',
        note: `min ${Math.round(Math.min(...walls))}, max ${Math.round(Math.max(...walls))}; effects stay at 1,000${who === 'Tidemark transactional' ? ' (one item per event in DynamoDB, counted after each delivery, untimed)' : ''}`,
      },
    );
  }
  return figures;
}
