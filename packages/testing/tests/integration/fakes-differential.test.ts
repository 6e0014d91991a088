/**
 * Keeps the in-memory fakes honest: the same operations — ordinary, conditional and oversized —
 * run against FakeDynamoDB and DynamoDB Local, and against FakeKinesis and kinesis-mock, and their
 * outcomes (result or error name, cancellation reason codes, items) must be the same. Where the
 * local emulator differs from AWS's documented behaviour, the fake follows AWS and the case names
 * the divergence and asserts both sides of it.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDB, MAX_ITEM_BYTES } from '@tidemark/testing/fakes';
import { localAws } from '@tidemark/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_WORDS } from '../../src/fakes/dynamodb/reserved-words';
import { describeOutcomes, type Outcome, outcomeOf, runBoth } from '../helpers/fakes-differential';

type Item = Record<string, AttributeValue>;
type Step = () => unknown;

let local: DynamoDBClient;
beforeAll(async () => {
  const aws = await localAws();
  local = new DynamoDBClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterAll(() => local?.destroy());

// ---- item builders (sizes as DynamoDB documents them) -------------------------------------------

/** A flat item of exactly `bytes`: pk 'p' (3) + sk N (2 + 2) + 'data' (4) + the string. */
function flatItem(bytes: number, pk = 'p', sk = 1): Item {
  const overhead = 2 + Buffer.byteLength(pk) + 2 + 2 + 4;
  return { pk: { S: pk }, sk: { N: String(sk) }, data: { S: 'x'.repeat(bytes - overhead) } };
}

/** An item of exactly `bytes` whose `l` list has `count` strings (3 bytes + 1 per element). */
function listItem(bytes: number, count: number): Item {
  const payload = bytes - (3 + 4) - 1 - 3 - count;
  const each = Math.floor(payload / count);
  const strings = Array.from({ length: count }, (_, index) => ({
    S: 'y'.repeat(index === 0 ? payload - each * (count - 1) : each),
  }));
  return { pk: { S: 'p' }, sk: { N: '1' }, l: { L: strings } };
}

/** An item of exactly `bytes` whose `m` map has `count` members named m0, m1, … */
function mapItem(bytes: number, count: number): Item {
  const names = Array.from({ length: count }, (_, index) => `m${index}`);
  const namesBytes = names.reduce((sum, name) => sum + name.length, 0);
  const payload = bytes - (3 + 4) - 1 - 3 - count - namesBytes;
  const each = Math.floor(payload / count);
  const members = Object.fromEntries(
    names.map((name, index) => [name, { S: 'z'.repeat(index === 0 ? payload - each * (count - 1) : each) }]),
  );
  return { pk: { S: 'p' }, sk: { N: '1' }, m: { M: members } };
}

/** `depth` maps nested in one another, the innermost holding a string (or nothing). */
function nested(depth: number, leaf = true): AttributeValue {
  let value: AttributeValue = leaf ? { S: 'leaf' } : { M: {} };
  if (!leaf) depth -= 1;
  for (let level = 0; level < depth; level += 1) value = { M: { a: value } };
  return value;
}

// ---- command builders ----------------------------------------------------------------------------

const put =
  (TableName: string, Item: Item, extra: Record<string, unknown> = {}): Step =>
  () =>
    new PutItemCommand({ TableName, Item, ...extra });
const get =
  (TableName: string, Key: Item, extra: Record<string, unknown> = {}): Step =>
  () =>
    new GetItemCommand({ TableName, Key, ConsistentRead: true, ...extra });
const update =
  (TableName: string, Key: Item, extra: Record<string, unknown>): Step =>
  () =>
    new UpdateItemCommand({ TableName, Key, ...extra });
const remove =
  (TableName: string, Key: Item, extra: Record<string, unknown> = {}): Step =>
  () =>
    new DeleteItemCommand({ TableName, Key, ...extra });
