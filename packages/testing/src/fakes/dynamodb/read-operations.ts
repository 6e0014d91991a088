/**
 * Query and Scan: key conditions, filters, projections, `Limit`, `ExclusiveStartKey` /
 * `LastEvaluatedKey`, and the 1 MB page DynamoDB reads at most per call (counted on the items
 * read, before filtering and projection).
 */
import type {
  AttributeValue,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type AttributeMap, cloneItem, compareScalars, validateItem } from './attribute-value';
import { checkCondition, evaluateCondition, project } from './expression-evaluator';
import {
  type Condition,
  type Path,
  Placeholders,
  parseCondition,
  parseProjection,
} from './expression-parser';
import { refuseLegacy } from './item-operations';
import type { ModelState } from './model-state';
import { ModelValidationError } from './model-validation-error';
import { partitionHash, type StoredItem, type Table } from './table';

/** The most data one Query or Scan page reads, in bytes (1 MB). */
export const MAX_PAGE_BYTES = 1024 * 1024;

type Output<T> = Omit<T, '$metadata'>;

interface ReadOptions {
  readonly filter: Condition | undefined;
  readonly projection: Path[] | undefined;
  readonly limit: number | undefined;
  readonly countOnly: boolean;
}

function readOptions(input: QueryCommandInput | ScanCommandInput, placeholders: Placeholders): ReadOptions {
  if (input.Limit !== undefined && (!Number.isInteger(input.Limit) || input.Limit < 1)) {
    throw new ModelValidationError(
      `1 validation error detected: Value '${input.Limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  if (input.IndexName !== undefined) {
    throw new ModelValidationError('The DynamoDB model does not support secondary indexes (IndexName)');
  }
  if (
    input.Select !== undefined &&
    !['ALL_ATTRIBUTES', 'COUNT', 'SPECIFIC_ATTRIBUTES'].includes(input.Select)
  ) {
    throw new ModelValidationError(
      `1 validation error detected: Value '${input.Select}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]`,
    );
  }
  const filter =
    input.FilterExpression === undefined
      ? undefined
      : parseCondition(input.FilterExpression, 'FilterExpression', placeholders);
  if (filter) checkCondition(filter, 'FilterExpression');
  const projection =
    input.ProjectionExpression === undefined
      ? undefined
      : parseProjection(input.ProjectionExpression, placeholders);
  if (input.Select === 'COUNT' && projection) {
    throw new ModelValidationError(
      'Cannot specify the ProjectionExpression when choosing to get only the Count',
    );
  }
  return { filter, projection, limit: input.Limit, countOnly: input.Select === 'COUNT' };
}

function filterReferencesKey(condition: Condition, keyNames: readonly string[]): string | undefined {
  const paths: Path[] = [];
  const visit = (node: Condition): void => {
    if (node.kind === 'and' || node.kind === 'or') {
      visit(node.left);
      visit(node.right);
    } else if (node.kind === 'not') visit(node.operand);
    else {
      const operands =
        node.kind === 'compare'
          ? [node.left, node.right]
          : node.kind === 'between'
            ? [node.value, node.lower, node.upper]
            : node.kind === 'in'
              ? [node.value, ...node.list]
              : node.kind === 'function'
                ? node.args
                : [];
      for (const operand of operands) if (operand.kind !== 'value') paths.push(operand.path);
    }
  };
  visit(condition);
  for (const path of paths) {
    const top = path[0];
    if (top?.kind === 'name' && keyNames.includes(top.name)) return top.name;
  }
  return undefined;
}

/** Reads `candidates` (stored items, not copies) in order into one page of copies. */
function page(
  table: Table,
  candidates: readonly StoredItem[],
  options: ReadOptions,
): { Items?: AttributeMap[]; Count: number; ScannedCount: number; LastEvaluatedKey?: AttributeMap } {
  const items: AttributeMap[] = [];
  let scanned = 0;
  let bytes = 0;
  let lastEvaluated: AttributeMap | undefined;
  for (const { item, size } of candidates) {
    scanned += 1;
    bytes += size;
    lastEvaluated = item;
    if (!options.filter || evaluateCondition(options.filter, item, 'FilterExpression')) {
      items.push(options.projection ? project(item, options.projection) : cloneItem(item));
    }
    const limitReached = options.limit !== undefined && scanned >= options.limit;
    if (limitReached || (bytes >= MAX_PAGE_BYTES && scanned < candidates.length)) {
      return {
        ...(options.countOnly ? {} : { Items: items }),
        Count: items.length,
        ScannedCount: scanned,
        LastEvaluatedKey: table.keyOf(lastEvaluated),
      };
    }
  }
  return { ...(options.countOnly ? {} : { Items: items }), Count: items.length, ScannedCount: scanned };
}

interface KeyCondition {
  readonly partitionValue: AttributeValue;
  readonly sortCondition: Condition | undefined;
}

