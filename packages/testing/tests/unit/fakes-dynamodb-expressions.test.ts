import {
  type AttributeValue,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDB } from '@tidemark/testing/fakes';
import { beforeEach, describe, expect, it } from 'vitest';

type Item = Record<string, AttributeValue>;
const TABLE = 'seq';
const KEY: Item = { pk: { S: 'p' }, sk: { N: '1' } };

let dynamodb: FakeDynamoDB;
beforeEach(async () => {
  dynamodb = new FakeDynamoDB();
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
    }),
  );
  await dynamodb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        ...KEY,
        a: { N: '1' },
        b: { N: '2' },
        c: { N: '3' },
        greeting: { S: 'hello world' },
        'dotted.name': { S: 'dotted' },
        seq: { L: [{ S: 'zero' }, { M: { deep: { S: 'one' } } }, { S: 'two' }, { S: 'three' }] },
        doc: { M: { part: { M: { leaf: { N: '7' } } }, rest: { S: 'x' } } },
        tags: { SS: ['red', 'green'] },
      },
    }),
  );
});

/** Whether a condition holds for the stored item (a transaction's ConditionCheck changes nothing). */
async function holds(
  ConditionExpression: string,
  values: Item = {},
  names: Record<string, string> = {},
): Promise<boolean> {
  try {
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: KEY,
              ConditionExpression,
              ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
              ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (
      (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.[0]?.Code ===
      'ConditionalCheckFailed'
    )
      return false;
    throw error;
  }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const n = (value: number): AttributeValue => ({ N: String(value) });

describe('FakeDynamoDB condition expressions', () => {
  it.each([
    ['a = :one OR b = :nine AND c = :nine', true], // AND binds tighter than OR
    ['(a = :one OR b = :nine) AND c = :nine', false],
    ['NOT a = :nine AND b = :two', true], // NOT binds tighter than AND
    ['NOT (a = :one AND b = :two)', false],
    ['a BETWEEN :one AND :two AND NOT c BETWEEN :one AND :two', true],
    ['a IN (:nine, :two, :one)', true],
    ['a < b AND b <= c AND c > a AND c >= c AND a <> b', true],
    ['size(greeting) = :eleven AND size(seq) = :four AND size(tags) = :two AND size(doc) = :two', true],
  ])('%s → %s', async (expression, expected) => {
    const values = { ':one': n(1), ':two': n(2), ':four': n(4), ':nine': n(9), ':eleven': n(11) };
    const used = Object.fromEntries(
      Object.entries(values).filter(([name]) => new RegExp(`${name}\\b`).test(expression)),
    );
    expect(await holds(expression, used)).toBe(expected);
  });

  it('resolves doc paths, seq indexes and names with dots through #placeholders', async () => {
    expect(await holds('seq[1].deep = :v', { ':v': { S: 'one' } })).toBe(true);
    expect(await holds('doc.part.leaf = :v', { ':v': n(7) })).toBe(true);
    expect(await holds('#d = :v', { ':v': { S: 'dotted' } }, { '#d': 'dotted.name' })).toBe(true);
    expect(
      await holds(
        'attribute_not_exists(#m.#i.absent) AND attribute_exists(#m.#i)',
        {},
        { '#m': 'doc', '#i': 'part' },
      ),
    ).toBe(true);
    expect(await holds('seq[9] = :v', { ':v': { S: 'x' } })).toBe(false);
    expect(
      await holds('attribute_type(tags, :ss) AND contains(tags, :red) AND begins_with(greeting, :he)', {
        ':ss': { S: 'SS' },
        ':red': { S: 'red' },
        ':he': { S: 'hello' },
      }),
    ).toBe(true);
  });

  it('refuses what DynamoDB refuses before looking at the item', async () => {
    const refused = async (expression: string, values: Item = {}) =>
      failure(
        dynamodb.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: KEY,
            ConditionExpression: expression,
            ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          }),
        ),
      );
    expect(await refused('status = :v', { ':v': n(1) })).toMatch(
      /ValidationException: .*reserved keyword; reserved keyword: status/,
    );
    expect(await refused('a = :v', { ':v': n(1), ':w': n(2) })).toMatch(
      /ValidationException: .*unused in expressions: keys: \{:w\}/,
    );
    expect(await refused('a = :undefined')).toMatch(
      /ValidationException: .*not defined; attribute value: :undefined/,
    );
    expect(await refused('(a = :v', { ':v': n(1) })).toMatch(
      /ValidationException: Invalid ConditionExpression: Syntax error/,
    );
    expect(await refused('a = :v b', { ':v': n(1) })).toMatch(/Syntax error/);
    expect(await refused('a < :v', { ':v': { L: [] } })).toMatch(
      /Incorrect operand type for operator or function; operator or function: <, operand type: L/,
    );
    expect(await refused('a BETWEEN :hi AND :lo', { ':hi': n(9), ':lo': n(1) })).toMatch(
      /upper bound to be greater than or equal to lower bound/,
    );
    expect(await refused('attribute_type(a, :t)', { ':t': { S: 'X' } })).toMatch(
      /Invalid attribute type name found/,
    );
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`:v${index}`, n(index)]));
    expect(await refused(`a IN (${Object.keys(many).join(', ')})`, many)).toMatch(/too many operands/);
  });
});

