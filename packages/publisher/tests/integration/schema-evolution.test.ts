/**
 * Schema evolution on the real engines: a producer appends events at newer schema versions
 * (DynamoDB Local), the publisher carries them through the stream to Kinesis (kinesis-mock), and
 * a listener whose definitions are older classifies what arrives.
 */
import {
  type AnyEventCatalog,
  classifyEvent,
  defineCatalog,
  defineEvent,
  newCommandId,
} from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { createEventLog } from '../../src/index';
import { drainStream, testPublisher } from '../helpers/integration-fixture';
import { readStream } from '../helpers/kinesis-reader';

const name = z.string().min(1).max(200);
const v1 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name }),
});
/** Version 2 adds an optional field: readers of version 1 can read it. */
const v2 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 2,
  readableFrom: 1,
  aggregateType: 'Task',
  schema: z.object({ name, priority: z.enum(['low', 'high']).optional() }),
});
/** Version 3 renames `name` to `title`: readers of versions 1 and 2 cannot read it. */
const v3 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 3,
  aggregateType: 'Task',
  schema: z.object({ title: name, priority: z.enum(['low', 'high']).optional() }),
  upcast: (data) => {
    const { name: title, ...rest } = data as { name: string };
    return { ...rest, title };
  },
});

describe('schema evolution through the event log, the publisher and Kinesis', () => {
  test('a version 1 listener reads version 2 events and holds version 3 ones; a version 3 listener reads all', async ({
    aws,
    eventLogTable,
  }) => {
    const { streamName } = await aws.createKinesisStream();
    const logAt = (definition: typeof v1 | typeof v2 | typeof v3) =>
      createEventLog({
        tableName: eventLogTable.tableName,
        dynamodb: aws.dynamodb,
        catalog: defineCatalog([definition]),
        source: '/it',
      });
    const aggregate = (id: string) => ({ type: 'Task', id });
    const bigName = 'x'.repeat(200);
    await logAt(v1).append({
      aggregate: aggregate('a'),
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: 'one' } }],
    });
    await logAt(v2).append({
      aggregate: aggregate('b'),
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { name: bigName, priority: 'high' } }],
    });
    await logAt(v3).append({
      aggregate: aggregate('c'),
      commandId: newCommandId(),
      events: [{ type: 'TaskCreated', data: { title: 'three', priority: 'low' } }],
    });

    await drainStream(aws, eventLogTable.streamArn, testPublisher(aws, { streamName }), {
      timeoutMs: 60_000,
    });
    const records = await readStream(aws.kinesis, streamName);
    const byAggregate = new Map(records.map((record) => [record.envelope.aggregateid, record.envelope]));
    expect([...byAggregate.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(byAggregate.get('a')?.readablefrom).toBeUndefined();
    expect(byAggregate.get('b')).toMatchObject({ schemaversion: 2, readablefrom: 1 });
    expect(byAggregate.get('c')?.readablefrom).toBeUndefined();

    const listenerV1 = defineCatalog([v1]);
    const classify = (id: string, catalog: AnyEventCatalog = listenerV1) =>
      classifyEvent(catalog, byAggregate.get(id)!);
    expect(classify('a')).toMatchObject({
      kind: 'readable',
      how: 'same-version',
      event: { data: { name: 'one' } },
    });
    expect(classify('b')).toMatchObject({
      kind: 'readable',
      how: 'newer-compatible',
      event: { data: { name: bigName } },
    });
    const b = classify('b');
    expect(b.kind === 'readable' && 'priority' in b.event.data).toBe(false);
    expect(classify('c')).toMatchObject({
      kind: 'not-readable-yet',
      schemaVersion: 3,
      readerSchemaVersion: 1,
      readableFrom: 3,
    });

    const listenerV3 = defineCatalog([v3]);
    expect(classify('a', listenerV3)).toMatchObject({
      kind: 'readable',
      how: 'upcast',
      event: { data: { title: 'one' } },
    });
    expect(classify('b', listenerV3)).toMatchObject({
      kind: 'readable',
      how: 'upcast',
      event: { data: { title: bigName, priority: 'high' } },
    });
    expect(classify('c', listenerV3)).toMatchObject({ kind: 'readable', how: 'same-version' });

    // The producer reads its own log back with the newest definition.
    const history = [];
    for await (const event of logAt(v3).read(aggregate('b'))) history.push(event);
    expect(history).toMatchObject([{ schemaVersion: 2, data: { title: bigName, priority: 'high' } }]);
  });
});
