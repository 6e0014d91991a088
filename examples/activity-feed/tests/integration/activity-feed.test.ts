import { consumerTableDescription } from '@tidemark/consumer';
import { createEnvelope, type EventEnvelope, newCommandId } from '@tidemark/core';
import { fakeLambdaContext, kinesisEventFromEnvelopes, type LocalAws } from '@tidemark/testing';
import { test } from '@tidemark/testing/vitest';
import { describe, expect } from 'vitest';
import { createActivityFeedListener, feedTableDescription, readFeed } from '../../src/index';

/** Envelopes as the task service publishes them, built from the published definitions' names. */
function history(aggregate: { type: string; id: string }, events: [string, Record<string, unknown>][]) {
  const source = aggregate.type === 'Task' ? '/task-service' : '/project-service';
  return events.map(
    ([type, data], index): EventEnvelope =>
      createEnvelope({ source, type, aggregate, version: index + 1, commandId: newCommandId(), data }),
  );
}

async function setUp(aws: LocalAws) {
  const [feed, state] = await Promise.all([
    aws.createTable({ ...feedTableDescription('unused'), TableName: undefined }),
    aws.createTable({ ...consumerTableDescription('unused'), TableName: undefined }),
  ]);
  const listener = createActivityFeedListener({
    dynamodb: aws.dynamodb,
    feedTable: feed.tableName,
    consumerTable: state.tableName,
  });
  return { listener, read: () => readFeed({ dynamodb: aws.dynamodb, feedTable: feed.tableName }) };
}

describe('the activity feed', () => {
  test('writes one sentence per event, naming tasks from earlier events', async ({ aws }) => {
    const { listener, read } = await setUp(aws);
    const task = { type: 'Task', id: 't-1' };
    const envelopes = [
      ...history({ type: 'Project', id: 'p-1' }, [['ProjectCreated', { name: 'Launch' }]]),
      ...history(task, [
        ['TaskCreated', { name: 'Book the venue', projectId: 'p-1' }],
        ['TaskUpdated', { summary: 'for 40 people' }],
        ['TaskUpdated', { name: 'Book a venue' }],
        ['TaskCompleted', { name: 'Book a venue' }],
        ['TaskReopened', { name: 'Book a venue' }],
        ['TaskDeleted', { name: 'Book a venue', reason: 'project-deleted', projectId: 'p-1' }],
      ]),
    ];

    const response = await listener(
      kinesisEventFromEnvelopes(envelopes),
      fakeLambdaContext({ timeoutSeconds: 60 }),
    );

    expect(response.batchItemFailures).toEqual([]);
    const texts = (await read()).map((entry) => entry.text);
    expect(texts).toHaveLength(7);
    expect(texts).toEqual(
      expect.arrayContaining([
        'Project “Launch” was created',
        'Task “Book the venue” was created in project p-1',
        'The summary of task “Book the venue” was changed',
        'Task “Book the venue” was renamed to “Book a venue”',
        'Task “Book a venue” was completed',
        'Task “Book a venue” was reopened',
        'Task “Book a venue” was deleted with its project',
      ]),
    );
  });

  test('writes nothing twice when Kinesis delivers a batch again', async ({ aws }) => {
    const { listener, read } = await setUp(aws);
    const batch = kinesisEventFromEnvelopes(
      history({ type: 'Task', id: 't-2' }, [
        ['TaskCreated', { name: 'Once' }],
        ['TaskCompleted', { name: 'Once' }],
      ]),
    );

    await listener(batch, fakeLambdaContext({ timeoutSeconds: 60 }));
    await listener(batch, fakeLambdaContext({ timeoutSeconds: 60 }));

    expect((await read()).map((entry) => entry.text)).toEqual([
      'Task “Once” was created',
      'Task “Once” was completed',
    ]);
  });
});
