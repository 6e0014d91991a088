import { createEnvelope, newCommandId } from '@tidemark/core';
import { taskEvents } from '@tidemark-examples/task-events';
import { describe, expect, it } from 'vitest';
import { AggregateHistoryError } from '../../src/errors';
import { applyTaskEvent, foldTask, type TaskEvent } from '../../src/task';

const event = (type: string, data: Record<string, unknown>, version: number): TaskEvent =>
  taskEvents.parse(
    createEnvelope({
      source: '/task-service',
      type,
      aggregate: { type: 'Task', id: 't-1' },
      version,
      commandId: newCommandId(),
      data,
    }),
  );

describe('foldTask', () => {
  it('rebuilds a task from its events', () => {
    const task = foldTask([
      event('TaskCreated', { name: 'a', summary: 's', projectId: 'p' }, 1),
      event('TaskUpdated', { name: 'b' }, 2),
      event('TaskCompleted', { name: 'b' }, 3),
      event('TaskUpdated', { summary: null }, 4),
      event('TaskDeleted', { name: 'b', reason: 'requested' }, 5),
    ]);
    expect(task).toMatchObject({
      id: 't-1',
      name: 'b',
      projectId: 'p',
      done: true,
      deleted: true,
      version: 5,
    });
    expect(task).not.toHaveProperty('summary');
  });

  it('refuses a history that does not start with TaskCreated', () => {
    expect(() => applyTaskEvent(undefined, event('TaskCompleted', { name: 'a' }, 1))).toThrow(
      AggregateHistoryError,
    );
  });

  it('refuses a second TaskCreated', () => {
    expect(() =>
      foldTask([event('TaskCreated', { name: 'a' }, 1), event('TaskCreated', { name: 'a' }, 2)]),
    ).toThrow(AggregateHistoryError);
  });
});

describe('task events', () => {
  it('refuses a TaskUpdated that changes nothing', () => {
    expect(() => taskEvents.validate('TaskUpdated', {})).toThrow(/at least one field/);
  });
});
