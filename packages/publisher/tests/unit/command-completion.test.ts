import { marshall } from '@aws-sdk/util-dynamodb';
import { eventLogItemFromEnvelope } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import {
  commandRangeOf,
  missingVersions,
  readVersions,
  tableNameOfStreamArn,
} from '../../src/command-completion';
import { envelopesFor, FakeDynamoDb } from '../helpers/fakes';

describe('missingVersions', () => {
  it('lists, per aggregate, the versions of partly held commands the batch lacks', () => {
    const missing = missingVersions([
      { key: 'A', version: 3, command: { first: 2, last: 4 } },
      { key: 'A', version: 5, command: { first: 5, last: 5 } },
      { key: 'B', version: 1, command: { first: 1, last: 1 } },
      { key: 'C', version: 2, command: undefined },
      { key: 'D', version: 9, command: { first: 7, last: 9 } },
      { key: 'D', version: 7, command: { first: 7, last: 9 } },
    ]);
    expect([...missing]).toEqual([
      ['A', [2, 4]],
      ['D', [8]],
    ]);
  });

  it('counts a poison record of the command as held (it is not read again)', () => {
    expect(
      missingVersions([
        { key: 'A', version: 1, command: undefined },
        { key: 'A', version: 2, command: { first: 1, last: 2 } },
      ]).size,
    ).toBe(0);
  });
});

describe('readVersions', () => {
  const seed = (dynamodb: FakeDynamoDb, to: number) => {
    for (const envelope of envelopesFor('a', 1, to))
      dynamodb.put(marshall(eventLogItemFromEnvelope(envelope)));
  };

  it('reads versions close together with one Query', async () => {
    const dynamodb = new FakeDynamoDb();
    seed(dynamodb, 10);
    const { items, requests } = await readVersions(dynamodb as never, 'events', 'Task#a', [2, 9]);
    expect([...items.keys()].sort((a, b) => a - b)).toEqual([2, 9]);
    expect(requests).toBe(1);
  });

  it('does not read a long stretch between two far apart commands', async () => {
    const dynamodb = new FakeDynamoDb();
    seed(dynamodb, 400);
    const { items, requests } = await readVersions(dynamodb as never, 'events', 'Task#a', [1, 2, 350]);
    expect([...items.keys()].sort((a, b) => a - b)).toEqual([1, 2, 350]);
    expect(requests).toBe(2);
  });

  it('leaves out versions that are not in the log', async () => {
    const dynamodb = new FakeDynamoDb();
    seed(dynamodb, 3);
    const { items } = await readVersions(dynamodb as never, 'events', 'Task#a', [3, 4]);
    expect([...items.keys()]).toEqual([3]);
  });
});

describe('commandRangeOf and tableNameOfStreamArn', () => {
  it('trusts a range only when it holds the item and fits one command', () => {
    expect(commandRangeOf({ sk: 2, commandFirstVersion: 1, commandLastVersion: 3 })).toEqual({
      first: 1,
      last: 3,
    });
    expect(commandRangeOf({ sk: 5, commandFirstVersion: 1, commandLastVersion: 3 })).toBeUndefined();
    expect(commandRangeOf({ sk: 1, commandFirstVersion: 1, commandLastVersion: 500 })).toBeUndefined();
    expect(commandRangeOf({ sk: 1 })).toBeUndefined();
  });

  it('reads the table name of a DynamoDB stream ARN', () => {
    expect(
      tableNameOfStreamArn(
        'arn:aws:dynamodb:eu-west-1:123456789012:table/task-events/stream/2026-01-01T00:00:00.000',
      ),
    ).toBe('task-events');
    expect(tableNameOfStreamArn('arn:aws:kinesis:eu-west-1:123456789012:stream/x')).toBeUndefined();
    expect(tableNameOfStreamArn(undefined)).toBeUndefined();
  });
});
