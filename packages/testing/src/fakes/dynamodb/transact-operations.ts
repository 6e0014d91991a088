/**
 * TransactWriteItems and TransactGetItems: at most 100 actions and 4 MB, each item at most once,
 * all-or-nothing with one cancellation reason per action (`ConditionalCheckFailed`, `ValidationError`,
 * `TransactionConflict` or `None`, with the item when `ALL_OLD` was asked), and `ClientRequestToken`
 * idempotency for 10 minutes.
 */
import { createHash } from 'node:crypto';
import type {
  CancellationReason,
  TransactGetItemsCommandInput,
  TransactGetItemsCommandOutput,
  TransactWriteItem,
  TransactWriteItemsCommandInput,
  TransactWriteItemsCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type AttributeMap, itemSize, validateItem, valueSize } from './attribute-value';
import { project } from './expression-evaluator';
import { parseProjection } from './expression-parser';
import type { DynamoDbFaultPlan } from './fault-plan';
import {
  enforceCondition,
  type PreparedDelete,
  type PreparedPut,
  type PreparedUpdate,
  prepareDelete,
  preparePut,
  prepareUpdate,
  updatedItem,
  type WriteCondition,
} from './item-operations';
import type { ModelState } from './model-state';
import { ModelConditionFailedError, ModelValidationError } from './model-validation-error';
import { Placeholders } from './placeholders';
import { keySize, type Table } from './table';

/** The most actions of one transaction. */
export const MAX_TRANSACTION_ACTIONS = 100;
/** The most data one transaction may carry (4 MB). */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
/** How long a ClientRequestToken is remembered (10 minutes). */
export const CLIENT_REQUEST_TOKEN_TTL_MS = 10 * 60 * 1000;

type Output<T> = Omit<T, '$metadata'>;

/** The outcome of a cancelled transaction: one reason per action. */
export class ModelTransactionCanceledError extends Error {
  constructor(readonly reasons: CancellationReason[]) {
    super('Transaction cancelled');
    this.name = 'ModelTransactionCanceledError';
  }
}

/**
 * The ClientRequestToken memory of one model: per token, a digest of its transaction and when it
 * was applied, in the order they were applied, for as long as DynamoDB remembers a token.
 */
export interface RequestTokens {
  readonly tokens: Map<string, { fingerprint: string; at: number }>;
  readonly now: () => number;
}

type PreparedAction =
  | { readonly kind: 'put'; readonly prepared: PreparedPut }
  | { readonly kind: 'update'; readonly prepared: PreparedUpdate }
  | { readonly kind: 'delete'; readonly prepared: PreparedDelete }
  | { readonly kind: 'check'; readonly prepared: { table: Table; key: AttributeMap; write: WriteCondition } };

function prepareAction(state: ModelState, action: TransactWriteItem): PreparedAction {
  const present = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter(
    (kind) => action?.[kind] !== undefined,
  );
  if (present.length !== 1) {
    throw new ModelValidationError('TransactItems can only contain one of Check, Put, Update or Delete');
  }
  if (action.Put) return { kind: 'put', prepared: preparePut(state, action.Put) };
  if (action.Update) {
    if (action.Update.UpdateExpression === undefined) {
      throw new ModelValidationError(
        "1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null",
      );
    }
    return { kind: 'update', prepared: prepareUpdate(state, action.Update) };
  }
  if (action.Delete) return { kind: 'delete', prepared: prepareDelete(state, action.Delete) };
  const check = action.ConditionCheck!;
  if (check.ConditionExpression === undefined) {
    throw new ModelValidationError(
      "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
    );
  }
  const { table, key, write } = prepareDelete(state, check);
  return { kind: 'check', prepared: { table, key, write } };
}

function requestSize(action: PreparedAction, raw: TransactWriteItem): number {
  const values = Object.values(
    (raw.Put ?? raw.Update ?? raw.Delete ?? raw.ConditionCheck)?.ExpressionAttributeValues ?? {},
  ).reduce((sum, value) => sum + valueSize(value), 0);
  return (action.kind === 'put' ? action.prepared.size : keySize(action.prepared.key)) + values;
}

/**
 * A digest of a transaction's actions (a model that remembers each token for ten minutes must not
 * keep a copy of each transaction, up to 4 MB, for as long).
 */
function fingerprint(input: unknown): string {
  const text = JSON.stringify(input, (_key, value: unknown) =>
    value instanceof Uint8Array ? `b64:${Buffer.from(value).toString('base64')}` : value,
  );
  return createHash('sha256').update(text).digest('base64');
}

/** Remembers a token's transaction, and forgets the tokens older than ten minutes. */
function rememberToken(tokens: RequestTokens, token: string, items: readonly TransactWriteItem[]): void {
  const now = tokens.now();
  // Oldest first: stop at the first token still remembered (a clock set back only delays this).
  for (const [remembered, entry] of tokens.tokens) {
    if (now - entry.at < CLIENT_REQUEST_TOKEN_TTL_MS) break;
    tokens.tokens.delete(remembered);
  }
  // Deleted first so the map stays in the order the tokens were applied.
  tokens.tokens.delete(token);
  tokens.tokens.set(token, { fingerprint: fingerprint(items), at: now });
}

