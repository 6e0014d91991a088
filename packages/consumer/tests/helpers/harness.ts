/** Builds consumers over the fake DynamoDB, through either entry point, recording what handlers see. */

import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { AnyEventCatalog } from '@tidemark/core';
import { createConsumer } from '../../src/consumer';
import { consumerMiddleware } from '../../src/middleware';
import type { BatchSummary, ConsumerOptions, KinesisBatchResponse, KinesisEvent } from '../../src/types';
import { lambdaContext, memoryLogger, taskEvents } from './events';
import { FakeDynamoDb } from './fake-dynamodb';

export const TABLE = 'consumer-state';
export const NAME = 'unit-consumer';

export type EntryPoint = 'createConsumer' | 'middy middleware';
export const ENTRY_POINTS: EntryPoint[] = ['createConsumer', 'middy middleware'];

/** Makes a handler through one entry point. */
export function handlerFor<C extends AnyEventCatalog, T extends boolean>(
  entry: EntryPoint,
  options: ConsumerOptions<C, T>,
): (event: KinesisEvent) => Promise<KinesisBatchResponse> {
  if (entry === 'createConsumer') {
    const consumer = createConsumer(options);
    return (event) => consumer(event, lambdaContext());
  }
  const handler = middy().use(consumerMiddleware(options));
  return (event) => handler(event as never, lambdaContext() as never) as Promise<KinesisBatchResponse>;
}

export interface Harness {
  readonly db: FakeDynamoDb;
  readonly applied: string[];
  readonly summaries: BatchSummary[];
  readonly logger: ReturnType<typeof memoryLogger>;
  /** `Task#id@version` keys whose handler throws. */
  readonly failing: Set<string>;
  readonly handle: (event: KinesisEvent) => Promise<KinesisBatchResponse>;
  now: Date;
  checkpoint(id: string): Record<string, unknown> | undefined;
  held(id: string): Record<string, unknown>[];
  deadLetters(): Record<string, unknown>[];
}

/** A consumer of the test catalog with handlers for TaskCreated, TaskRenamed and TaskCompleted. */
export function harness(
  entry: EntryPoint = 'createConsumer',
  overrides: Partial<ConsumerOptions<typeof taskEvents, false>> = {},
): Harness {
  const db = new FakeDynamoDb();
  const applied: string[] = [];
  const summaries: BatchSummary[] = [];
  const failing = new Set<string>();
  const logger = memoryLogger();
  const record = (event: { aggregate: { id: string }; version: number }) => {
    const key = `${event.aggregate.id}@${event.version}`;
    if (failing.has(key)) throw new Error(`handler refuses ${key}`);
    applied.push(key);
  };
  const state = {
    db,
    applied,
    summaries,
    logger,
    failing,
    now: new Date('2026-11-23T12:00:00.000Z'),
    checkpoint(id: string) {
      const item = db.get(TABLE, `consumer#${NAME}#Task#${id}`, 'checkpoint');
      return item ? unmarshall(item) : undefined;
    },
    held(id: string) {
      return db
        .items(TABLE)
        .filter((item) => item.pk!.S === `consumer#${NAME}#Task#${id}` && item.sk!.S!.startsWith('held#'))
        .map((item) => unmarshall(item));
    },
    deadLetters() {
      return db
        .items(TABLE)
        .filter((item) => item.pk!.S === `consumer#${NAME}#dead-letters`)
        .map((item) => unmarshall(item));
    },
  } as Omit<Harness, 'handle'> & { handle?: Harness['handle'] };
  state.handle = handlerFor(entry, {
    name: NAME,
    events: taskEvents,
    handlers: {
      TaskCreated: (event) => record(event),
      TaskRenamed: async (event) => record(event),
      TaskCompleted: async (event) => record(event),
    },
    checkpoints: { tableName: TABLE, dynamodb: db as never },
    logger,
    onBatchSummary: (summary) => summaries.push(summary),
    clock: () => state.now,
    ...overrides,
  });
  return state as Harness;
}
