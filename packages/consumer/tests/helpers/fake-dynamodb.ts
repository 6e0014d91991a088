/**
 * An in-memory DynamoDB for unit tests: the operations the consumer uses, with the conditions it
 * writes, a request log, and injectable failures. Integration tests use DynamoDB Local instead.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Failure = (input: Record<string, unknown>) => Error | undefined;

export class FakeDynamoDb {
  readonly config = {};
  readonly tables = new Map<string, Map<string, Item>>();
  readonly requests: { operation: string; input: Record<string, unknown> }[] = [];
  private readonly failures = new Map<
    string,
    { where: ((input: Record<string, unknown>) => boolean) | undefined; failure: Failure }[]
  >();
  /** Leaves this many keys unprocessed in the next BatchGetItem (to test the retry). */
  unprocessedOnce = 0;

  /** Makes the next call(s) of an operation fail (returning undefined from `failure` lets it through). */
  failNext(
    operation: string,
    failure: Error | Failure,
    times = 1,
    /** Only requests that match take (and use up) this failure. */
    where?: (input: Record<string, unknown>) => boolean,
  ): void {
    const list = this.failures.get(operation) ?? [];
    for (let i = 0; i < times; i += 1) {
      list.push({ where, failure: typeof failure === 'function' ? failure : () => failure });
    }
    this.failures.set(operation, list);
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

  items(tableName: string): Item[] {
    return [...(this.tables.get(tableName)?.values() ?? [])];
  }

  get(tableName: string, pk: string, sk: string): Item | undefined {
    return this.table(tableName).get(`${pk}\u0000${sk}`);
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const operation = command.constructor.name.replace(/Command$/, '');
    const input = structuredClone(command.input);
    this.requests.push({ operation, input });
    const pending = this.failures.get(operation) ?? [];
    const index = pending.findIndex((entry) => entry.where === undefined || entry.where(input));
    const failure = index < 0 ? undefined : pending.splice(index, 1)[0]!.failure;
    const error = failure?.(input);
    if (error) throw error;
    await Promise.resolve();
    switch (operation) {
      case 'BatchGetItem':
        return this.batchGet(input as never);
      case 'GetItem': {
        const { TableName, Key } = input as { TableName: string; Key: Item };
        const item = this.table(TableName).get(keyOf(Key));
        return item ? { Item: structuredClone(item) } : {};
      }
      case 'PutItem': {
        const put = input as unknown as PutInput;
        const table = this.table(put.TableName);
        const current = table.get(keyOf(put.Item));
        if (!conditionHolds(put, current)) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
            ...(put.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && current
              ? { Item: structuredClone(current) }
              : {}),
          });
        }
        table.set(keyOf(put.Item), structuredClone(put.Item));
        return (put as { ReturnValues?: string }).ReturnValues === 'ALL_OLD' && current
          ? { Attributes: structuredClone(current) }
          : {};
      }
      case 'UpdateItem': {
        const update = input as unknown as PutInput & { Key: Item; UpdateExpression: string };
        const table = this.table(update.TableName);
        const current = table.get(keyOf(update.Key));
        if (!conditionHolds(update, current)) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        const next: Item = structuredClone(current ?? update.Key);
        const match = /^SET (.+?)(?: REMOVE (.+))?$/.exec(update.UpdateExpression);
        if (!match) throw new Error(`FakeDynamoDb: update ${update.UpdateExpression} is not supported`);
        const nameOf = (name: string) =>
          name.startsWith('#') ? update.ExpressionAttributeNames![name]! : name;
        for (const assignment of match[1]!.split(',')) {
          const [name, value] = assignment.split('=').map((part) => part.trim());
          next[nameOf(name!)] = update.ExpressionAttributeValues![value!]!;
        }
        for (const name of match[2]?.split(',') ?? []) delete next[nameOf(name.trim())];
        table.set(keyOf(update.Key), next);
        const returnOld = (update as { ReturnValues?: string }).ReturnValues === 'ALL_OLD';
        return returnOld && current ? { Attributes: structuredClone(current) } : {};
      }
      case 'DeleteItem': {
        const { TableName, Key } = input as { TableName: string; Key: Item };
        const table = this.table(TableName);
        const current = table.get(keyOf(Key));
        table.delete(keyOf(Key));
        return current ? { Attributes: current } : {};
      }
      case 'BatchWriteItem': {
        const { RequestItems } = input as {
          RequestItems: Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>;
        };
        for (const [tableName, requests] of Object.entries(RequestItems)) {
          const table = this.table(tableName);
          for (const request of requests) {
            if (request.PutRequest)
              table.set(keyOf(request.PutRequest.Item), structuredClone(request.PutRequest.Item));
            if (request.DeleteRequest) table.delete(keyOf(request.DeleteRequest.Key));
          }
        }
        return {};
      }
      case 'Query': {
        const query = input as {
          TableName: string;
          ExpressionAttributeValues: Item;
          Limit?: number;
          ExclusiveStartKey?: Item;
        };
        const pk = query.ExpressionAttributeValues[':pk']!.S!;
        const items = [...this.table(query.TableName).values()]
          .filter((item) => item.pk!.S === pk)
          .sort((a, b) => (a.sk!.S! < b.sk!.S! ? -1 : 1));
        const start = query.ExclusiveStartKey
          ? items.findIndex((item) => item.sk!.S! > query.ExclusiveStartKey!.sk!.S!)
          : 0;
        const rest = start < 0 ? [] : items.slice(start);
        const page = rest.slice(0, query.Limit ?? rest.length);
        const more = rest.length > page.length;
        return {
          Items: page,
          ...(more ? { LastEvaluatedKey: { pk: page.at(-1)!.pk, sk: page.at(-1)!.sk } } : {}),
        };
      }
      case 'TransactWriteItems':
        return this.transact(input as never);
      default:
        throw new Error(`FakeDynamoDb: ${operation} is not supported`);
    }
  }

  private batchGet(input: { RequestItems: Record<string, { Keys: Item[] }> }) {
    const Responses: Record<string, Item[]> = {};
    const UnprocessedKeys: Record<string, { Keys: Item[] }> = {};
    for (const [tableName, { Keys }] of Object.entries(input.RequestItems)) {
      if (Keys.length > 100) throw new Error('FakeDynamoDb: more than 100 keys in BatchGetItem');
      let keys = Keys;
      if (this.unprocessedOnce > 0) {
        UnprocessedKeys[tableName] = { Keys: keys.slice(0, this.unprocessedOnce) };
        keys = keys.slice(this.unprocessedOnce);
        this.unprocessedOnce = 0;
      }
      Responses[tableName] = keys
        .map((key) => this.table(tableName).get(keyOf(key)))
        .filter((item): item is Item => item !== undefined)
        .map((item) => structuredClone(item));
    }
    return { Responses, UnprocessedKeys };
  }

  private transact(input: { TransactItems: Record<string, Record<string, unknown>>[] }) {
    const reasons: { Code: string; Item?: Item }[] = [];
    let cancelled = false;
    for (const entry of input.TransactItems) {
      const [kind, body] = Object.entries(entry)[0]! as unknown as [string, PutInput & { Key?: Item }];
      const key = kind === 'Put' ? keyOf(body.Item) : keyOf(body.Key!);
      const current = this.table(body.TableName).get(key);
      if (!conditionHolds(body, current)) {
        cancelled = true;
        reasons.push({
          Code: 'ConditionalCheckFailed',
          ...(body.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && current ? { Item: current } : {}),
        });
      } else {
        reasons.push({ Code: 'None' });
      }
    }
    if (cancelled) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: reasons,
      });
    }
    for (const entry of input.TransactItems) {
      const [kind, body] = Object.entries(entry)[0]! as unknown as [string, PutInput & { Key?: Item }];
      const table = this.table(body.TableName);
      if (kind === 'Put') table.set(keyOf(body.Item), structuredClone(body.Item));
      else if (kind === 'Delete') table.delete(keyOf(body.Key!));
      else if (kind === 'Update') throw new Error('FakeDynamoDb: Update in transactions is not supported');
    }
    return {};
  }

  private table(name: string): Map<string, Item> {
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }
}

