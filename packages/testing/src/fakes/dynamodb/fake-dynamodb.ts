/**
 * An in-memory DynamoDB that is as strict as the service: a client-compatible `send` for the SDK v3
 * commands, validating and answering like DynamoDB (limits, expressions, conditions, cancellation
 * reasons, the SDK's own exception classes), with seeded faults, hooks around every call and
 * introspection for invariant checks.
 *
 * It is a client, not a server: the SDK's middleware (retries included) does not run, so every
 * error reaches the caller after one attempt, exactly as the SDK would surface it once its retries
 * are exhausted (or disabled).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { LocalAwsOptionsError } from '../../errors';
import { type FakeCall, type FakeCallOutcome, runCall, supportedOperation } from '../call-pipeline';
import { commonFakeOptions, parseFakeOptions } from '../fake-options';
import { type AttributeMap, checkItemSize, cloneItem, validateItem } from './attribute-value';
import { batchGetItem, batchWriteItem } from './batch-operations';
import {
  DYNAMODB_OPERATIONS,
  DynamoDbFaultPlan,
  type DynamoDbFaultStats,
  type DynamoDbFaults,
  type DynamoDbOperation,
  type DynamoDbFaultPlan as FaultPlan,
} from './fault-plan';
import { deleteItem, getItem, putItem, updateItem } from './item-operations';
import { type DynamoDbChange, type DynamoDbWriteRecord, ModelState } from './model-state';
import {
  ModelConditionFailedError,
  ModelResourceNotFoundError,
  ModelValidationError,
} from './model-validation-error';
import { query, scan } from './read-operations';
import {
  conditionalCheckFailed,
  idempotentParameterMismatch,
  internalServerError,
  resourceInUse,
  resourceNotFound,
  responseMetadata,
  responseTimeout,
  throttled,
  transactionCanceled,
  validationException,
} from './service-errors';
import { Table, type TableKeySchema } from './table';
import {
  createTable,
  deleteTable,
  describeTable,
  listTables,
  ModelTableExistsError,
} from './table-operations';
import {
  IdempotentMismatchSignal,
  ModelTransactionCanceledError,
  type RequestTokens,
  transactGetItems,
  transactWriteItems,
} from './transact-operations';

/** One DynamoDB call as the hooks see it. */
export type DynamoDbCall = FakeCall<DynamoDbOperation>;

/** One finished DynamoDB call as `onAfterSend` sees it. */
export type DynamoDbCallOutcome = FakeCallOutcome<DynamoDbOperation>;

/** Options of {@link FakeDynamoDB}. */
export interface FakeDynamoDBOptions {
  /** Seeded fault injection. @default no faults */
  readonly faults?: DynamoDbFaults;
  /** The region in table ARNs and `config.region`. @default 'us-east-1' */
  readonly region?: string;
  /** The clock (milliseconds), for ClientRequestToken expiry and table timestamps. @default Date.now */
  readonly now?: () => number;
  /**
   * Called before each call is carried out. Throw to fail the call before it happens; return a
   * promise to hold it (a simulation can keep it pending forever to model a killed invocation).
   * @default none
   */
  readonly onBeforeSend?: (call: DynamoDbCall) => void | Promise<void>;
  /**
   * Called after each call was carried out (its writes are stored) and before the caller gets the
   * answer. Throw to lose the answer ("the write happened but the response was lost"); return a
   * promise to hold the answer. @default none
   */
  readonly onAfterSend?: (outcome: DynamoDbCallOutcome) => void | Promise<void>;
}

/** A snapshot of a model's tables (see {@link FakeDynamoDB.snapshot}). */
export interface DynamoDbSnapshot {
  readonly tables: readonly {
    readonly name: string;
    readonly keySchema: TableKeySchema;
    readonly description: Table['description'];
    readonly items: readonly AttributeMap[];
  }[];
  readonly tokens: readonly [string, { fingerprint: string; at: number }][];
}

const OPTIONS_SCHEMA = z.strictObject(commonFakeOptions);

function operationOf(command: unknown): DynamoDbOperation {
  return supportedOperation('FakeDynamoDB', command, DYNAMODB_OPERATIONS);
}

