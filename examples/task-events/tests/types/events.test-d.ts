import type { EventInput, EventPayload } from '@tidemark/core';
import { expectTypeOf, test } from 'vitest';
import type { ProjectEvents, TaskEvents } from '../../src/index';

test('the published task events have the payload types downstream handlers get', () => {
  expectTypeOf<EventPayload<TaskEvents, 'TaskCreated'>>().toEqualTypeOf<{
    name: string;
    summary?: string | undefined;
    projectId?: string | undefined;
  }>();
  expectTypeOf<EventPayload<TaskEvents, 'TaskUpdated'>['summary']>().toEqualTypeOf<
    string | null | undefined
  >();
  expectTypeOf<EventPayload<TaskEvents, 'TaskDeleted'>['reason']>().toEqualTypeOf<
    'requested' | 'project-deleted'
  >();
  expectTypeOf<EventPayload<ProjectEvents, 'ProjectDeleted'>>().toEqualTypeOf<{ name: string }>();
});

test('appending an event needs its payload', () => {
  expectTypeOf<{ type: 'TaskCompleted'; data: { name: 'x' } }>().toExtend<EventInput<TaskEvents>>();
  // @ts-expect-error TaskCompleted carries the task's name
  const missingName: EventInput<TaskEvents> = { type: 'TaskCompleted', data: {} };
  // @ts-expect-error no such event type
  const unknownType: EventInput<TaskEvents> = { type: 'TaskArchived', data: {} };
  expectTypeOf(missingName).not.toBeNever();
  expectTypeOf(unknownType).not.toBeNever();
});
