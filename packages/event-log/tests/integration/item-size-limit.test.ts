/** The 400 KB item limit on DynamoDB Local, for payloads of every shape (review). */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DYNAMODB_MAX_ITEM_BYTES, newCommandId, RecordTooLargeError } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { expect } from 'vitest';
import { dynamoDbItemSize } from '../../src/storage';
import { testEventLog } from '../helpers/integration-fixture';

test('an event-log item of exactly 400 KB by the counted size is stored, whatever its shape; one byte more is refused with RecordTooLargeError', async ({
  aws,
  eventLogTable,
}) => {
  const log = testEventLog(aws, eventLogTable.tableName);
  const shapes: Record<string, unknown> = {
    none: undefined,
    map: Object.fromEntries(Array.from({ length: 20000 }, (_, i) => [`k${i}`, null])),
    numbers: Array.from({ length: 20000 }, (_, i) => i * 1.5 + 0.25),
    bools: Array.from({ length: 30000 }, () => true),
    nested: Array.from({ length: 8000 }, () => ({ a: [], b: {} })),
    euro: '€'.repeat(30000),
  };
  for (const [name, extra] of Object.entries(shapes)) {
    const aggregate = { type: 'Task', id: `s-${name}` };
    const probe = await log.append({
      aggregate,
      commandId: newCommandId(),
      events: [{ type: 'NoteAdded', data: { text: '' } }],
    });
    const raw = (
      await aws.dynamodb.send(
        new GetItemCommand({
          TableName: eventLogTable.tableName,
          Key: { pk: { S: `Task#${aggregate.id}` }, sk: { N: '1' } },
          ConsistentRead: true,
        }),
      )
    ).Item!;
    const payload = extra === undefined ? { text: '' } : { text: '', extra };
    const base = dynamoDbItemSize({ ...raw, payload: { M: marshall(payload) } });
    for (const delta of [0, 1]) {
      const text = 'x'.repeat(DYNAMODB_MAX_ITEM_BYTES - base + delta);
      const append = log.append({
        aggregate,
        commandId: newCommandId(),
        events: [{ type: 'NoteAdded', data: extra === undefined ? { text } : { text, extra } }],
      });
      if (delta === 0) expect((await append).version, name).toBe(2);
      else await expect(append, name).rejects.toBeInstanceOf(RecordTooLargeError);
    }
    expect(probe.version).toBe(1);
    expect((await log.head(aggregate))?.version).toBe(2);
  }
});
