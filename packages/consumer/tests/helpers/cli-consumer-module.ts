/** A module exporting a consumer, as `tidemark-dead-letters redrive --module` loads it (CLI tests). */
import { createConsumer } from '../../src/consumer';
import { memoryLogger, taskEvents } from './events';
import { FakeDynamoDb } from './fake-dynamodb';

export const db = new FakeDynamoDb();
export const applied: string[] = [];
export const failing = new Set<string>();

export const handler = createConsumer({
  name: 'cli-consumer',
  events: taskEvents,
  handlers: {
    TaskCreated: (event) => {
      const key = `${event.aggregate.id}@${event.version}`;
      if (failing.has(key)) throw new Error(`refusing ${key}`);
      applied.push(key);
    },
  },
  checkpoints: { tableName: 'consumer-state', dynamodb: db as never },
  maxAttempts: 1,
  logger: memoryLogger(),
});