/** TransactWriteItems. */
export function transactWriteItems(
  state: ModelState,
  input: TransactWriteItemsCommandInput,
  faults: DynamoDbFaultPlan,
  tokens: RequestTokens,
): Output<TransactWriteItemsCommandOutput> {
  const items = input.TransactItems;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_TRANSACTION_ACTIONS) {
    throw new ModelValidationError(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${Array.isArray(items) && items.length > 0 ? 'less than or equal to 100' : 'greater than or equal to 1'}`,
    );
  }
  const token = input.ClientRequestToken;
  if (token !== undefined) {
    if (typeof token !== 'string' || token.length < 1 || token.length > 36) {
      throw new ModelValidationError(
        "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36",
      );
    }
    const remembered = tokens.tokens.get(token);
    if (remembered && tokens.now() - remembered.at < CLIENT_REQUEST_TOKEN_TTL_MS) {
      if (remembered.fingerprint !== fingerprint(items)) throw new IdempotentMismatchSignal();
      return {};
    }
  }
  const prepared = items.map((action) => prepareAction(state, action));
  const seen = new Set<string>();
  let bytes = 0;
  prepared.forEach((action, index) => {
    const id = `${action.prepared.table.name}\u0000${action.prepared.table.keyId(action.prepared.key)}`;
    if (seen.has(id))
      throw new ModelValidationError('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    bytes += requestSize(action, items[index]!);
  });
  if (bytes > MAX_TRANSACTION_BYTES) {
    throw new ModelValidationError('Transaction request size has exceeded the maximum allowed size of 4 MB');
  }
  if (faults.transactionConflict()) {
    throw new ModelTransactionCanceledError(
      prepared.map((_, index) =>
        index === 0
          ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
          : { Code: 'None' },
      ),
    );
  }
  const reasons: CancellationReason[] = [];
  const results: { item: AttributeMap | undefined; size: number }[] = [];
  const before: (AttributeMap | undefined)[] = [];
  for (const action of prepared) {
    const existing = action.prepared.table.get(action.prepared.key);
    before.push(existing);
    try {
      enforceCondition(action.prepared.write, existing);
      if (action.kind === 'update') results.push(updatedItem(action.prepared, existing));
      else if (action.kind === 'put')
        results.push({ item: action.prepared.item, size: action.prepared.size });
      else results.push({ item: undefined, size: 0 });
      reasons.push({ Code: 'None' });
    } catch (error) {
      results.push({ item: undefined, size: 0 });
      if (error instanceof ModelConditionFailedError) {
        reasons.push({
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(error.item === undefined ? {} : { Item: error.item as AttributeMap }),
        });
      } else if (error instanceof ModelValidationError) {
        reasons.push({ Code: 'ValidationError', Message: error.message });
      } else throw error;
    }
  }
  if (reasons.some((reason) => reason.Code !== 'None')) throw new ModelTransactionCanceledError(reasons);
  prepared.forEach((action, index) => {
    const { table, key } = action.prepared;
    if (action.kind === 'put' || action.kind === 'update') {
      table.put(results[index]!.item!);
      state.recordWrite(
        {
          operation: 'TransactWriteItems',
          tableName: table.name,
          kind: action.kind,
          key,
          sizeBytes: results[index]!.size,
        },
        { before: before[index], after: results[index]!.item },
      );
    } else if (action.kind === 'delete') {
      table.delete(key);
      state.recordWrite(
        { operation: 'TransactWriteItems', tableName: table.name, kind: 'delete', key, sizeBytes: 0 },
        { before: before[index], after: undefined },
      );
    }
  });
  if (token !== undefined) rememberToken(tokens, token, items);
  return {};
}

/** The model's internal signal for `IdempotentParameterMismatchException`. */
export class IdempotentMismatchSignal extends Error {
  constructor() {
    super('Request token was used with a different request within the last 10 minutes');
    this.name = 'IdempotentMismatchSignal';
  }
}

/** TransactGetItems. */
export function transactGetItems(
  state: ModelState,
  input: TransactGetItemsCommandInput,
): Output<TransactGetItemsCommandOutput> {
  const items = input.TransactItems;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_TRANSACTION_ACTIONS) {
    throw new ModelValidationError(
      "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
    );
  }
  const seen = new Set<string>();
  const gets = items.map((entry) => {
    const get = entry?.Get;
    if (!get) throw new ModelValidationError('TransactGetItems can only contain Get actions');
    const placeholders = new Placeholders(get.ExpressionAttributeNames, undefined);
    const projection =
      get.ProjectionExpression === undefined
        ? undefined
        : parseProjection(get.ProjectionExpression, placeholders);
    placeholders.checkAllUsed();
    const table = state.table(get.TableName);
    const key = table.checkKey(validateItem(get.Key, 'Key'));
    const id = `${table.name}\u0000${table.keyId(key)}`;
    if (seen.has(id))
      throw new ModelValidationError('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    return { table, key, projection };
  });
  let bytes = 0;
  const responses = gets.map(({ table, key, projection }) => {
    const item = table.get(key);
    if (item === undefined) return {};
    const returned = projection ? project(item, projection) : item;
    bytes += itemSize(returned);
    return { Item: returned };
  });
  if (bytes > MAX_TRANSACTION_BYTES) {
    throw new ModelValidationError(
      'The aggregate size of the items in the transaction exceeded the maximum of 4 MB',
    );
  }
  return { Responses: responses };
}