const query =
  (TableName: string, extra: Record<string, unknown>): Step =>
  () =>
    new QueryCommand({ TableName, ConsistentRead: true, ...extra });
const transact =
  (TransactItems: unknown[], extra: Record<string, unknown> = {}): Step =>
  () =>
    // biome-ignore lint/suspicious/noExplicitAny: cases build deliberately invalid requests too
    new TransactWriteItemsCommand({ TransactItems: TransactItems as any, ...extra });
const key = (pk: string, sk: number | string): Item => ({
  pk: { S: pk },
  sk: typeof sk === 'number' ? { N: String(sk) } : { S: sk },
});

interface DynamoCase {
  readonly name: string;
  /** The sort key's type. Default `N`. */
  readonly sortKeyType?: 'N' | 'S';
  readonly steps: (table: string) => Step[];
  /** How many steps are meant to be refused for a reserved word (so no case passes by accident). Default 0. */
  readonly reservedWordSteps?: number;
  /** DynamoDB Local differs from AWS here: what each side does (as `describeOutcomes` prints it), and why. */
  readonly divergence?: { readonly why: string; readonly aws: string[]; readonly local: string[] };
}

const kb = 1024;

const CASES: DynamoCase[] = [
  {
    name: 'put and get, numbers normalised',
    steps: (t) => [
      put(t, { pk: { S: 'a' }, sk: { N: '01.50' }, n: { N: '1e3' }, f: { N: '-0.000100' } }),
      get(t, key('a', 1.5)),
      get(t, key('a', 2)),
    ],
  },
  {
    name: 'conditional put refused, with and without ALL_OLD',
    steps: (t) => {
      const item = { pk: { S: 'a' }, sk: { N: '1' }, revision: { N: '1' } };
      const condition = { ConditionExpression: 'attribute_not_exists(pk)' };
      return [
        put(t, item),
        put(t, item, condition),
        put(t, item, { ...condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
        put(
          t,
          { ...item, revision: { N: '2' } },
          {
            ConditionExpression: '#r = :r',
            ExpressionAttributeNames: { '#r': 'revision' },
            ExpressionAttributeValues: { ':r': { N: '1' } },
            ReturnValues: 'ALL_OLD',
          },
        ),
      ];
    },
  },
  {
    name: 'update actions and return values',
    steps: (t) => {
      const k = key('a', 1);
      return [
        put(t, {
          ...k,
          tags: { SS: ['x', 'y'] },
          extra: { SS: ['x', 'y'] },
          gone: { S: 'z' },
          seq: { L: [{ N: '1' }, { N: '2' }, { N: '3' }] },
          m: { M: { part: { N: '5' } } },
        }),
        update(t, k, {
          UpdateExpression:
            'SET n = if_not_exists(n, :zero) + :one, seq = list_append(seq, :more), m.part = m.part - :one REMOVE gone, seq[0] ADD c :one, tags :z DELETE extra :x',
          ExpressionAttributeValues: {
            ':zero': { N: '0' },
            ':one': { N: '1' },
            ':more': { L: [{ S: 'four' }] },
            ':x': { SS: ['x'] },
            ':z': { SS: ['w'] },
          },
          ReturnValues: 'ALL_NEW',
        }),
        update(t, k, {
          UpdateExpression: 'SET n = n + :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_OLD',
        }),
        update(t, k, {
          UpdateExpression: 'SET m.part = :v, added = :v',
          ExpressionAttributeValues: { ':v': { S: 'v' } },
          ReturnValues: 'UPDATED_NEW',
        }),
        update(t, k, {
          UpdateExpression: 'SET absent.deep = :v',
          ExpressionAttributeValues: { ':v': { S: 'v' } },
        }),
        update(t, k, {
          UpdateExpression: 'SET n = nothing + :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
        update(t, k, {
          UpdateExpression: 'SET n = :one, n = :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
        update(t, k, {
          UpdateExpression: 'SET m = :v REMOVE m.part',
          ExpressionAttributeValues: { ':v': { S: 'v' } },
        }),
        update(t, k, { UpdateExpression: 'SET pk = :v', ExpressionAttributeValues: { ':v': { S: 'v' } } }),
        update(t, k, { UpdateExpression: 'ADD gone2 :v', ExpressionAttributeValues: { ':v': { S: 'v' } } }),
        update(t, key('new', 1), {
          UpdateExpression: 'SET created = :v',
          ExpressionAttributeValues: { ':v': { BOOL: true } },
          ReturnValues: 'ALL_NEW',
        }),
        get(t, k),
      ];
    },
  },
  {
    name: 'comparisons with a missing attribute, functions and IN',
    steps: (t) => {
      const k = key('a', 1);
      const cond = (ConditionExpression: string, values: Item = { ':v': { S: 'x' } }) =>
        remove(t, k, { ConditionExpression, ExpressionAttributeValues: values, ReturnValues: 'ALL_OLD' });
      return [
        put(t, {
          ...k,
          s: { S: 'hello' },
          n: { N: '5' },
          members: { SS: ['a', 'b'] },
          l: { L: [{ S: 'x' }] },
          u: { S: 'é' },
        }),
        cond('absent <> :v'),
        cond('absent = :v'),
        cond('NOT (absent = :v) AND begins_with(s, :v)'),
        cond('contains(members, :v) OR contains(l, :v)', { ':v': { S: 'q' } }),
        cond('size(u) = :one', { ':one': { N: '1' } }),
        cond('size(u) = :two', { ':two': { N: '2' } }),
        cond('size(s) > :n AND n BETWEEN :lo AND :hi', {
          ':n': { N: '10' },
          ':lo': { N: '1' },
          ':hi': { N: '9' },
        }),
        cond('n IN (:a, :b) AND attribute_type(s, :t)', {
          ':a': { N: '4' },
          ':b': { N: '6' },
          ':t': { S: 'S' },
        }),
        cond('n BETWEEN :hi AND :lo', { ':lo': { N: '1' }, ':hi': { N: '9' } }),
        cond('s < :v', { ':v': { N: '1' } }),
        put(t, { ...k, s: { S: 'hello' } }),
        cond('contains(l, :v) OR (begins_with(s, :v) AND size(s) = :five)', {
          ':v': { S: 'he' },
          ':five': { N: '5' },
        }),
        get(t, k),
      ];
    },
  },
  {
    name: 'item size: 399 KB, 400 KB and 400 KB + 1 byte',
    steps: (t) => [
      put(t, flatItem(MAX_ITEM_BYTES - kb, 'p', 1)),
      put(t, flatItem(MAX_ITEM_BYTES, 'p', 2)),
      put(t, flatItem(MAX_ITEM_BYTES + 1, 'p', 3)),
    ],
  },
  {
    name: 'item size counts attribute names (UTF-8)',
    steps: (t) => {
      const name = 'é'.repeat(500); // 1000 bytes
      const at = (bytes: number, sk: number): Item => ({
        ...key('p', sk),
        [name]: { S: 'x'.repeat(bytes - 7 - 1000) },
      });
      return [put(t, at(MAX_ITEM_BYTES, 1)), put(t, at(MAX_ITEM_BYTES + 1, 2))];
    },
  },
  {
    name: 'item size of lists: 3 bytes plus 1 per element',
    steps: (t) => [
      put(t, listItem(MAX_ITEM_BYTES, 1000)),
      put(t, { ...listItem(MAX_ITEM_BYTES + 1, 1000), sk: { N: '2' } }),
    ],
  },
  {
    name: 'item size of maps: 3 bytes plus 1 per member and its name',
    steps: (t) => [
      put(t, mapItem(MAX_ITEM_BYTES, 1000)),
      put(t, { ...mapItem(MAX_ITEM_BYTES + 1, 1000), sk: { N: '2' } }),
    ],
  },
  {
    name: 'key sizes: partition key 2048 bytes, sort key 1024 bytes (UTF-8)',
    sortKeyType: 'S',
    steps: (t) => [
      put(t, key('k'.repeat(2048), 's')),
      put(t, key('k'.repeat(2049), 's')),
      put(t, key('é'.repeat(1024), 's')),
      put(t, key('é'.repeat(1025), 's')),
      put(t, key('p', 's'.repeat(1024))),
      put(t, key('p', 's'.repeat(1025))),
      get(t, key('k'.repeat(2049), 's')),
    ],
  },
  {
    name: 'empty keys, empty values, empty and duplicate sets, wrong key types',
    sortKeyType: 'S',
    steps: (t) => [
      put(t, key('', 's')),
      put(t, key('p', '')),
      get(t, key('', 's')),
      put(t, { ...key('p', 's'), e: { S: '' }, b: { B: new Uint8Array() }, l: { L: [] }, m: { M: {} } }),
      put(t, { ...key('p', 't'), set: { SS: [] } }),
      put(t, { ...key('p', 'u'), set: { SS: ['a', 'a'] } }),
      put(t, { ...key('p', 'v'), set: { NS: ['1', '1.0'] } }),
      put(t, { pk: { S: 'p' }, sk: { N: '1' } }),
      put(t, { pk: { S: 'p' } }),
      get(t, { pk: { S: 'p' } }),
      get(t, key('p', 's')),
    ],
  },
  {
    name: 'nesting: 32 levels at most, a top-level attribute value being level 1',
    steps: (t) => [
      ...[31, 32].map((depth) => put(t, { ...key('p', depth), nest: nested(depth) })),
      ...[32, 33].map((depth) => put(t, { ...key('p', 100 + depth), nest: nested(depth, false) })),
      put(t, { ...key('p', 200), nest: { L: [nested(30)] } }),
      put(t, { ...key('p', 201), nest: { L: [nested(31)] } }),
    ],
  },
  {
    name: 'BatchGetItem: 100 and 101 keys, duplicate keys',
    steps: (t) => {
      const keys = (count: number) => Array.from({ length: count }, (_, index) => key('p', index));
      return [
        put(t, { ...key('p', 3), v: { S: 'three' } }),
        () => new BatchGetItemCommand({ RequestItems: { [t]: { Keys: keys(100), ConsistentRead: true } } }),
        () => new BatchGetItemCommand({ RequestItems: { [t]: { Keys: keys(101) } } }),
        () => new BatchGetItemCommand({ RequestItems: { [t]: { Keys: [key('p', 1), key('p', 1)] } } }),
      ];
    },
  },
  {
    name: 'BatchWriteItem: 25 and 26 requests, one key twice, oversized item',
    steps: (t) => {
      const puts = (count: number) =>
        Array.from({ length: count }, (_, index) => ({
          PutRequest: { Item: { ...key('p', index), v: { N: String(index) } } },
        }));
      return [
        () => new BatchWriteItemCommand({ RequestItems: { [t]: puts(25) } }),
        () => new BatchWriteItemCommand({ RequestItems: { [t]: puts(26) } }),
        () =>
          new BatchWriteItemCommand({
            RequestItems: {
              [t]: [{ PutRequest: { Item: key('p', 1) } }, { DeleteRequest: { Key: key('p', 1) } }],
            },
          }),
        () =>
          new BatchWriteItemCommand({
            RequestItems: {
              [t]: [
                { PutRequest: { Item: key('p', 100) } },
                { PutRequest: { Item: flatItem(MAX_ITEM_BYTES + 1, 'p', 101) } },
              ],
            },
          }),
        () => new ScanCommand({ TableName: t, Select: 'COUNT' }),
      ];
    },
  },
  {
    name: 'TransactWriteItems: 100 and 101 actions',
    steps: (t) => {
      const actions = (count: number, from: number) =>
        Array.from({ length: count }, (_, index) => ({
          Put: { TableName: t, Item: key('p', from + index) },
        }));
      return [
        transact(actions(100, 0)),
        transact(actions(101, 1000)),
        () => new ScanCommand({ TableName: t, Select: 'COUNT' }),
      ];
    },
  },
  {
    name: 'TransactWriteItems: the 4 MB limit',
    steps: (t) => {
      const items = (count: number, bytes: number, from: number) =>
        Array.from({ length: count }, (_, index) => ({
          Put: { TableName: t, Item: flatItem(bytes, 'p', from + index) },
        }));
      return [
        transact(items(9, MAX_ITEM_BYTES, 0)),
        transact(items(10, MAX_ITEM_BYTES, 300)),
        transact(items(10, 390 * kb, 100)),
        transact(items(11, 390 * kb, 200)),
        () => new ScanCommand({ TableName: t, Select: 'COUNT' }),
      ];
    },
  },
  {
    name: 'TransactWriteItems: one item twice, cancellation reasons and ALL_OLD items',
    steps: (t) => {
      const k = key('p', 1);
      return [
        put(t, { ...k, v: { N: '1' } }),
        transact([{ Put: { TableName: t, Item: k } }, { Delete: { TableName: t, Key: k } }]),
        transact([
          { Put: { TableName: t, Item: key('p', 2) } },
          {
            ConditionCheck: {
              TableName: t,
              Key: k,
              ConditionExpression: 'v = :two',
              ExpressionAttributeValues: { ':two': { N: '2' } },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Update: {
              TableName: t,
              Key: key('p', 3),
              UpdateExpression: 'SET v = :one',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
          { Delete: { TableName: t, Key: key('p', 4) } },
        ]),
        transact([
          { Put: { TableName: t, Item: key('p', 5) } },
          { Put: { TableName: 'no-such-table-fakes', Item: key('p', 5) } },
        ]),
        () => new ScanCommand({ TableName: t }),
      ];
    },
  },
  {
    name: 'TransactWriteItems: an update that makes the item too large or meets a wrong operand type',
    steps: (t) => {
      const k = key('p', 1);
      return [
        put(t, { ...k, v: { N: '1' } }),
        transact([
          {
            Update: {
              TableName: t,
              Key: k,
              UpdateExpression: 'SET big = :big',
              ExpressionAttributeValues: { ':big': { S: 'x'.repeat(MAX_ITEM_BYTES) } },
            },
          },
        ]),
        transact([
          {
            Update: {
              TableName: t,
              Key: k,
              UpdateExpression: 'SET v = v + :s',
              ExpressionAttributeValues: { ':s': { S: 'x' } },
            },
          },
        ]),
      ];
    },
    divergence: {
      why: 'AWS documents that a transaction is cancelled, with a ValidationError reason, when an item becomes larger than 400 KB or a similar validation error arises from the changes it makes; DynamoDB Local refuses the whole request with ValidationException instead',
      aws: [
        'ok',
        'TransactionCanceledException [ValidationError]',
        'TransactionCanceledException [ValidationError]',
        'ok',
      ],
      local: ['ok', 'ValidationException', 'ValidationException', 'ok'],
    },
  },
  {
    name: 'ClientRequestToken: a retry is a no-op, a different request with the token is refused',
    steps: (t) => {
      const write = (v: string) =>
        transact(
          [
            {
              Update: {
                TableName: t,
                Key: key('p', 1),
                UpdateExpression: 'ADD n :one SET v = :v',
                ExpressionAttributeValues: { ':one': { N: '1' }, ':v': { S: v } },
              },
            },
          ],
          { ClientRequestToken: 'token-1' },
        );
      return [write('a'), write('a'), write('b'), get(t, key('p', 1))];
    },
  },
  {
    name: 'expression attribute names and values: unused, undefined, reserved words, syntax',
    reservedWordSteps: 1,
    steps: (t) => {
      const k = key('p', 1);
      return [
        put(t, { ...k, status: { S: 'new' } }),
        remove(t, k, {
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':unused': { S: 'x' } },
        }),
        remove(t, k, {
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#unused': 'x' },
        }),
        remove(t, k, { ConditionExpression: '#s = :s', ExpressionAttributeValues: { ':s': { S: 'x' } } }),
        remove(t, k, { ConditionExpression: 'v = :undefined' }),
        remove(t, k, {
          ConditionExpression: 'status = :s',
          ExpressionAttributeValues: { ':s': { S: 'new' } },
        }),
        remove(t, k, { ConditionExpression: 'attribute_exists(pk', ExpressionAttributeValues: undefined }),
        remove(t, k, { ConditionExpression: 'pk = = :v', ExpressionAttributeValues: { ':v': { S: 'p' } } }),
        get(t, k, { ProjectionExpression: '#s, pk', ExpressionAttributeNames: { '#s': 'status' } }),
        remove(t, k, {
          ConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': { S: 'new' } },
          ReturnValues: 'ALL_OLD',
        }),
      ];
    },
  },
  {
    name: 'Query: key conditions, Limit, direction and LastEvaluatedKey',
    sortKeyType: 'S',
    steps: (t) => {
      const items = ['a', 'b', 'ba', 'bb', 'c', 'É', 'z'].map((sk) =>
        put(t, { ...key('p', sk), v: { S: sk } }),
      );
      const values = (extra: Item = {}) => ({ ':p': { S: 'p' }, ...extra });
      return [
        ...items,
        put(t, key('other', 'a')),
        query(t, { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: values() }),
        query(t, {
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :b)',
          ExpressionAttributeValues: values({ ':b': { S: 'b' } }),
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: values({ ':lo': { S: 'b' }, ':hi': { S: 'c' } }),
          ScanIndexForward: false,
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p AND sk > :x',
          ExpressionAttributeValues: values({ ':x': { S: 'c' } }),
          Limit: 2,
        }),
        query(t, { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: values(), Limit: 7 }),
        query(t, {
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: values(),
          Limit: 3,
          ExclusiveStartKey: key('p', 'b'),
          ScanIndexForward: false,
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: values({ ':v': { S: 'bb' } }),
          FilterExpression: 'v >= :v',
          Select: 'COUNT',
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: values(),
          ProjectionExpression: 'v',
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p AND sk <> :x',
          ExpressionAttributeValues: values({ ':x': { S: 'a' } }),
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p OR sk = :x',
          ExpressionAttributeValues: values({ ':x': { S: 'a' } }),
        }),
        query(t, { KeyConditionExpression: 'sk = :x', ExpressionAttributeValues: { ':x': { S: 'a' } } }),
        query(t, {
          KeyConditionExpression: 'pk = :p',
          FilterExpression: 'sk = :x',
          ExpressionAttributeValues: values({ ':x': { S: 'a' } }),
        }),
        query(t, {
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: values(),
          ExclusiveStartKey: key('other', 'a'),
        }),
      ];
    },
  },
  {
    name: 'Query: at most 1 MB read per page',
    steps: (t) => {
      const items = [1, 2, 3, 4, 5].map((sk) => put(t, flatItem(MAX_ITEM_BYTES, 'p', sk)));
      const page = (extra: Record<string, unknown> = {}) =>
        query(t, {
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'p' } },
          Select: 'COUNT',
          ...extra,
        });
      return [
        ...items,
        page(),
        page({ ExclusiveStartKey: key('p', 2) }),
        page({ ExclusiveStartKey: key('p', 3) }),
      ];
    },
  },
  {
    name: 'numbers: 38 significant digits, magnitude limits, arithmetic',
    steps: (t) => {
      const k = key('p', 1);
      const n = (N: string, sk: number) => put(t, { ...key('p', sk), n: { N } });
      return [
        n('12345678901234567890123456789012345678', 10),
        n('123456789012345678901234567890123456789', 11),
        n('1234567890123456789012345678901234567800000', 12),
        n('9.9999999999999999999999999999999999999E+125', 13),
        n('1E+126', 14),
        n('1E-130', 15),
        n('1E-131', 16),
        n('-0.00', 17),
        n('1e', 18),
        n(' 1', 19),
        put(t, { ...k, n: { N: '0.1' } }),
        update(t, k, {
          UpdateExpression: 'SET n = n + :d',
          ExpressionAttributeValues: { ':d': { N: '0.2' } },
          ReturnValues: 'UPDATED_NEW',
        }),
        update(t, k, {
          UpdateExpression: 'ADD n :big',
          ExpressionAttributeValues: { ':big': { N: '99999999999999999999999999999999999999' } },
          ReturnValues: 'UPDATED_NEW',
        }),
        put(t, { ...key('p', 2), s: { NS: ['1', '01', '1.0'] } }),
      ];
    },
  },
  {
    name: 'binary values and binary sort keys',
    steps: (t) => [
      put(t, {
        ...key('p', 1),
        b: { B: new Uint8Array([0, 255, 1]) },
        bs: { BS: [new Uint8Array([1]), new Uint8Array([2])] },
      }),
      put(t, { ...key('p', 2), bs: { BS: [new Uint8Array([1]), new Uint8Array([1])] } }),
      remove(t, key('p', 1), {
        ConditionExpression: 'begins_with(b, :prefix) AND contains(bs, :one)',
        ExpressionAttributeValues: {
          ':prefix': { B: new Uint8Array([0, 255]) },
          ':one': { B: new Uint8Array([1]) },
        },
        ReturnValues: 'ALL_OLD',
      }),
    ],
  },
  {
    name: 'unknown table',
    steps: () => [put('no-such-table-fakes', key('p', 1)), get('no-such-table-fakes', key('p', 1))],
  },
];

async function createBoth(fake: FakeDynamoDB, sortKeyType: 'N' | 'S'): Promise<string> {
  const aws = await localAws();
  const definition = {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: sortKeyType },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
  const { tableName } = await aws.createTable(definition);
  fake.createTable({ TableName: tableName, ...definition });
  return tableName;
}

function scanAll(table: string): Step {
  return () => new ScanCommand({ TableName: table, ConsistentRead: true });
}

function sortScan(outcome: Outcome): Outcome {
  if (!('ok' in outcome)) return outcome;
  const page = outcome.ok as { Items?: Item[] };
  const order = (item: Item) => JSON.stringify([item.pk, item.sk]);
  return { ok: { ...page, Items: [...(page.Items ?? [])].sort((a, b) => order(a).localeCompare(order(b))) } };
}

describe('FakeDynamoDB against DynamoDB Local', () => {
  it.each(CASES)('$name', async (testCase) => {
    const fake = new FakeDynamoDB();
    const table = await createBoth(fake, testCase.sortKeyType ?? 'N');
    try {
      const steps = testCase.steps(table);
      const outcomes = await runBoth(fake, local, [...steps, scanAll(table)]);
      const reservedWordRefusals = outcomes.fakeMessages.filter((message) =>
        /reserved keyword/.test(message ?? ''),
      );
      expect(reservedWordRefusals, 'steps refused for a reserved word').toHaveLength(
        testCase.reservedWordSteps ?? 0,
      );
      if (testCase.divergence) {
        expect(describeOutcomes(outcomes.local), `DynamoDB Local (${testCase.divergence.why})`).toEqual(
          testCase.divergence.local,
        );
        expect(describeOutcomes(outcomes.fake), 'the fake follows AWS').toEqual(testCase.divergence.aws);
        return;
      }
      expect(describeOutcomes(outcomes.fake)).toEqual(describeOutcomes(outcomes.local));
      const scansSorted = (list: Outcome[]) => [...list.slice(0, -1), sortScan(list[list.length - 1]!)];
      expect(scansSorted(outcomes.fake)).toEqual(scansSorted(outcomes.local));
    } finally {
      await local.send(new DeleteTableCommand({ TableName: table }));
    }
  });
});

describe('FakeDynamoDB against DynamoDB Local: BatchGetItem answers', () => {
  it('returns at most 16 MB and the rest in UnprocessedKeys, every key answered once', async () => {
    const fake = new FakeDynamoDB();
    const table = await createBoth(fake, 'N');
    try {
      const keys = Array.from({ length: 45 }, (_, index) => key('p', index));
      for (let index = 0; index < 45; index += 1) {
        await runBoth(fake, local, [put(table, flatItem(MAX_ITEM_BYTES, 'p', index))]);
      }
      const answers = await runBoth(fake, local, [
        () => new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys } } }),
      ]);
      const summary = (outcome: Outcome) => {
        const answer = (
          outcome as {
            ok: { Responses: Record<string, Item[]>; UnprocessedKeys: Record<string, { Keys: Item[] }> };
          }
        ).ok;
        const returned = (answer.Responses[table] ?? []).map((item) => Number(item.sk!.N));
        const unprocessed = (answer.UnprocessedKeys[table]?.Keys ?? []).map((item) => Number(item.sk!.N));
        return {
          returned: returned.length,
          bytes: returned.length * MAX_ITEM_BYTES,
          all: [...returned, ...unprocessed].sort((a, b) => a - b),
        };
      };
      const everyKey = keys.map((_, index) => index);
      expect(summary(answers.fake[0]!)).toEqual({ returned: 40, bytes: 40 * MAX_ITEM_BYTES, all: everyKey });
      const fromLocal = summary(answers.local[0]!);
      expect(fromLocal.all).toEqual(everyKey);
      expect(fromLocal.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    } finally {
      await local.send(new DeleteTableCommand({ TableName: table }));
    }
  });
});

describe('FakeDynamoDB against DynamoDB Local: reserved words', () => {
  it('refuses every reserved word as a plain attribute name, and accepts it through #name', async () => {
    const fake = new FakeDynamoDB();
    const table = await createBoth(fake, 'N');
    try {
      const refusedBy = async (
        client: { send(command: never): Promise<unknown> },
        word: string,
        aliased: boolean,
      ) => {
        const command = new GetItemCommand({
          TableName: table,
          Key: key('p', 1),
          ProjectionExpression: aliased ? '#w' : word,
          ...(aliased ? { ExpressionAttributeNames: { '#w': word } } : {}),
        });
        const outcome = await outcomeOf(client, command);
        return 'ok' in outcome ? 'ok' : outcome.error;
      };
      const words = [...RESERVED_WORDS].map((word) => word.toLowerCase());
      const fakeOutcomes = await Promise.all(words.map((word) => refusedBy(fake, word, false)));
      const localOutcomes: string[] = [];
      for (const word of words) localOutcomes.push(await refusedBy(local, word, false));
      expect(new Set(fakeOutcomes)).toEqual(new Set(['ValidationException']));
      // Divergence: AWS documents CONVERT and SIZE as reserved words; DynamoDB Local lets them through
      // as plain names. The fake refuses the whole documented list.
      const acceptedByLocal = new Set(['convert', 'size']);
      expect(Object.fromEntries(words.map((word, index) => [word, localOutcomes[index]]))).toEqual(
        Object.fromEntries(
          words.map((word) => [word, acceptedByLocal.has(word) ? 'ok' : 'ValidationException']),
        ),
      );
      for (const word of ['status', 'data', 'name', 'size']) {
        expect([await refusedBy(fake, word, true), await refusedBy(local, word, true)]).toEqual(['ok', 'ok']);
      }
      for (const word of ['pk', 'revision', 'commandId', 'payload', 'attribute_exists']) {
        expect([await refusedBy(fake, word, false), await refusedBy(local, word, false)], word).toEqual([
          'ok',
          'ok',
        ]);
      }
    } finally {
      await local.send(new DeleteTableCommand({ TableName: table }));
    }
  });
});
