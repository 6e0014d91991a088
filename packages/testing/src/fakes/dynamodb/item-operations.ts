/**
 * GetItem, PutItem, UpdateItem and DeleteItem: validation as DynamoDB does it, the condition
 * checked against the stored item, then one atomic change.
 */
import type {
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type AttributeMap, checkItemSize, validateItem } from './attribute-value';
import { checkCondition, evaluateCondition, project } from './expression-evaluator';
import {
  type Condition,
  type Path,
  Placeholders,
  parseCondition,
  parseProjection,
  parseUpdate,
  type UpdateAction,
} from './expression-parser';
import type { ModelState } from './model-state';
import { ModelConditionFailedError, ModelValidationError } from './model-validation-error';
import type { Table } from './table';
import { applyUpdate, checkUpdate } from './update-expression';

type Output<T> = Omit<T, '$metadata'>;

/** Refuses a ReturnValues setting the operation does not allow. */
export function checkReturnValues(
  value: string | undefined,
  allowed: readonly string[],
  parameter = 'ReturnValues',
): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new ModelValidationError(
      `1 validation error detected: Value '${value}' at '${parameter.charAt(0).toLowerCase()}${parameter.slice(1)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
    );
  }
}

/** Refuses the legacy parameters the model does not implement (use expressions instead). */
export function refuseLegacy(input: object, names: readonly string[]): void {
  for (const name of names) {
    if ((input as Record<string, unknown>)[name] !== undefined) {
      throw new ModelValidationError(
        `The DynamoDB model supports expressions only; the legacy parameter ${name} is not supported (use the matching *Expression parameter)`,
      );
    }
  }
}

const LEGACY = ['Expected', 'ConditionalOperator', 'AttributesToGet', 'AttributeUpdates'];

/** A write's parsed condition (if any) and the ALL_OLD-on-failure choice. */
export interface WriteCondition {
  readonly condition: Condition | undefined;
  readonly returnOldOnFailure: boolean;
}

/** Parses a ConditionExpression (with its placeholders' bookkeeping). */
export function parseWriteCondition(
  expression: string | undefined,
  placeholders: Placeholders,
  returnValuesOnConditionCheckFailure: string | undefined,
): WriteCondition {
  checkReturnValues(
    returnValuesOnConditionCheckFailure,
    ['ALL_OLD', 'NONE'],
    'ReturnValuesOnConditionCheckFailure',
  );
  const condition =
    expression === undefined ? undefined : parseCondition(expression, 'ConditionExpression', placeholders);
  if (condition) checkCondition(condition, 'ConditionExpression');
  return { condition, returnOldOnFailure: returnValuesOnConditionCheckFailure === 'ALL_OLD' };
}

/** Throws the condition failure when `condition` does not hold for `existing`. */
export function enforceCondition(write: WriteCondition, existing: AttributeMap | undefined): void {
  if (write.condition && !evaluateCondition(write.condition, existing, 'ConditionExpression')) {
    throw new ModelConditionFailedError(write.returnOldOnFailure ? existing : undefined);
  }
}

/** GetItem. */
export function getItem(state: ModelState, input: GetItemCommandInput): Output<GetItemCommandOutput> {
  refuseLegacy(input, LEGACY);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, undefined);
  if ((input as { ExpressionAttributeValues?: unknown }).ExpressionAttributeValues !== undefined) {
    throw new ModelValidationError(
      'ExpressionAttributeValues can only be specified when using expressions: ConditionExpression, FilterExpression, KeyConditionExpression or UpdateExpression',
    );
  }
  const projection =
    input.ProjectionExpression === undefined
      ? undefined
      : parseProjection(input.ProjectionExpression, placeholders);
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  const key = table.checkKey(validateItem(input.Key as AttributeMap, 'Key'));
  const item = table.get(key);
  if (item === undefined) return {};
  return { Item: projection ? project(item, projection) : item };
}

/** A prepared PutItem (validated; not yet applied). */
export interface PreparedPut {
  readonly table: Table;
  readonly item: AttributeMap;
  readonly key: AttributeMap;
  readonly size: number;
  readonly write: WriteCondition;
}

/** Validates a Put (PutItem or a transaction's Put). */
export function preparePut(
  state: ModelState,
  input: {
    TableName?: string;
    Item?: AttributeMap;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: AttributeMap;
    ReturnValuesOnConditionCheckFailure?: string;
  },
): PreparedPut {
  refuseLegacy(input, LEGACY);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const write = parseWriteCondition(
    input.ConditionExpression,
    placeholders,
    input.ReturnValuesOnConditionCheckFailure,
  );
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  const item = validateItem(input.Item, 'Item');
  const key = table.checkItemKey(item);
  const size = checkItemSize(item);
  return { table, item, key, size, write };
}

/** PutItem. */
export function putItem(state: ModelState, input: PutItemCommandInput): Output<PutItemCommandOutput> {
  checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const put = preparePut(state, input);
  const existing = put.table.get(put.key);
  enforceCondition(put.write, existing);
  put.table.put(put.item);
  state.recordWrite(
    { operation: 'PutItem', tableName: put.table.name, kind: 'put', key: put.key, sizeBytes: put.size },
    { before: existing, after: put.item },
  );
  return input.ReturnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {};
}

/** A prepared UpdateItem (validated; not yet applied). */
export interface PreparedUpdate {
  readonly table: Table;
  readonly key: AttributeMap;
  readonly actions: readonly UpdateAction[];
  readonly write: WriteCondition;
}

/** Validates an Update (UpdateItem or a transaction's Update). */
export function prepareUpdate(
  state: ModelState,
  input: {
    TableName?: string;
    Key?: AttributeMap;
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: AttributeMap;
    ReturnValuesOnConditionCheckFailure?: string;
  },
): PreparedUpdate {
  refuseLegacy(input, LEGACY);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const actions =
    input.UpdateExpression === undefined ? [] : parseUpdate(input.UpdateExpression, placeholders);
  const write = parseWriteCondition(
    input.ConditionExpression,
    placeholders,
    input.ReturnValuesOnConditionCheckFailure,
  );
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  const key = table.checkKey(validateItem(input.Key, 'Key'));
  checkUpdate(actions, table.keyNames);
  return { table, key, actions, write };
}

/** Computes an update's new item (validated and size-checked) from the stored one. */
export function updatedItem(
  update: PreparedUpdate,
  existing: AttributeMap | undefined,
): { item: AttributeMap; size: number } {
  const item = validateItem(applyUpdate(existing, update.key, update.actions), 'Item');
  return { item, size: checkItemSize(item) };
}

/** UpdateItem. */
export function updateItem(
  state: ModelState,
  input: UpdateItemCommandInput,
): Output<UpdateItemCommandOutput> {
  checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
  const update = prepareUpdate(state, input);
  const existing = update.table.get(update.key);
  enforceCondition(update.write, existing);
  const { item, size } = updatedItem(update, existing);
  update.table.put(item);
  state.recordWrite(
    {
      operation: 'UpdateItem',
      tableName: update.table.name,
      kind: 'update',
      key: update.key,
      sizeBytes: size,
    },
    { before: existing, after: item },
  );
  const updatedPaths: Path[] = update.actions.map((action) => action.path);
  switch (input.ReturnValues) {
    case 'ALL_OLD':
      return existing ? { Attributes: existing } : {};
    case 'ALL_NEW':
      return { Attributes: item };
    case 'UPDATED_OLD': {
      const old = existing ? project(existing, updatedPaths) : {};
      return Object.keys(old).length > 0 ? { Attributes: old } : {};
    }
    case 'UPDATED_NEW': {
      const updated = project(item, updatedPaths);
      return Object.keys(updated).length > 0 ? { Attributes: updated } : {};
    }
    default:
      return {};
  }
}

/** A prepared DeleteItem (validated; not yet applied). */
export interface PreparedDelete {
  readonly table: Table;
  readonly key: AttributeMap;
  readonly write: WriteCondition;
}

/** Validates a Delete (DeleteItem or a transaction's Delete). */
export function prepareDelete(
  state: ModelState,
  input: {
    TableName?: string;
    Key?: AttributeMap;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: AttributeMap;
    ReturnValuesOnConditionCheckFailure?: string;
  },
): PreparedDelete {
  refuseLegacy(input, LEGACY);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const write = parseWriteCondition(
    input.ConditionExpression,
    placeholders,
    input.ReturnValuesOnConditionCheckFailure,
  );
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  const key = table.checkKey(validateItem(input.Key, 'Key'));
  return { table, key, write };
}

/** DeleteItem. */
export function deleteItem(
  state: ModelState,
  input: DeleteItemCommandInput,
): Output<DeleteItemCommandOutput> {
  checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const del = prepareDelete(state, input);
  const existing = del.table.get(del.key);
  enforceCondition(del.write, existing);
  del.table.delete(del.key);
  state.recordWrite(
    { operation: 'DeleteItem', tableName: del.table.name, kind: 'delete', key: del.key, sizeBytes: 0 },
    { before: existing, after: undefined },
  );
  return input.ReturnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {};
}
