/**
 * CreateTable, DescribeTable, DeleteTable and ListTables. Tables are ACTIVE at once; secondary
 * indexes are refused (the model does not implement them).
 */
import type {
  CreateTableCommandInput,
  CreateTableCommandOutput,
  DeleteTableCommandInput,
  DeleteTableCommandOutput,
  DescribeTableCommandInput,
  DescribeTableCommandOutput,
  ListTablesCommandInput,
  ListTablesCommandOutput,
  ScalarAttributeType,
  TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { ModelState } from './model-state';
import { ModelValidationError } from './model-validation-error';
import { Table, type TableKeySchema } from './table';

type Output<T> = Omit<T, '$metadata'>;

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** The internal signal for `ResourceInUseException`. */
export class ModelTableExistsError extends Error {
  constructor(readonly tableName: string) {
    super(`Table already exists: ${tableName}`);
    this.name = 'ModelTableExistsError';
  }
}

function checkTableName(name: unknown): string {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new ModelValidationError(
      `1 validation error detected: Value '${String(name)}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255`,
    );
  }
  return name;
}

function keySchemaOf(input: CreateTableCommandInput): TableKeySchema {
  const schema = input.KeySchema ?? [];
  const hash = schema.filter((element) => element.KeyType === 'HASH');
  const range = schema.filter((element) => element.KeyType === 'RANGE');
  if (
    hash.length !== 1 ||
    range.length > 1 ||
    schema.length !== hash.length + range.length ||
    schema[0]?.KeyType !== 'HASH'
  ) {
    throw new ModelValidationError(
      '1 validation error detected: Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
    );
  }
  const definitions = input.AttributeDefinitions ?? [];
  const typeOfKey = (name: string | undefined): ScalarAttributeType => {
    const definition = definitions.find((entry) => entry.AttributeName === name);
    if (!definition || !['S', 'N', 'B'].includes(definition.AttributeType ?? '')) {
      throw new ModelValidationError(
        'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions.',
      );
    }
    return definition.AttributeType as ScalarAttributeType;
  };
  const partitionKey = { name: hash[0]!.AttributeName!, type: typeOfKey(hash[0]!.AttributeName) };
  const sortKey = range[0]
    ? { name: range[0].AttributeName!, type: typeOfKey(range[0].AttributeName) }
    : undefined;
  if (definitions.length !== schema.length) {
    throw new ModelValidationError(
      'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    );
  }
  return sortKey ? { partitionKey, sortKey } : { partitionKey };
}

/** CreateTable. */
export function createTable(
  state: ModelState,
  input: CreateTableCommandInput,
  now: number,
): Output<CreateTableCommandOutput> {
  const name = checkTableName(input.TableName);
  if (input.GlobalSecondaryIndexes?.length || input.LocalSecondaryIndexes?.length) {
    throw new ModelValidationError('The DynamoDB model does not support secondary indexes');
  }
  const keySchema = keySchemaOf(input);
  if (state.tables.has(name)) throw new ModelTableExistsError(name);
  const arn = `arn:aws:dynamodb:${state.region}:000000000000:table/${name}`;
  const streams = input.StreamSpecification?.StreamEnabled === true;
  const description: TableDescription = {
    TableName: name,
    TableArn: arn,
    TableId: `fake-${state.tables.size + 1}`,
    TableStatus: 'ACTIVE',
    CreationDateTime: new Date(now),
    KeySchema: input.KeySchema,
    AttributeDefinitions: input.AttributeDefinitions,
    BillingModeSummary: { BillingMode: input.BillingMode ?? 'PROVISIONED' },
    ...(input.ProvisionedThroughput
      ? { ProvisionedThroughput: { ...input.ProvisionedThroughput, NumberOfDecreasesToday: 0 } }
      : {}),
    ...(streams
      ? {
          StreamSpecification: input.StreamSpecification,
          LatestStreamArn: `${arn}/stream/${new Date(now).toISOString()}`,
          LatestStreamLabel: new Date(now).toISOString(),
        }
      : {}),
    ItemCount: 0,
    TableSizeBytes: 0,
  };
  state.tables.set(name, new Table(name, keySchema, description));
  return { TableDescription: describe(state.tables.get(name)!) };
}

function describe(table: Table): TableDescription {
  return {
    ...table.description,
    ItemCount: table.size,
    TableSizeBytes: table.sizeBytes,
  };
}

/** DescribeTable. */
export function describeTable(
  state: ModelState,
  input: DescribeTableCommandInput,
): Output<DescribeTableCommandOutput> {
  return { Table: describe(state.table(input.TableName)) };
}

/** DeleteTable. */
export function deleteTable(
  state: ModelState,
  input: DeleteTableCommandInput,
): Output<DeleteTableCommandOutput> {
  const table = state.table(input.TableName);
  state.tables.delete(table.name);
  return { TableDescription: { ...describe(table), TableStatus: 'DELETING' } };
}

/** ListTables (names in order, paged by `Limit` and `ExclusiveStartTableName`). */
export function listTables(
  state: ModelState,
  input: ListTablesCommandInput,
): Output<ListTablesCommandOutput> {
  const limit = input.Limit ?? 100;
  const names = [...state.tables.keys()]
    .sort()
    .filter((name) => input.ExclusiveStartTableName === undefined || name > input.ExclusiveStartTableName);
  const page = names.slice(0, limit);
  return {
    TableNames: page,
    ...(names.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}),
  };
}