interface PutInput {
  TableName: string;
  Item: Item;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  ReturnValuesOnConditionCheckFailure?: string;
}

/** Whether a request writes the consumer's in-flight marker. */
export function isMarkerRequest(input: Record<string, unknown>): boolean {
  return JSON.stringify(input).includes('#in-flight');
}

/** Whether a request writes a checkpoint item. */
export function isCheckpointRequest(input: Record<string, unknown>): boolean {
  return JSON.stringify(input).includes('"sk":{"S":"checkpoint"}');
}

function keyOf(item: Item): string {
  return `${item.pk!.S}\u0000${item.sk!.S}`;
}

function conditionHolds(input: PutInput, current: Item | undefined): boolean {
  const expression = input.ConditionExpression;
  if (expression === undefined) return true;
  if (expression === 'attribute_not_exists(pk)') return current === undefined;
  if (expression === 'attribute_exists(pk)') return current !== undefined;
  const match = /^(#?\w+) = (:\w+)$/.exec(expression);
  if (match) {
    const name = match[1]!.startsWith('#') ? input.ExpressionAttributeNames![match[1]!]! : match[1]!;
    const value = input.ExpressionAttributeValues![match[2]!]!;
    return current !== undefined && JSON.stringify(current[name]) === JSON.stringify(value);
  }
  throw new Error(`FakeDynamoDb: condition ${expression} is not supported`);
}
