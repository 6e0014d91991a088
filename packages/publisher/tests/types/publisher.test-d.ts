import { Logger } from '@aws-lambda-powertools/logger';
import { defineCatalog, defineEvent, type EventEnvelope, type TidemarkLogger } from '@tidemark/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, Handler } from 'aws-lambda';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { type AppendResult, createEventLog, createPublisher, type Publisher, replay } from '../../src/index';

const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string(), estimate: z.number().default(1) }),
});
const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  schema: z.object({ at: z.string() }),
});
const catalog = defineCatalog([TaskCreated, TaskCompleted]);
const log = createEventLog({ tableName: 'events', catalog, source: '/tasks' });
const aggregate = { type: 'Task', id: 't-1' };

describe('createEventLog typing', () => {
  it('types appended events against the catalog', () => {
    void log.append({ aggregate, commandId: 'x', events: [{ type: 'TaskCreated', data: { name: 'a' } }] });
    void log.append({
      aggregate,
      commandId: 'x',
      // @ts-expect-error: name must be a string
      events: [{ type: 'TaskCreated', data: { name: 1 } }],
    });
    void log.append({
      aggregate,
      commandId: 'x',
      // @ts-expect-error: the catalog has no such type
      events: [{ type: 'TaskDeleted', data: {} }],
    });
    void log.append({
      aggregate,
      commandId: 'x',
      // @ts-expect-error: TaskCompleted needs `at`
      events: [{ type: 'TaskCompleted', data: { name: 'a' } }],
    });
  });

  it('returns typed envelopes and reads typed events, narrowed by type', async () => {
    const result = await log.append({
      aggregate,
      commandId: 'x',
      events: [{ type: 'TaskCreated', data: { name: 'a' } }],
    });
    expectTypeOf(result).toEqualTypeOf<AppendResult<typeof catalog>>();
    expectTypeOf(result.events[0]!.type).toEqualTypeOf<'TaskCreated' | 'TaskCompleted'>();
    for await (const event of log.read(aggregate)) {
      if (event.type === 'TaskCreated')
        expectTypeOf(event.data).toEqualTypeOf<{ name: string; estimate: number }>();
      else expectTypeOf(event.data).toEqualTypeOf<{ at: string }>();
    }
    for await (const envelope of log.readEnvelopes(aggregate))
      expectTypeOf(envelope).toEqualTypeOf<EventEnvelope>();
  });
});

describe('createPublisher typing', () => {
  it('is a Lambda handler for DynamoDB stream events answering batch item failures', () => {
    const publisher = createPublisher({ streamName: 'events' });
    expectTypeOf(publisher).toExtend<Handler<DynamoDBStreamEvent, DynamoDBBatchResponse>>();
    expectTypeOf(publisher.use({})).toEqualTypeOf<Publisher>();
  });

  it('takes exactly one of streamName, streamArn and route', () => {
    createPublisher({ streamArn: 'arn:aws:kinesis:eu-west-1:1:stream/s' });
    createPublisher({ route: (envelope) => (envelope.type === 'TaskCreated' ? 'a' : 'b') });
    // @ts-expect-error: streamName and route are mutually exclusive
    createPublisher({ streamName: 'a', route: () => 'b' });
    // @ts-expect-error: a target is required
    createPublisher({});
  });

  it('accepts Powertools Logger as the logger', () => {
    expectTypeOf(new Logger()).toExtend<TidemarkLogger>();
    createPublisher({ streamName: 'events', logger: new Logger({ serviceName: 'publisher' }) });
  });

  it('takes metrics as an object with addMetric, not as a function', () => {
    createPublisher({ streamName: 'events', metrics: { addMetric: (_name, _unit, _value) => {} } });
    // @ts-expect-error: the metrics hook of earlier versions is gone
    createPublisher({ streamName: 'events', metrics: ({ name, value }) => [name, value] });
  });

  it('takes the same target options in replay', () => {
    void replay({ tableName: 'events', streamName: 's' });
    // @ts-expect-error: tableName is required
    void replay({ streamName: 's' });
  });
});