describe('FakeDynamoDB update expressions', () => {
  async function update(UpdateExpression: string, values: Item = {}, names: Record<string, string> = {}) {
    const result = await dynamodb.send<{ Attributes?: Item }>(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: KEY,
        UpdateExpression,
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes!;
  }

  it('removes seq elements by their original indexes and appends past the end', async () => {
    const item = await update('REMOVE seq[0], seq[2] SET seq[10] = :appended', {
      ':appended': { S: 'appended' },
    });
    expect(item.seq).toEqual({ L: [{ M: { deep: { S: 'one' } } }, { S: 'three' }, { S: 'appended' }] });
  });

  it('computes every right-hand side from the item before the update', async () => {
    const item = await update('SET a = b, b = a');
    expect([item.a, item.b]).toEqual([n(2), n(1)]);
  });

  it('adds to numbers and sets, deletes from sets and drops a set left empty', async () => {
    const item = await update('ADD a :five, tags :blue, fresh :ten', {
      ':five': n(5),
      ':blue': { SS: ['blue'] },
      ':ten': n(10),
    });
    expect([item.a, item.fresh, item.tags]).toEqual([n(6), n(10), { SS: ['red', 'green', 'blue'] }]);
    const emptied = await update(
      'DELETE #t :all',
      { ':all': { SS: ['red', 'green', 'blue', 'black'] } },
      { '#t': 'tags' },
    );
    expect(emptied.tags).toBeUndefined();
    expect(await failure(update('ADD tags :x DELETE tags :x', { ':x': { SS: ['x'] } }))).toMatch(
      /Two document paths overlap/,
    );
  });

  it('sets doc members and refuses a path through a missing parent', async () => {
    expect((await update('SET doc.part.added = :v', { ':v': n(1) })).doc).toEqual({
      M: { part: { M: { leaf: n(7), added: n(1) } }, rest: { S: 'x' } },
    });
    expect(await failure(update('SET nothing.child = :v', { ':v': n(1) }))).toMatch(
      /document path provided in the update expression is invalid/,
    );
  });

  it('refuses overlapping paths, key attributes, wrong operand types and repeated clauses', async () => {
    expect(await failure(update('SET doc = :v REMOVE doc.rest', { ':v': n(1) }))).toMatch(
      /Two document paths overlap/,
    );
    expect(await failure(update('SET sk = :v', { ':v': n(1) }))).toMatch(
      /Cannot update attribute sk. This attribute is part of the key/,
    );
    expect(await failure(update('SET a = greeting + :v', { ':v': n(1) }))).toMatch(/incorrect data type/);
    expect(await failure(update('SET a = list_append(a, :v)', { ':v': { L: [] } }))).toMatch(
      /list_append, operand type: N/,
    );
    expect(await failure(update('SET a = :v SET b = :v', { ':v': n(1) }))).toMatch(
      /"SET" section can only be used once/,
    );
    expect(await failure(update('ADD greeting :v', { ':v': { S: 'x' } }))).toMatch(
      /operator: ADD, operand type: S/,
    );
    expect(await failure(update('SET a = absent + :v', { ':v': n(1) }))).toMatch(
      /refers to an attribute that does not exist/,
    );
  });
});

describe('FakeDynamoDB projections and key conditions', () => {
  it('projects doc paths and seq elements in index order', async () => {
    const result = await dynamodb.send<{ Item: Item }>(
      new GetItemCommand({
        TableName: TABLE,
        Key: KEY,
        ProjectionExpression: 'seq[3], seq[1].deep, doc.part.leaf, #d',
        ExpressionAttributeNames: { '#d': 'dotted.name' },
      }),
    );
    expect(result.Item).toEqual({
      seq: { L: [{ M: { deep: { S: 'one' } } }, { S: 'three' }] },
      doc: { M: { part: { M: { leaf: n(7) } } } },
      'dotted.name': { S: 'dotted' },
    });
    expect(
      await failure(
        dynamodb.send(
          new GetItemCommand({ TableName: TABLE, Key: KEY, ProjectionExpression: 'doc, doc.part' }),
        ),
      ),
    ).toMatch(/Two document paths overlap/);
  });

  it('refuses key conditions of the wrong type or shape', async () => {
    const keyQuery = (KeyConditionExpression: string, values: Item) =>
      failure(
        dynamodb.send(
          new QueryCommand({ TableName: TABLE, KeyConditionExpression, ExpressionAttributeValues: values }),
        ),
      );
    expect(await keyQuery('pk = :p AND sk = :s', { ':p': { S: 'p' }, ':s': { S: '1' } })).toMatch(
      /Condition parameter type does not match schema type/,
    );
    expect(await keyQuery('pk = :p AND begins_with(sk, :s)', { ':p': { S: 'p' }, ':s': { N: '1' } })).toMatch(
      /begins_with, operand type: N/,
    );
    expect(await keyQuery('pk = :p AND a = :s', { ':p': { S: 'p' }, ':s': { N: '1' } })).toMatch(
      /ValidationException/,
    );
    expect(await keyQuery('pk = :p', { ':p': { S: 'p' } })).toBe('ok');
  });
});