/**
 * An in-memory DynamoDB with the service's limits and semantics.
 *
 * @example
 * ```ts
 * import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
 * import { FakeDynamoDB } from '@tidemark/testing/fakes';
 *
 * const dynamodb = new FakeDynamoDB({ faults: { seed: 7, operations: { BatchGetItem: { unprocessedRate: 0.2 } } } });
 * await dynamodb.send(new CreateTableCommand({
 *   TableName: 'events',
 *   KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
 *   AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
 *   BillingMode: 'PAY_PER_REQUEST',
 * }));
 * const client = dynamodb.client; // typed as DynamoDBClient, for code that takes one
 * await client.send(new PutItemCommand({ TableName: 'events', Item: { pk: { S: 'a' }, sk: { N: '1' } } }));
 * ```
 */
export class FakeDynamoDB {
  readonly #state: ModelState;
  readonly #faults: FaultPlan;
  readonly #tokens: RequestTokens;
  readonly #options: FakeDynamoDBOptions;
  readonly #counts = new Map<DynamoDbOperation, number>();
  #calls = 0;

  /** The SDK-style client configuration (only `region`), read by helpers such as the event sources. */
  readonly config: { readonly region: string };

  constructor(options: FakeDynamoDBOptions = {}) {
    parseFakeOptions(OPTIONS_SCHEMA, options, 'FakeDynamoDB');
    this.#options = options;
    this.config = { region: options.region ?? 'us-east-1' };
    this.#state = new ModelState(this.config.region);
    this.#faults = new DynamoDbFaultPlan(options.faults ?? {});
    this.#tokens = { tokens: new Map(), now: options.now ?? Date.now };
  }

  /** This model typed as a `DynamoDBClient`, for code that takes one (only `send` is implemented). */
  get client(): DynamoDBClient {
    return this as unknown as DynamoDBClient;
  }

