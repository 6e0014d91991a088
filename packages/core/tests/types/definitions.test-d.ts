import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type CatalogEvent,
  classifyEvent,
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  type EventInput,
  type EventPayload,
  type EventTypeOf,
} from '../../src/index';

const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  schema: z.object({ name: z.string(), estimate: z.number().default(1) }),
});
const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  schema: z.object({ at: z.string() }),
});
const catalog = defineCatalog([TaskCreated, TaskCompleted]);
type Catalog = typeof catalog;

describe('event catalog typing', () => {
  it('infers the type names', () => {
    expectTypeOf<EventTypeOf<Catalog>>().toEqualTypeOf<'TaskCreated' | 'TaskCompleted'>();
  });

  it('infers the payload of each type from its schema', () => {
    expectTypeOf<EventPayload<Catalog, 'TaskCreated'>>().toEqualTypeOf<{ name: string; estimate: number }>();
    expectTypeOf<EventPayload<Catalog, 'TaskCompleted'>>().toEqualTypeOf<{ at: string }>();
  });

  it('narrows a parsed event by its type', () => {
    const event = {} as CatalogEvent<Catalog>;
    if (event.type === 'TaskCreated') expectTypeOf(event.data.name).toEqualTypeOf<string>();
    else expectTypeOf(event.data).toEqualTypeOf<{ at: string }>();
  });

  it('accepts schema input (defaults optional) when appending', () => {
    const input: EventInput<Catalog> = { type: 'TaskCreated', data: { name: 'x' } };
    expectTypeOf(input).toMatchTypeOf<EventInput<Catalog>>();
    // @ts-expect-error an undeclared type does not compile
    const wrong: EventInput<Catalog> = { type: 'TaskDeleted', data: {} };
    // @ts-expect-error a payload of the wrong shape does not compile
    const bad: EventInput<Catalog> = { type: 'TaskCompleted', data: { at: 1 } };
    void wrong;
    void bad;
  });

  it('types catalog.validate by the type name', () => {
    expectTypeOf(catalog.validate('TaskCompleted', {})).toEqualTypeOf<{ at: string }>();
    // @ts-expect-error an undeclared type does not compile
    catalog.validate('TaskDeleted', {});
  });

  it('refuses a handler map with an undeclared type', () => {
    type Handlers = { [K in EventTypeOf<Catalog>]?: (event: CatalogEvent<Catalog, K>) => Promise<void> };
    const handlers: Handlers = {
      TaskCreated: async (event) => {
        expectTypeOf(event.data.estimate).toEqualTypeOf<number>();
      },
      // @ts-expect-error an undeclared type does not compile
      TaskDeleted: async () => {},
    };
    void handlers;
  });

  it('types the event of a readable classification by the catalog', () => {
    const result = classifyEvent(catalog, {} as EventEnvelope);
    if (result.kind === 'readable') {
      const event = result.event;
      expectTypeOf(event).toEqualTypeOf<CatalogEvent<Catalog>>();
      if (event.type === 'TaskCreated')
        expectTypeOf(event.data).toEqualTypeOf<{ name: string; estimate: number }>();
    }
    if (result.kind === 'not-readable-yet') expectTypeOf(result.readableFrom).toEqualTypeOf<number>();
  });

  it('accepts readableFrom on a definition', () => {
    defineEvent({ type: 'A', schemaVersion: 2, readableFrom: 1, schema: z.object({}) });
    // @ts-expect-error readableFrom is a schema version number
    defineEvent({ type: 'A', schemaVersion: 2, readableFrom: '1', schema: z.object({}) });
  });
});
