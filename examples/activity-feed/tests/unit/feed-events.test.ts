import { projectEvents, taskEvents } from '@tidemark-examples/task-events';
import { describe, expect, it } from 'vitest';
import { feedEvents } from '../../src/feed-events';

describe('feedEvents', () => {
  it('reads every event the task and project services publish, with their published schemas', () => {
    expect([...feedEvents.types].sort()).toEqual([...taskEvents.types, ...projectEvents.types].sort());
    for (const definition of [...taskEvents.definitions, ...projectEvents.definitions]) {
      expect(feedEvents.find(definition.type)).toBe(definition);
    }
  });
});
