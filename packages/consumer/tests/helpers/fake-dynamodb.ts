/**
 * The consumer's unit tests run on the strict in-memory DynamoDB of `@tidemark/testing/fakes`: item,
 * key and transaction limits, real condition and update expressions, the SDK's exceptions. This
 * helper holds the consumer table (and an `effects` table for transactional handlers) and adds the
 * few handles the tests need: a request log, scripted failures of the next calls, unprocessed keys
 * in the next BatchGetItem, and direct reads and writes that bypass every condition.
 */
import { type AttributeValue, BatchGetItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import { consumerTableDescription } from '../../src/table-keys';

type Item = Record<string, AttributeValue>;
type Failure = (input: Record<string, unknown>) => Error | undefined;

/** The tables every fake holds: the consumer table of the tests and a table for staged effects. */
export const FAKE_TABLES = ['consumer-state', 'effects'] as const;

export class FakeDynamoDb {
  /** The strict model behind this fake. */
  readonly model: FakeDynamoDB;
  readonly config: { readonly region: string };
  /** Every request, in order, with its input as sent (failed ones included). */
  readonly requests: { operation: string; input: Record<string, unknown> }[] = [];
  readonly #failures = new Map<
    string,
    { where: ((input: Record<string, unknown>) => boolean) | undefined; failure: Failure }[]
  >();
  /** Leaves this many keys unprocessed in the next BatchGetItem (to test the retry). */
  unprocessedOnce = 0;

  constructor(tables: readonly string[] = FAKE_TABLES) {
    this.model = new FakeDynamoDB();
    this.config = this.model.config;
    for (const table of tables) this.model.createTable(consumerTableDescription(table));
  }

  /** Makes the next call(s) of an operation fail (returning undefined from `failure` lets it through). */
  failNext(
    operation: string,
    failure: Error | Failure,
    times = 1,
    /** Only requests that match take (and use up) this failure. */
    where?: (input: Record<string, unknown>) => boolean,
  ): void {
    const list = this.#failures.get(operation) ?? [];
    for (let i = 0; i < times; i += 1) {
      list.push({ where, failure: typeof failure === 'function' ? failure : () => failure });
    }
    this.#failures.set(operation, list);
  }

  count(operation?: string, where: (input: Record<string, unknown>) => boolean = () => true): number {
    return this.requests.filter(
      (request) => (operation === undefined || request.operation === operation) && where(request.input),
    ).length;
  }

  /** In-flight marker writes (one per batch that runs handlers). */
  markerWrites(): number {
    return this.count(undefined, isMarkerRequest);
  }

  /** The items of a table, in key order. */
  items(tableName: string): Item[] {
    return this.model.dump(tableName);
  }

  /** One item by its string keys. */
  get(tableName: string, pk: string, sk: string): Item | undefined {
    return this.model.item(tableName, { pk: { S: pk }, sk: { S: sk } });
  }

  /** Writes an item directly (as another writer or a hand edit would), bypassing every condition. */
  put(tableName: string, item: Item): void {
    this.model.seed(tableName, [item]);
  }

  /** Deletes an item directly (as a hand edit would), bypassing every condition and the request log. */
  async delete(tableName: string, pk: string, sk: string): Promise<void> {
    await this.model.send(
      new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }),
    );
  }

  async send(command: { input: object }, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const operation = command.constructor.name.replace(/Command$/, '');
    const input = structuredClone(command.input) as Record<string, unknown>;
    this.requests.push({ operation, input });
    const pending = this.#failures.get(operation) ?? [];
    const index = pending.findIndex((entry) => entry.where === undefined || entry.where(input));
    const failure = index < 0 ? undefined : pending.splice(index, 1)[0]!.failure;
    const error = failure?.(input);
    if (error) throw error;
    if (command instanceof BatchGetItemCommand && this.unprocessedOnce > 0) {
      return this.#batchGetLeavingUnprocessed(command, options);
    }
    return this.model.send(command, options);
  }

  /** A BatchGetItem whose first `unprocessedOnce` keys come back in `UnprocessedKeys`. */
  async #batchGetLeavingUnprocessed(
    command: BatchGetItemCommand,
    options: { abortSignal?: AbortSignal } | undefined,
  ): Promise<unknown> {
    const skipped: Record<string, { Keys: Item[] }> = {};
    const sent: NonNullable<BatchGetItemCommand['input']['RequestItems']> = {};
    for (const [tableName, request] of Object.entries(command.input.RequestItems ?? {})) {
      const keys = request.Keys ?? [];
      const skip = Math.min(this.unprocessedOnce, keys.length);
      this.unprocessedOnce -= skip;
      if (skip > 0) skipped[tableName] = { ...request, Keys: keys.slice(0, skip) };
      if (keys.length > skip) sent[tableName] = { ...request, Keys: keys.slice(skip) };
    }
    const output = (
      Object.keys(sent).length > 0
        ? await this.model.send(new BatchGetItemCommand({ ...command.input, RequestItems: sent }), options)
        : { Responses: {}, UnprocessedKeys: {} }
    ) as { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys: Item[] }> };
    return { ...output, UnprocessedKeys: { ...skipped, ...(output.UnprocessedKeys ?? {}) } };
  }
}

/** Whether a request writes the consumer's in-flight marker. */
export function isMarkerRequest(input: Record<string, unknown>): boolean {
  return JSON.stringify(input).includes('#in-flight');
}

/** Whether a request writes a checkpoint item. */
export function isCheckpointRequest(input: Record<string, unknown>): boolean {
  return JSON.stringify(input).includes('"sk":{"S":"checkpoint"}');
}
