/** Type tests: checked by `tsc -p tests/tsconfig.json`, never run. */

import { defineCatalog, defineEvent, type Ulid } from '@tidemark/core';
import type { Context, KinesisStreamEvent, KinesisStreamHandler } from 'aws-lambda';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import {
  type BatchSummary,
  createConsumer,
  type EventHandlers,
  type HandlerContext,
  type KinesisBatchResponse,
  type TransactionalHandlerContext,
} from '../../src/index';
import { consumerMiddleware } from '../../src/middleware';

const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  schema: z.object({ name: z.string(), estimate: z.number().optional() }),
});
const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  schema: z.object({ completedAt: z.iso.datetime() }),
});
const taskEvents = defineCatalog([TaskCreated, TaskCompleted]);
const checkpoints = { tableName: 'consumer-state' };

// The payload type is inferred per event type, with the envelope fields beside it.
export const handler = createConsumer({
  name: 'task-read-model',
  events: taskEvents,
  handlers: {
    TaskCreated: async (event, context) => {
      expectTypeOf(event.type).toEqualTypeOf<'TaskCreated'>();
      expectTypeOf(event.data).toEqualTypeOf<{ name: string; estimate?: number | undefined }>();
      expectTypeOf(event.aggregate).toEqualTypeOf<import('@tidemark/core').AggregateRef>();
      expectTypeOf(event.version).toEqualTypeOf<number>();
      expectTypeOf(event.commandId).toEqualTypeOf<Ulid>();
      expectTypeOf(event.metadata.correlationId).toEqualTypeOf<string | undefined>();
      expectTypeOf(context).toEqualTypeOf<HandlerContext>();
      // @ts-expect-error: not transactional, so no transaction
      context.transaction;
      // @ts-expect-error: TaskCreated has no completedAt
      event.data.completedAt;
    },
    TaskCompleted: (event) => {
      expectTypeOf(event.data.completedAt).toEqualTypeOf<string>();
      // @ts-expect-error: a string is not a number
      const n: number = event.data.completedAt;
      void n;
    },
  },
  checkpoints,
});

// The handler fits Lambda's Kinesis handler type.
expectTypeOf(handler).parameter(0).toMatchTypeOf<KinesisStreamEvent | { Records: readonly unknown[] }>();
export const lambdaHandler: (event: KinesisStreamEvent, context: Context) => Promise<KinesisBatchResponse> =
  handler;
export const typedLambdaHandler: KinesisStreamHandler = handler;

// A handler for a type the catalog does not declare does not compile.
createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: {
    TaskCreated: () => {},
    // @ts-expect-error: TaskDeleted is not in the catalog
    TaskDeleted: () => {},
  },
  checkpoints,
});

// Handlers are optional per type, but must take the right event.
createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: {
    // @ts-expect-error: the TaskCompleted handler cannot take a TaskCreated event
    TaskCompleted: (event: { data: { name: string } }) => void event,
  },
  checkpoints,
});

// Transactional mode gives handlers a transaction.
createConsumer({
  name: 'x',
  events: taskEvents,
  transactional: true,
  handlers: {
    TaskCreated: (event, context) => {
      expectTypeOf(context).toEqualTypeOf<TransactionalHandlerContext>();
      context.transaction.put({ TableName: 'tasks', Item: { pk: { S: event.aggregate.id } } });
      // @ts-expect-error: items use the low-level TransactWriteItems shape
      context.transaction.put({ TableName: 'tasks', Item: { pk: event.aggregate.id } });
    },
  },
  checkpoints,
});

// Handlers declared apart keep their types.
const transactionalHandlers: EventHandlers<typeof taskEvents, true> = {
  TaskCompleted: (_event, context) => {
    expectTypeOf(context.transaction.size).toEqualTypeOf<number>();
  },
};
createConsumer({
  name: 'x',
  events: taskEvents,
  transactional: true,
  handlers: transactionalHandlers,
  checkpoints,
});

// Options are typed too.
createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints,
  // @ts-expect-error: firstContact takes 'any-version' or 'require-first'
  firstContact: 'first',
});
createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints,
  onBatchSummary: (summary) => expectTypeOf(summary).toEqualTypeOf<BatchSummary>(),
});

// The middleware takes the same options, typed the same way.
consumerMiddleware({
  name: 'x',
  events: taskEvents,
  handlers: {
    TaskCreated: (event) => expectTypeOf(event.data.name).toEqualTypeOf<string>(),
    // @ts-expect-error: not in the catalog
    TaskArchived: () => {},
  },
  checkpoints,
});

// Powertools Logger fits the logger option.
import { Logger } from '@aws-lambda-powertools/logger';

createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints,
  logger: new Logger({ serviceName: 'tasks' }),
  metrics: {
    addMetric(name, unit, value) {
      expectTypeOf(name).toEqualTypeOf<string>();
      expectTypeOf(unit).toEqualTypeOf<'Count'>();
      expectTypeOf(value).toEqualTypeOf<number>();
    },
  },
});

createConsumer({
  name: 'x',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints,
  // @ts-expect-error: the function form of earlier versions is gone; pass Powertools Metrics
  metrics: (name: string, value: number) => [name, value],
});
