import { readFileSync } from 'node:fs';
import { ConfigurationError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createConsumer, isConsumer } from '../../src/consumer';
import { consumerMiddleware } from '../../src/middleware';
import { consumerTableDescription } from '../../src/table';
import type { ConsumerOptions } from '../../src/types';
import { taskEvents } from '../helpers/events';
import { FakeDynamoDb } from '../helpers/fake-dynamodb';

const valid = (): ConsumerOptions<typeof taskEvents> => ({
  name: 'orders-view',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints: { tableName: 'consumer-state', dynamodb: new FakeDynamoDb() as never },
});

describe('createConsumer options', () => {
  it.each([
    ['an unknown option', { maxAttempt: 3 }, /unknown option "maxAttempt"/],
    [
      'an unknown checkpoints option',
      { checkpoints: { tableName: 'consumer-state', table: 'x' } },
      /checkpoints: unknown option "table"/,
    ],
    ['an unknown deadLetters option', { deadLetters: { table: 'x' } }, /deadLetters: unknown option "table"/],
    ['a name with #', { name: 'a#b' }, /name must be/],
    ['a missing table name', { checkpoints: {} }, /checkpoints.tableName/],
    ['maxAttempts 0', { maxAttempts: 0 }, /maxAttempts must be an integer of 1 or more/],
    ['a negative gap timeout', { gapTimeoutSeconds: -1 }, /gapTimeoutSeconds/],
    ['an unknown firstContact', { firstContact: 'first' }, /firstContact/],
    [
      'an unknown unreadableEvents',
      { unreadableEvents: 'skip' },
      /unreadableEvents must be 'hold' or 'park'/,
    ],
    ['a non-boolean transactional', { transactional: 'yes' }, /transactional/],
    ['concurrency 0', { concurrency: 0 }, /concurrency/],
    ['a logger without warn', { logger: { debug() {}, info() {}, error() {} } }, /missing warn/],
    ['an empty handlers object', { handlers: {} }, /handlers is empty/],
    ['a handler for an undeclared type', { handlers: { TaskExploded: () => {} } }, /does not declare/],
    [
      'a handler that is not a function',
      { handlers: { TaskCreated: 'yes' } },
      /handlers.TaskCreated must be a function/,
    ],
    ['events that are not a catalog', { events: {} }, /catalog/],
  ])('throws a TypeError for %s', (_what, override, message) => {
    const options = { ...valid(), ...override } as never;
    expect(() => createConsumer(options)).toThrow(TypeError);
    expect(() => createConsumer(options)).toThrow(message);
    expect(() => consumerMiddleware(options)).toThrow(message);
  });

  it.each([
    ['an object without addMetric', {}],
    ['the function form of earlier versions', (_name: string, _value: number) => {}],
  ])('throws a ConfigurationError for metrics that are %s', (_what, metrics) => {
    const options = { ...valid(), metrics } as never;
    expect(() => createConsumer(options)).toThrow(ConfigurationError);
    expect(() => createConsumer(options)).toThrow(/metrics must be an object with addMetric/);
    expect(() => consumerMiddleware(options)).toThrow(ConfigurationError);
  });

  it('accepts a client config instead of a client', () => {
    const consumer = createConsumer({
      ...valid(),
      checkpoints: {
        tableName: 'consumer-state',
        dynamodb: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' },
      },
    });
    expect(isConsumer(consumer)).toBe(true);
    expect(consumer.consumerName).toBe('orders-view');
  });

  it('tells consumers from other functions', () => {
    expect(isConsumer(() => {})).toBe(false);
    expect(isConsumer(undefined)).toBe(false);
  });
});

describe('consumerTableDescription', () => {
  it('describes string pk/sk keys and on-demand capacity', () => {
    expect(consumerTableDescription('consumer-state')).toEqual({
      TableName: 'consumer-state',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('refuses a missing table name', () => {
    expect(() => consumerTableDescription('' as string)).toThrow(TypeError);
  });
});

describe('the middleware module', () => {
  it('does not import @middy/core (an optional peer)', () => {
    const source = readFileSync(new URL('../../src/middleware.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import [^\n]*'@middy\//m);
    expect(source).not.toMatch(/^\s*[^*\s][^\n]*import\('@middy\//m);
  });

  it('shares the engine of a consumer passed to it', async () => {
    const consumer = createConsumer(valid());
    const middleware = consumerMiddleware(consumer);
    const request = { event: { Records: [] }, context: {}, response: undefined as unknown };

    await middleware.after(request);

    expect(request.response).toEqual({ batchItemFailures: [] });
  });
});

describe('consumerMiddleware with other middlewares', () => {
  it('runs after the before middlewares and hands its response to the after middlewares registered before it', async () => {
    const { default: middy } = await import('@middy/core');
    const order: string[] = [];
    let seenByOuterAfter: unknown;
    const consumer = createConsumer({
      ...valid(),
      handlers: { TaskCreated: () => void order.push('handler') },
    });
    const handler = middy()
      .use({
        before: async () => void order.push('outer before'),
        after: async (request) => {
          order.push('outer after');
          seenByOuterAfter = request.response;
        },
      })
      .use(consumerMiddleware(consumer));
    const { kinesisEvent, taskEnvelope, lambdaContext } = await import('../helpers/events');

    const response = await handler(kinesisEvent([taskEnvelope('a', 1)]) as never, lambdaContext() as never);

    expect(order).toEqual(['outer before', 'handler', 'outer after']);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seenByOuterAfter).toEqual({ batchItemFailures: [] });
  });
});
