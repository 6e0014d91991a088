/** Edges found in review, on DynamoDB Local under the default options. */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { newCommandId } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { AppendValidationError } from '../../src/index';
import { MAX_MAP_KEY_BYTES } from '../../src/storage';
import { testEventLog } from '../helpers/integration-fixture';

describe('createEventLog at the edges (review)', () => {
  test("a retried command whose events exceed one Query page (1 MB) answers every one of them, and the log's items", async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    const aggregate = { type: 'Task', id: 'wide-command' };
    // 12 events of ~250 KB: 3 MB in one command (under 4 MB), three times a Query's 1 MB page.
    const events = Array.from({ length: 12 }, (_, k) => ({
      type: 'NoteAdded' as const,
      data: { text: `${k}`.padEnd(250_000, 'x') },
    }));
    const commandId = newCommandId();
    const first = await log.append({ aggregate, commandId, events });
    expect(first.events).toHaveLength(12);
    const retry = await log.append({ aggregate, commandId, events });
    expect(retry.duplicate).toBe(true);
    expect(retry.version).toBe(12);
    expect(retry.events.map((event) => event.aggregateversion)).toEqual(
      Array.from({ length: 12 }, (_, k) => k + 1),
    );
    expect(retry).toEqual({ ...first, duplicate: true });
    let stored = 0;
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const page = await aws.dynamodb.send(
        new QueryCommand({
          TableName: eventLogTable.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'Task#wide-command' } },
          ConsistentRead: true,
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      stored += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    expect(stored).toBe(12);
  });

  test('a map key of the longest length DynamoDB takes is stored exactly; one byte longer is refused with a typed error before writing', async ({
    aws,
    eventLogTable,
  }) => {
    const log = testEventLog(aws, eventLogTable.tableName);
    // Three-byte characters, so the limit is counted in UTF-8 bytes, not characters.
    const longest = `${'€'.repeat((MAX_MAP_KEY_BYTES - 2) / 3)}kk`;
    expect(new TextEncoder().encode(longest).byteLength).toBe(MAX_MAP_KEY_BYTES);
    const aggregate = { type: 'Task', id: 'long-key' };
    const stored = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: 'k', extra: { nested: [{ [longest]: 1 }] } } }],
    });
    const [back] = await log.readAll(aggregate);
    expect(back!.data).toEqual({ text: 'k', extra: { nested: [{ [longest]: 1 }] } });
    expect(stored.events[0]!.data).toEqual(back!.data);
    for (const key of [`${longest}k`, 'k'.repeat(MAX_MAP_KEY_BYTES + 1), '€'.repeat(21_846)]) {
      const refused = await log
        .append({
          aggregate,
          commandId: newCommandId(),
          events: [{ type: 'NoteAdded', data: { text: 'k', extra: { nested: [{ [key]: 1 }] } } }],
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(AppendValidationError);
      expect((refused as AppendValidationError).issues[0]).toMatchObject({
        path: 'events[0].data.extra.nested[0]',
        code: 'not_storable',
      });
    }
    expect((await log.head(aggregate))?.version).toBe(1);
  });
});
