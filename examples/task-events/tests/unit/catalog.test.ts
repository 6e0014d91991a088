/**
 * The published catalogs against their committed snapshots (catalog/*.json): a change that would
 * break a listener — a removed, renamed or retyped field, a narrowed value, a new required field
 * without a schema version bump, a bump without the upcast it needs — fails here, naming the
 * event type, the field and why. After a compatible change, update the snapshots with
 * `npm run catalog:update -w @tidemark-examples/task-events` and commit them.
 */
import { readFileSync } from 'node:fs';
import {
  assertCatalogCompatible,
  CatalogCompatibilityError,
  checkCatalogCompatibility,
  defineCatalog,
  defineEvent,
  parseCatalogSnapshot,
} from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  projectEvents,
  TaskCompleted,
  TaskCreated,
  TaskDeleted,
  TaskReopened,
  TaskUpdated,
  taskEvents,
} from '../../src/index';

const snapshot = (file: string) =>
  parseCatalogSnapshot(readFileSync(new URL(`../../catalog/${file}`, import.meta.url), 'utf8'));

describe.each([
  { name: 'taskEvents', catalog: taskEvents, file: 'task-events.json' },
  { name: 'projectEvents', catalog: projectEvents, file: 'project-events.json' },
])('the published catalog $name', ({ catalog, file }) => {
  it('ships no change its listeners cannot read, and its snapshot is up to date', () => {
    assertCatalogCompatible(catalog, snapshot(file));
  });

  it('is recorded type by type in its snapshot', () => {
    expect(Object.keys(snapshot(file).events).sort()).toEqual([...catalog.types].sort());
    expect(checkCatalogCompatibility(catalog, snapshot(file)).changes).toEqual([]);
  });
});

describe('the snapshot check', () => {
  const withTaskCreated = (definition: typeof TaskCreated) =>
    defineCatalog([definition, TaskUpdated, TaskCompleted, TaskReopened, TaskDeleted]);

  it('catches a field renamed without a schema version bump', () => {
    const renamed = defineEvent({
      ...TaskCreated,
      schema: z.object({ title: z.string().min(1).max(200), summary: z.string().max(2000).optional() }),
    }) as unknown as typeof TaskCreated;
    let error: unknown;
    try {
      assertCatalogCompatible(withTaskCreated(renamed), snapshot('task-events.json'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CatalogCompatibilityError);
    expect((error as CatalogCompatibilityError).problems.map((problem) => problem.field).sort()).toEqual([
      'name',
      'projectId',
      'title',
    ]);
  });

  it('accepts a new optional field, which only needs the snapshot updated', () => {
    const withDueDate = defineEvent({
      ...TaskCreated,
      schema: TaskCreated.schema.extend({ due: z.iso.date().optional() }),
    }) as unknown as typeof TaskCreated;
    const report = checkCatalogCompatibility(withTaskCreated(withDueDate), snapshot('task-events.json'));
    expect(report).toMatchObject({ compatible: true, upToDate: false });
  });
});