  /**
   * Carries out one SDK v3 command and answers as DynamoDB would (output with `$metadata`, or the
   * SDK's exception).
   */
  async send<Output = Record<string, unknown>>(
    command: unknown,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Output> {
    const operation = operationOf(command);
    const input = ((command as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
    this.#calls += 1;
    const callIndex = this.#calls;
    const requestId = `fake-dynamodb-${callIndex}`;
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const settings = () => this.#faults.settingsFor(operation);
    const answer = await runCall({
      call: { operation, input, callIndex },
      hooks: this.#options,
      abortSignal: options?.abortSignal,
      refuse: () => {
        const refused = this.#faults.beforeCall(operation);
        if (refused === 'throttle')
          return throttled(settings().throttleError ?? 'ProvisionedThroughputExceededException', requestId);
        return refused === 'server-error' ? internalServerError(requestId) : undefined;
      },
      execute: () => this.#execute(operation, input),
      toServiceError: (error) => this.#toServiceError(error, requestId),
      loseAnswer: () => {
        if (!this.#faults.loseResponse(operation)) return undefined;
        return settings().lostResponseError === 'TimeoutError'
          ? responseTimeout(requestId)
          : internalServerError(requestId);
      },
      metadata: () => ({ ...responseMetadata(requestId, 200) }),
    });
    return answer as Output;
  }

  #execute(operation: DynamoDbOperation, input: Record<string, unknown>): Record<string, unknown> {
    const state = this.#state;
    const now = this.#tokens.now();
    // biome-ignore lint/suspicious/noExplicitAny: each operation validates its own input
    const request = input as any;
    switch (operation) {
      case 'GetItem':
        return getItem(state, request);
      case 'PutItem':
        return putItem(state, request);
      case 'UpdateItem':
        return updateItem(state, request);
      case 'DeleteItem':
        return deleteItem(state, request);
      case 'Query':
        return query(state, request);
      case 'Scan':
        return scan(state, request);
      case 'BatchGetItem':
        return batchGetItem(state, request, this.#faults);
      case 'BatchWriteItem':
        return batchWriteItem(state, request, this.#faults);
      case 'TransactWriteItems':
        return transactWriteItems(state, request, this.#faults, this.#tokens);
      case 'TransactGetItems':
        return transactGetItems(state, request);
      case 'CreateTable':
        return createTable(state, request, now);
      case 'DescribeTable':
        return describeTable(state, request);
      case 'DeleteTable':
        return deleteTable(state, request);
      case 'ListTables':
        return listTables(state, request);
    }
  }

  #toServiceError(error: unknown, requestId: string): unknown {
    if (error instanceof ModelValidationError) return validationException(error.message, requestId);
    if (error instanceof ModelResourceNotFoundError) return resourceNotFound(requestId);
    if (error instanceof ModelConditionFailedError) {
      return conditionalCheckFailed(requestId, error.item as Record<string, AttributeValue> | undefined);
    }
    if (error instanceof ModelTransactionCanceledError) return transactionCanceled(error.reasons, requestId);
    if (error instanceof IdempotentMismatchSignal) return idempotentParameterMismatch(requestId);
    if (error instanceof ModelTableExistsError) return resourceInUse(error.tableName, requestId);
    return error;
  }

  /** Creates a table at once (no call is counted or faulted), e.g. `{ TableName, KeySchema, AttributeDefinitions }`. */
  createTable(input: Parameters<typeof createTable>[1]): void {
    try {
      createTable(this.#state, input, this.#tokens.now());
    } catch (error) {
      throw this.#toServiceError(error, 'fake-dynamodb-setup');
    }
  }

  /** Every item of a table, in key order (copies). */
  dump(tableName: string): AttributeMap[] {
    return this.#table(tableName).dump();
  }

  /** One item by key (a copy), or `undefined`. */
  item(tableName: string, key: AttributeMap): AttributeMap | undefined {
    const table = this.#table(tableName);
    try {
      return table.get(table.checkKey(validateItem(key, 'Key')));
    } catch (error) {
      throw this.#toServiceError(error, 'fake-dynamodb-setup');
    }
  }

  /** Stores an item directly (validated like PutItem; no call is counted or faulted). */
  seed(tableName: string, items: readonly AttributeMap[]): void {
    const table = this.#table(tableName);
    for (const raw of items) {
      try {
        const item = validateItem(raw, 'Item');
        table.checkItemKey(item);
        checkItemSize(item);
        table.put(item);
      } catch (error) {
        throw this.#toServiceError(error, 'fake-dynamodb-setup');
      }
    }
  }

  #table(tableName: string): Table {
    const table = this.#state.tables.get(tableName);
    if (!table)
      throw new LocalAwsOptionsError(`FakeDynamoDB: no table ${tableName}`, {
        tableName,
        tables: [...this.#state.tables.keys()],
      });
    return table;
  }

  /** The number of calls per operation so far (every call counts, faulted or refused ones included). */
  get requestCounts(): Readonly<Partial<Record<DynamoDbOperation, number>>> {
    return Object.fromEntries(this.#counts);
  }

  /** The total number of calls so far. */
  get callCount(): number {
    return this.#calls;
  }

  /** Every item written or deleted so far, in order, with its size in bytes. */
  get writes(): readonly DynamoDbWriteRecord[] {
    return this.#state.writes;
  }

  /**
   * The changes made to a table's items, in order, as DynamoDB Streams would record them (with both
   * images): feed them to the stream event factories to drive a stream handler. Copies.
   */
  changes(tableName: string): DynamoDbChange[] {
    this.#table(tableName);
    return this.#state.changes
      .filter((change) => change.tableName === tableName)
      .map((change) => ({
        ...change,
        keys: cloneItem(change.keys),
        ...(change.oldImage ? { oldImage: cloneItem(change.oldImage) } : {}),
        ...(change.newImage ? { newImage: cloneItem(change.newImage) } : {}),
      }));
  }

  /** The faults injected so far. */
  get faultStats(): DynamoDbFaultStats {
    return this.#faults.stats;
  }

  /** Replaces the fault settings (restarts the seeded sequence). */
  setFaults(faults: DynamoDbFaults): void {
    this.#faults.set(faults);
  }

  /** Clears the call counts, the write log and the change log (tables are kept). */
  resetStats(): void {
    this.#counts.clear();
    this.#state.writes.length = 0;
    this.#state.changes.length = 0;
  }

  /** A deep copy of every table and the remembered ClientRequestTokens. */
  snapshot(): DynamoDbSnapshot {
    return {
      tables: [...this.#state.tables.values()].map((table) => ({
        name: table.name,
        keySchema: table.keySchema,
        description: { ...table.description },
        items: table.dump(),
      })),
      tokens: [...this.#tokens.tokens.entries()].map(([token, entry]) => [token, { ...entry }]),
    };
  }

  /** Puts the tables back as they were in `snapshot` (tables created since are dropped). */
  restore(snapshot: DynamoDbSnapshot): void {
    this.#state.tables.clear();
    for (const entry of snapshot.tables) {
      const table = new Table(entry.name, entry.keySchema, { ...entry.description });
      table.replaceAll(entry.items.map(cloneItem));
      this.#state.tables.set(entry.name, table);
    }
    this.#tokens.tokens.clear();
    for (const [token, entry] of snapshot.tokens) this.#tokens.tokens.set(token, { ...entry });
  }

  /** For `DynamoDBClient` compatibility: nothing to release. */
  destroy(): void {}
}
