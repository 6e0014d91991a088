/**
 * The Tidemark consumer against Powertools batch + idempotency on DynamoDB Local, in the same run,
 * on the same 1,000-record batch (100 aggregates × 10 versions): DynamoDB requests (every HTTP
 * attempt, counted below the SDK's retries) and wall time, first delivery and redelivery. Both
 * handlers have the same effect: a counter, which must reach 1,000 and stay there.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { consumerTableDescription, createConsumer } from '@tidemark/consumer';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { benchEvents, quietLogger } from '../catalog';
import { envelopeGrid } from '../envelopes';
import { createPowertoolsConsumer, powertoolsTableInput } from '../powertools-consumer';
import type { Figure } from '../report';
import { countRequests } from '../request-counter';

const BENCH = 'consumer vs Powertools (DynamoDB Local, 1,000 records)';

type Handler = (event: never, context: never) => Promise<{ batchItemFailures: unknown[] }>;

async function deliver(handler: Handler, event: unknown, counter: ReturnType<typeof countRequests>) {
  counter.reset();
  const started = performance.now();
  const response = await handler(event as never, fakeLambdaContext({ timeoutSeconds: 900 }) as never);
  const wallMs = performance.now() - started;
  if (response.batchItemFailures.length > 0) throw new Error('consumer bench: the batch reported failures');
  return { requests: counter.total(), byOperation: Object.fromEntries(counter.byOperation), wallMs };
}

/** Runs the comparison. */
export async function consumerDynamoDbBench(aws: LocalAws): Promise<Figure[]> {
  const unique = Date.now().toString(36);
  const event = kinesisEventFromEnvelopes(envelopeGrid(`ddb-${unique}`, 100, 10));
  const records = event.Records.length;
  const figures: Figure[] = [];
  const add = (who: string, phase: string, result: Awaited<ReturnType<typeof deliver>>, effects: number) => {
    const ops = Object.entries(result.byOperation)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    figures.push(
      {
        bench: BENCH,
        case: `${who}, ${phase}: requests`,
        value: result.requests,
        unit: 'requests',
        note: ops,
      },
      {
        bench: BENCH,
        case: `${who}, ${phase}: wall time`,
        value: Math.round(result.wallMs),
        unit: 'ms',
        note: `effects after: ${effects}`,
      },
    );
  };

  // Tidemark: one consumer table, a DynamoDB client of its own with the request counter.
  const tidemarkTable = `bench-tidemark-${unique}`;
  await aws.createTable(consumerTableDescription(tidemarkTable));
  const tidemarkClient = new DynamoDBClient(aws.clientConfig);
  const tidemarkCounter = countRequests(tidemarkClient);
  let tidemarkEffects = 0;
  const tidemark = createConsumer({
    name: 'bench-tidemark',
    events: benchEvents,
    handlers: {
      TaskCreated: () => {
        tidemarkEffects += 1;
      },
      TaskRenamed: () => {
        tidemarkEffects += 1;
      },
    },
    checkpoints: { tableName: tidemarkTable, dynamodb: tidemarkClient },
    logger: quietLogger(),
  });
  add(
    'Tidemark',
    'first delivery',
    await deliver(tidemark as Handler, event, tidemarkCounter),
    tidemarkEffects,
  );
  add('Tidemark', 'redelivery', await deliver(tidemark as Handler, event, tidemarkCounter), tidemarkEffects);

  // Powertools: the idempotency table, its own client and counter.
  const powertoolsTable = `bench-powertools-${unique}`;
  await aws.createTable(powertoolsTableInput(powertoolsTable));
  const powertoolsClient = new DynamoDBClient(aws.clientConfig);
  const powertoolsCounter = countRequests(powertoolsClient);
  let powertoolsEffects = 0;
  const powertools = createPowertoolsConsumer({
    tableName: powertoolsTable,
    dynamodb: powertoolsClient,
    effect: async () => {
      powertoolsEffects += 1;
    },
  });
  add(
    'Powertools',
    'first delivery',
    await deliver(powertools as Handler, event, powertoolsCounter),
    powertoolsEffects,
  );
  add(
    'Powertools',
    'redelivery',
    await deliver(powertools as Handler, event, powertoolsCounter),
    powertoolsEffects,
  );

  for (const [who, effects] of [
    ['Tidemark', tidemarkEffects],
    ['Powertools', powertoolsEffects],
  ] as const) {
    if (effects !== records)
      throw new Error(`consumer bench: ${who} applied ${effects} effects for ${records} records`);
  }
  tidemarkClient.destroy();
  powertoolsClient.destroy();
  return figures;
}
