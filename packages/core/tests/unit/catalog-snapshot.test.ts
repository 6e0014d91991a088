import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CatalogSnapshotError,
  catalogSnapshot,
  defineCatalog,
  defineEvent,
  parseCatalogSnapshot,
  serializeCatalogSnapshot,
} from '../../src/index';
import { completed, name, v1 } from '../helpers/task-definitions';

describe('catalog snapshots', () => {
  it('are deterministic, sorted and round-trip through their text', () => {
    const text = serializeCatalogSnapshot(catalogSnapshot(defineCatalog([v1, completed])));
    expect(serializeCatalogSnapshot(catalogSnapshot(defineCatalog([completed, v1])))).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text).events)).toEqual(['TaskCompleted', 'TaskCreated']);
    expect(serializeCatalogSnapshot(parseCatalogSnapshot(text))).toBe(text);
    expect(JSON.parse(text).events.TaskCreated.versions['1']).toEqual({
      readableFrom: 1,
      upcast: false,
      written: {
        additionalProperties: false,
        properties: { name: { maxLength: 200, minLength: 1, type: 'string' }, summary: { type: 'string' } },
        required: ['name'],
        type: 'object',
      },
      read: {
        properties: { name: { maxLength: 200, minLength: 1, type: 'string' }, summary: { type: 'string' } },
        required: ['name'],
        type: 'object',
      },
    });
  });

  it('keeps the older versions and the event types of the previous snapshot', () => {
    const first = catalogSnapshot(defineCatalog([v1, completed]));
    const v2 = defineEvent({ ...v1, schemaVersion: 2, schema: z.object({ name }) });
    const second = catalogSnapshot(defineCatalog([v2]), first);
    expect(Object.keys(second.events)).toEqual(['TaskCompleted', 'TaskCreated']);
    expect(second.events.TaskCompleted).toEqual(first.events.TaskCompleted);
    expect(second.events.TaskCreated?.versions['1']).toEqual(first.events.TaskCreated?.versions['1']);
    expect(second.events.TaskCreated?.versions['2']?.written).toMatchObject({ required: ['name'] });
    expect(second.events.TaskCreated?.versions['2']?.written).not.toHaveProperty('properties.summary');

    // Going back to version 1 records version 1 as it is now and forgets version 2.
    const back = catalogSnapshot(defineCatalog([v1]), second);
    expect(Object.keys(back.events.TaskCreated?.versions ?? {})).toEqual(['1']);
  });

  it('records readableFrom, the upcast and the description', () => {
    const v2 = defineEvent({
      ...v1,
      schemaVersion: 2,
      readableFrom: 1,
      description: 'A task was created.',
      upcast: (data) => data,
    });
    const event = catalogSnapshot(defineCatalog([v2])).events.TaskCreated;
    expect(event).toMatchObject({ aggregateType: 'Task', description: 'A task was created.' });
    expect(event?.versions['2']).toMatchObject({ readableFrom: 1, upcast: true });
  });

  it.each([
    ['not JSON', '{', ''],
    ['another format', JSON.stringify({ format: 'x', dialect: 'd', events: {} }), 'format'],
    [
      'a key the format does not have',
      JSON.stringify({ format: 'tidemark-catalog-snapshot/1', dialect: 'd', events: {}, extra: 1 }),
      '',
    ],
    [
      'a schema that is neither an object nor a boolean',
      JSON.stringify({
        format: 'tidemark-catalog-snapshot/1',
        dialect: 'd',
        events: { A: { versions: { '1': { readableFrom: 1, upcast: false, written: 'x', read: true } } } },
      }),
      'events.A.versions.1.written',
    ],
    [
      'a version that is not a number',
      JSON.stringify({
        format: 'tidemark-catalog-snapshot/1',
        dialect: 'd',
        events: { A: { versions: { one: {} } } },
      }),
      'events.A.versions',
    ],
    [
      'an event without versions',
      JSON.stringify({
        format: 'tidemark-catalog-snapshot/1',
        dialect: 'd',
        events: { A: { versions: {} } },
      }),
      'events.A.versions',
    ],
  ])('refuses %s with CatalogSnapshotError', (_what, text, path) => {
    let error: unknown;
    try {
      parseCatalogSnapshot(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CatalogSnapshotError);
    expect((error as CatalogSnapshotError).code).toBe('CATALOG_SNAPSHOT_INVALID');
    expect((error as CatalogSnapshotError).issues.map((issue) => issue.path).join(' ')).toContain(path);
  });
});
