/** A listener wired through middy that exports its consumer too, as the README shows (CLI tests). */
import middy from '@middy/core';
import { createConsumer } from '../../src/consumer';
import { consumerMiddleware } from '../../src/middleware';
import { memoryLogger, taskEvents } from './events';
import { FakeDynamoDb } from './fake-dynamodb';

export const consumer = createConsumer({
  name: 'cli-middy-consumer',
  events: taskEvents,
  handlers: { TaskCreated: () => undefined },
  checkpoints: { tableName: 'consumer-state', dynamodb: new FakeDynamoDb() as never },
  logger: memoryLogger(),
});

export const handler = middy().use(consumerMiddleware(consumer));
