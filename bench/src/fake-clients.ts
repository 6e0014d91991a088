/**
 * In-memory stand-ins for the SDK clients, so CPU benchmarks measure Tidemark's own work and not
 * the network or an emulator. They answer like the services for the operations the publisher and
 * the consumer use, and count calls by operation.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

interface Command {
  readonly input: Record<string, unknown>;
  readonly constructor: { readonly name: string };
}

/** A client whose `send` answers in memory; `calls` counts by operation (`PutRecords`, `BatchGetItem`, …). */
export interface FakeClient {
  readonly config: Record<string, unknown>;
  readonly calls: Map<string, number>;
  send(command: unknown): Promise<unknown>;
}

const operationOf = (command: Command) => command.constructor.name.replace(/Command$/, '');

function counted(handle: (operation: string, input: Record<string, unknown>) => unknown): FakeClient {
  const calls = new Map<string, number>();
  return {
    config: {},
    calls,
    async send(command: unknown) {
      const operation = operationOf(command as Command);
      calls.set(operation, (calls.get(operation) ?? 0) + 1);
      return handle(operation, (command as Command).input);
    },
  };
}

/** A Kinesis client that accepts every PutRecords entry. */
export function fakeKinesis(): FakeClient {
  let sequence = 0n;
  return counted((operation, input) => {
    if (operation !== 'PutRecords') throw new Error(`fakeKinesis: ${operation} is not supported`);
    const records = input.Records as unknown[];
    return {
      FailedRecordCount: 0,
      Records: records.map(() => {
        sequence += 1n;
        return { SequenceNumber: String(sequence), ShardId: 'shardId-000000000000' };
      }),
    };
  });
}

type Item = Record<string, AttributeValue>;
const keyOf = (table: string, key: Item) => `${table}\u0000${key.pk?.S}\u0000${key.sk?.S ?? key.sk?.N ?? ''}`;
const keyFields = (item: Item): Item => ({ pk: item.pk!, ...(item.sk ? { sk: item.sk } : {}) });

/**
 * A DynamoDB table store in memory answering BatchGetItem, GetItem, PutItem, UpdateItem (as a
 * put of the key), DeleteItem, BatchWriteItem and TransactWriteItems. Conditions are not evaluated:
 * a benchmark has one writer.
 */
export function fakeDynamoDb(): FakeClient {
  const items = new Map<string, Item>();
  return counted((operation, input) => {
    switch (operation) {
      case 'BatchGetItem': {
        const requests = input.RequestItems as Record<string, { Keys: Item[] }>;
        const Responses: Record<string, Item[]> = {};
        for (const [table, { Keys }] of Object.entries(requests)) {
          Responses[table] = Keys.map((key) => items.get(keyOf(table, key))).filter((i): i is Item => !!i);
        }
        return { Responses, UnprocessedKeys: {} };
      }
      case 'GetItem': {
        const item = items.get(keyOf(input.TableName as string, input.Key as Item));
        return item ? { Item: item } : {};
      }
      case 'PutItem': {
        const item = input.Item as Item;
        items.set(keyOf(input.TableName as string, keyFields(item)), item);
        return {};
      }
      case 'UpdateItem': {
        const key = input.Key as Item;
        items.set(keyOf(input.TableName as string, key), { ...key });
        return {};
      }
      case 'DeleteItem':
        items.delete(keyOf(input.TableName as string, input.Key as Item));
        return {};
      case 'BatchWriteItem': {
        const requests = input.RequestItems as Record<
          string,
          { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]
        >;
        for (const [table, writes] of Object.entries(requests)) {
          for (const write of writes) {
            if (write.PutRequest)
              items.set(keyOf(table, keyFields(write.PutRequest.Item)), write.PutRequest.Item);
            if (write.DeleteRequest) items.delete(keyOf(table, write.DeleteRequest.Key));
          }
        }
        return { UnprocessedItems: {} };
      }
      case 'TransactWriteItems': {
        for (const entry of input.TransactItems as { Put?: { TableName: string; Item: Item } }[]) {
          if (entry.Put) items.set(keyOf(entry.Put.TableName, keyFields(entry.Put.Item)), entry.Put.Item);
        }
        return {};
      }
      default:
        throw new Error(`fakeDynamoDb: ${operation} is not supported`);
    }
  });
}
