/** `createDeadLetters`: read and delete a consumer's parked records without its handlers. */

import { parseOptions } from '@tidemark/core/internal';
import { z } from 'zod';
import { CountingClient } from './counting-client';
import { toDeadLetter } from './dead-letter-item';
import { DeadLetterStore } from './dead-letter-store';
import { DeadLetterNotFoundError } from './errors';
import {
  DEAD_LETTER_PAGE_SCHEMA,
  DYNAMODB_CLIENT_SCHEMA,
  resolveDynamoDb,
  TABLE_NAME_SCHEMA,
} from './options';
import type { DeadLetter, DeadLetterPage, DynamoDbClientOption } from './types';

const DEAD_LETTERS_OPTIONS_SCHEMA = z.strictObject({
  consumer: z.string().min(1, 'expected the consumer name'),
  tableName: TABLE_NAME_SCHEMA,
  dynamodb: DYNAMODB_CLIENT_SCHEMA.optional(),
});

/** Options of {@link createDeadLetters}. */
export interface DeadLettersOptions {
  /** The consumer whose dead letters to read (its `name`). */
  readonly consumer: string;
  /** The table the consumer parks records in. */
  readonly tableName: string;
  /** A DynamoDB client or client config. Default: a client from the environment. */
  readonly dynamodb?: DynamoDbClientOption;
}

/** A consumer's dead letters, without redrive (redrive needs the handlers: use `consumer.deadLetters`). */
export interface DeadLetters {
  /** Lists parked records, a page at a time, in id order. `limit`: 1-1000, default 50. */
  list(options?: { readonly limit?: number; readonly cursor?: string }): Promise<DeadLetterPage>;
  /** Reads one; throws `DeadLetterNotFoundError` when there is none. */
  get(id: string): Promise<DeadLetter>;
  /** Deletes one; throws `DeadLetterNotFoundError` when there is none. */
  delete(id: string): Promise<void>;
}

/**
 * Opens a consumer's dead-letter store for listing, reading and deleting.
 *
 * @example
 * ```ts
 * import { createDeadLetters } from '@tidemark/consumer';
 *
 * const deadLetters = createDeadLetters({ consumer: 'task-read-model', tableName: 'consumer-state' });
 * const { items, cursor } = await deadLetters.list({ limit: 20 });
 * ```
 */
export function createDeadLetters(options: DeadLettersOptions): DeadLetters {
  const { consumer, tableName, dynamodb } = parseOptions(DEAD_LETTERS_OPTIONS_SCHEMA, options, {
    factory: 'createDeadLetters',
  });
  const client = resolveDynamoDb(dynamodb);
  return deadLetterAccess(
    consumer,
    () => new DeadLetterStore(new CountingClient(client, { requests: 0 }), tableName, consumer),
  );
}

/**
 * List, get and delete over a consumer's dead-letter store: the one implementation behind
 * {@link createDeadLetters} and `consumer.deadLetters`. `store` opens the store for one call.
 *
 * @internal
 */
export function deadLetterAccess(consumer: string, store: () => DeadLetterStore): DeadLetters {
  return Object.freeze({
    async list(page?: { limit?: number; cursor?: string }): Promise<DeadLetterPage> {
      const { limit, cursor } = parseOptions(DEAD_LETTER_PAGE_SCHEMA, page, { factory: 'deadLetters.list' });
      const result = await store().list(limit, cursor);
      const items = result.items.map(toDeadLetter);
      return result.cursor === undefined ? { items } : { items, cursor: result.cursor };
    },
    async get(id: string): Promise<DeadLetter> {
      const item = await store().get(id);
      if (!item) throw new DeadLetterNotFoundError(consumer, id);
      return toDeadLetter(item);
    },
    async delete(id: string): Promise<void> {
      if (!(await store().delete(id))) throw new DeadLetterNotFoundError(consumer, id);
    },
  });
}