function keyCondition(condition: Condition, table: Table): KeyCondition {
  const { partitionKey, sortKey } = table.keySchema;
  const parts = condition.kind === 'and' ? [condition.left, condition.right] : [condition];
  if (
    parts.some((part) => part.kind === 'and' && parts.length > 1) ||
    parts.some((part) => ['or', 'not', 'in'].includes(part.kind))
  ) {
    throw new ModelValidationError('Invalid operator used in KeyConditionExpression: OR');
  }
  let partitionValue: AttributeValue | undefined;
  let sortCondition: Condition | undefined;
  for (const part of parts) {
    const subject =
      part.kind === 'compare'
        ? part.left
        : part.kind === 'between'
          ? part.value
          : part.kind === 'function'
            ? part.args[0]
            : undefined;
    const name =
      subject?.kind === 'path' && subject.path.length === 1 && subject.path[0]!.kind === 'name'
        ? subject.path[0]!.name
        : undefined;
    if (
      name === partitionKey.name &&
      part.kind === 'compare' &&
      part.op === '=' &&
      part.right.kind === 'value' &&
      partitionValue === undefined
    ) {
      if (part.right.value[partitionKey.type] === undefined) {
        throw new ModelValidationError(
          'One or more parameter values were invalid: Condition parameter type does not match schema type',
        );
      }
      partitionValue = part.right.value;
      continue;
    }
    const sortAllowed =
      (part.kind === 'compare' && part.op !== '<>' && part.right.kind === 'value') ||
      (part.kind === 'between' && part.lower.kind === 'value' && part.upper.kind === 'value') ||
      (part.kind === 'function' && part.name === 'begins_with' && part.args[1]?.kind === 'value');
    if (sortKey && name === sortKey.name && sortAllowed && sortCondition === undefined) {
      const values =
        part.kind === 'compare'
          ? [part.right]
          : part.kind === 'between'
            ? [part.lower, part.upper]
            : [part.args[1]!];
      for (const operand of values) {
        if (operand.kind === 'value' && operand.value[sortKey.type] === undefined) {
          throw new ModelValidationError(
            'One or more parameter values were invalid: Condition parameter type does not match schema type',
          );
        }
      }
      if (part.kind === 'function' && sortKey.type === 'N') {
        throw new ModelValidationError(
          'Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
        );
      }
      sortCondition = part;
      continue;
    }
    throw new ModelValidationError(
      name === undefined || (name !== partitionKey.name && name !== sortKey?.name)
        ? `Query condition missed key schema element${name === undefined ? '' : `: ${partitionKey.name}`}`
        : 'Query key condition not supported',
    );
  }
  if (partitionValue === undefined)
    throw new ModelValidationError(`Query condition missed key schema element: ${partitionKey.name}`);
  return { partitionValue, sortCondition };
}

/** Query (tables only: the model has no secondary indexes). */
export function query(state: ModelState, input: QueryCommandInput): Output<QueryCommandOutput> {
  refuseLegacy(input, ['KeyConditions', 'QueryFilter', 'ConditionalOperator', 'AttributesToGet']);
  if (input.KeyConditionExpression === undefined) {
    throw new ModelValidationError(
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
    );
  }
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const condition = parseCondition(input.KeyConditionExpression, 'KeyConditionExpression', placeholders);
  const options = readOptions(input, placeholders);
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  const { partitionValue, sortCondition } = keyCondition(condition, table);
  const keyInFilter = options.filter && filterReferencesKey(options.filter, table.keyNames);
  if (keyInFilter) {
    throw new ModelValidationError(
      `Filter Expression can only contain non-primary key attributes: Primary key attribute: ${keyInFilter}`,
    );
  }
  let candidates = [...table.partitionItems(partitionValue)];
  if (sortCondition) {
    candidates = candidates.filter(({ item }) =>
      evaluateCondition(sortCondition, item, 'KeyConditionExpression'),
    );
  }
  const forward = input.ScanIndexForward !== false;
  if (!forward) candidates.reverse();
  if (input.ExclusiveStartKey !== undefined) {
    const start = table.checkKey(validateItem(input.ExclusiveStartKey, 'ExclusiveStartKey'));
    const pk = table.keySchema.partitionKey.name;
    if (compareScalars(start[pk]!, partitionValue) !== 0) {
      throw new ModelValidationError(
        'The provided starting key is invalid: The provided key element does not match the schema',
      );
    }
    candidates = candidates.filter(({ item }) => {
      const order = table.compareSortKeys(item, start);
      return forward ? order > 0 : order < 0;
    });
  }
  return page(table, candidates, options);
}

/** Scan, with parallel-scan segments by a hash of the partition key. */
export function scan(state: ModelState, input: ScanCommandInput): Output<ScanCommandOutput> {
  refuseLegacy(input, ['ScanFilter', 'ConditionalOperator', 'AttributesToGet']);
  if ((input.Segment === undefined) !== (input.TotalSegments === undefined)) {
    throw new ModelValidationError(
      'The TotalSegments parameter is required but was not present in the request when Segment parameter is present',
    );
  }
  if (
    input.TotalSegments !== undefined &&
    (input.TotalSegments < 1 ||
      input.TotalSegments > 1_000_000 ||
      input.Segment! < 0 ||
      input.Segment! >= input.TotalSegments)
  ) {
    throw new ModelValidationError(
      `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${input.Segment} is not less than TotalSegments: ${input.TotalSegments}`,
    );
  }
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const options = readOptions(input, placeholders);
  placeholders.checkAllUsed();
  const table = state.table(input.TableName);
  let entries = table.scanItems();
  if (input.TotalSegments !== undefined) {
    const total = input.TotalSegments;
    entries = entries.filter((entry) => Math.floor(entry.hash * total) === input.Segment);
  }
  if (input.ExclusiveStartKey !== undefined) {
    // Continue after where the start key is (or would be, if its item was deleted since).
    const start = table.checkKey(validateItem(input.ExclusiveStartKey, 'ExclusiveStartKey'));
    const pk = table.keySchema.partitionKey.name;
    const startHash = partitionHash(start[pk]!);
    entries = entries.filter(({ item, hash }) => {
      const byPartition = hash - startHash || compareScalars(item[pk]!, start[pk]!);
      return byPartition > 0 || (byPartition === 0 && table.compareSortKeys(item, start) > 0);
    });
  }
  return page(table, entries, options);
}
