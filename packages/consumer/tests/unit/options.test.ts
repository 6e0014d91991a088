import { readFileSync } from 'node:fs';
import { ConfigurationError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createConsumer, isConsumer } from '../../src/consumer';
import { consumerMiddleware } from '../../src/middleware';
import { CONSUMER_DEFAULTS } from '../../src/options';
import { consumerTableDescription } from '../../src/table-keys';
import type { ConsumerOptions } from '../../src/types';
import { taskEvents } from '../helpers/events';
import { FakeDynamoDb } from '../helpers/fake-dynamodb';

const valid = (): ConsumerOptions<typeof taskEvents> => ({
  name: 'orders-view',
  events: taskEvents,
  handlers: { TaskCreated: () => {} },
  checkpoints: { tableName: 'consumer-state', dynamodb: new FakeDynamoDb() as never },
});

function caught(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError, nothing was thrown');
}

describe('createConsumer options', () => {
  it.each([
    [
      'an unknown option',
      { maxAttempt: 3 },
      'maxAttempt',
      /unknown option "maxAttempt"; expected one of name, events/,
    ],
    [
      'an unknown checkpoints option',
      { checkpoints: { tableName: 'consumer-state', table: 'x' } },
      'checkpoints.table',
      /unknown option "checkpoints.table"; expected one of tableName, dynamodb/,
    ],
    [
      'an unknown deadLetters option',
      { deadLetters: { table: 'x' } },
      'deadLetters.table',
      /unknown option "deadLetters.table"/,
    ],
    [
      'an unknown client config key',
      { checkpoints: { tableName: 'consumer-state', dynamodb: { regoin: 'eu-west-1' } } },
      'checkpoints.dynamodb.regoin',
      /unknown option "checkpoints.dynamodb.regoin"/,
    ],
    ['a name with #', { name: 'a#b' }, 'name', /name: expected 1-64 letters.*; received "a#b"/],
    ['a missing table name', { checkpoints: {} }, 'checkpoints.tableName', /checkpoints.tableName/],
    [
      'a short table name',
      { checkpoints: { tableName: 'ab' } },
      'checkpoints.tableName',
      /expected a DynamoDB table name.*received "ab"/,
    ],
    ['maxAttempts 0', { maxAttempts: 0 }, 'maxAttempts', /maxAttempts: .*>=1; received 0/],
    ['maxAttempts 1.5', { maxAttempts: 1.5 }, 'maxAttempts', /maxAttempts: .*expected int.*; received 1.5/],
    [
      'a negative gap timeout',
      { gapTimeoutSeconds: -1 },
      'gapTimeoutSeconds',
      /gapTimeoutSeconds: .*>=0; received -1/,
    ],
    [
      'an infinite gap timeout',
      { gapTimeoutSeconds: Number.POSITIVE_INFINITY },
      'gapTimeoutSeconds',
      /gapTimeoutSeconds/,
    ],
    ['maxHeldPerAggregate over 2000', { maxHeldPerAggregate: 2001 }, 'maxHeldPerAggregate', /2000 or less/],
    [
      'an unknown firstContact',
      { firstContact: 'first' },
      'firstContact',
      /firstContact: .*"any-version"\|"require-first"/,
    ],
    [
      'an unknown unreadableEvents',
      { unreadableEvents: 'skip' },
      'unreadableEvents',
      /unreadableEvents: .*"hold"\|"park"; received "skip"/,
    ],
    ['a non-boolean transactional', { transactional: 'yes' }, 'transactional', /transactional: .*boolean/],
    ['concurrency 0', { concurrency: 0 }, 'concurrency', /concurrency/],
    [
      'a logger without warn',
      { logger: { debug() {}, info() {}, error() {} } },
      'logger',
      /logger: expected a logger with debug, info, warn and error methods/,
    ],
    [
      'metrics without addMetric',
      { metrics: {} },
      'metrics',
      /metrics: expected an object with addMetric\(name, unit, value\)/,
    ],
    [
      'metrics in the function form of earlier versions',
      { metrics: (_name: string, _value: number) => {} },
      'metrics',
      /metrics: expected an object with addMetric\(name, unit, value\)/,
    ],
    [
      'a clock that is not a function',
      { clock: new Date() },
      'clock',
      /clock: expected a function returning a Date; received a Date/,
    ],
    ['an empty handlers object', { handlers: {} }, 'handlers', /handlers is empty/],
    [
      'a handler for an undeclared type',
      { handlers: { TaskExploded: () => {} } },
      'handlers.TaskExploded',
      /does not declare/,
    ],
    [
      'a handler that is not a function',
      { handlers: { TaskCreated: 'yes' } },
      'handlers.TaskCreated',
      /handlers.TaskCreated: expected a handler function; received "yes"/,
    ],
    [
      'events that are not a catalog',
      { events: {} },
      'events',
      /events: expected an event catalog from defineCatalog\(\)/,
    ],
  ])('throws a ConfigurationError naming the option for %s', (_what, override, option, message) => {
    const options = { ...valid(), ...override } as never;
    for (const [factory, create] of [
      ['createConsumer', createConsumer],
      ['consumerMiddleware', consumerMiddleware],
    ] as const) {
      const error = caught(() => create(options));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', factory, option });
      expect(error.message.startsWith(`${factory}: `)).toBe(true);
      expect(error.message).toMatch(message);
    }
  });

  it('refuses options that are not an object', () => {
    for (const options of [undefined, null, 'orders-view']) {
      const error = caught(() => createConsumer(options as never));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ factory: 'createConsumer', option: '' });
    }
  });

  it('applies CONSUMER_DEFAULTS to every option left out, and accepts them given explicitly', () => {
    expect(Object.isFrozen(CONSUMER_DEFAULTS)).toBe(true);
    const explicit = createConsumer({ ...valid(), ...CONSUMER_DEFAULTS });
    expect(isConsumer(explicit)).toBe(true);
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

  it('refuses a missing or malformed table name, naming it', () => {
    for (const tableName of ['', 'ab', 'has space', undefined]) {
      const error = caught(() => consumerTableDescription(tableName as string));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ factory: 'consumerTableDescription', option: 'tableName' });
    }
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
