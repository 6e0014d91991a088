import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AnyEventDefinition,
  assertCatalogCompatible,
  CatalogCompatibilityError,
  type CatalogProblemCode,
  CatalogSnapshotError,
  catalogSnapshot,
  checkCatalogCompatibility,
  defineCatalog,
  defineEvent,
  parseCatalogSnapshot,
} from '../../src/index';
import { completed, name, v1 } from '../helpers/task-definitions';

const published = catalogSnapshot(defineCatalog([v1, completed]));

const taskCreated = (fields: Partial<Parameters<typeof defineEvent>[0]>): AnyEventDefinition =>
  defineEvent({ ...v1, ...fields } as Parameters<typeof defineEvent>[0]);

interface Row {
  readonly change: string;
  readonly definitions: readonly AnyEventDefinition[];
  /** The problems expected, as `code field`; empty for a compatible change. */
  readonly problems: readonly string[];
}

const table: Row[] = [
  { change: 'nothing', definitions: [v1, completed], problems: [] },
  {
    change: 'a new optional field without a bump',
    definitions: [
      taskCreated({
        schema: z.object({ name, summary: z.string().optional(), due: z.iso.date().optional() }),
      }),
      completed,
    ],
    problems: [],
  },
  {
    change: 'a description added',
    definitions: [taskCreated({ description: 'A task was created.' }), completed],
    problems: [],
  },
  {
    change: 'a new event type',
    definitions: [
      v1,
      completed,
      defineEvent({ type: 'TaskArchived', schemaVersion: 1, aggregateType: 'Task', schema: z.object({}) }),
    ],
    problems: [],
  },
  {
    change: 'a new required field without a bump',
    definitions: [
      taskCreated({ schema: z.object({ name, summary: z.string().optional(), due: z.iso.date() }) }),
      completed,
    ],
    problems: ['incompatible-without-bump due'],
  },
  {
    change: 'a removed field without a bump',
    definitions: [taskCreated({ schema: z.object({ name }) }), completed],
    problems: ['incompatible-without-bump summary'],
  },
  {
    change: 'a renamed field without a bump',
    definitions: [
      taskCreated({ schema: z.object({ title: name, summary: z.string().optional() }) }),
      completed,
    ],
    problems: ['incompatible-without-bump name', 'incompatible-without-bump title'],
  },
  {
    change: 'a changed type without a bump',
    definitions: [
      taskCreated({ schema: z.object({ name, summary: z.array(z.string()).optional() }) }),
      completed,
    ],
    problems: ['incompatible-without-bump summary', 'incompatible-without-bump summary'],
  },
  {
    change: 'a narrowed value without a bump',
    definitions: [
      taskCreated({
        schema: z.object({ name: z.string().trim().min(1).max(100), summary: z.string().optional() }),
      }),
      completed,
    ],
    problems: ['incompatible-without-bump name'],
  },
  {
    change: 'a widened value without a bump',
    definitions: [
      taskCreated({
        schema: z.object({ name: z.string().trim().min(1).max(400), summary: z.string().optional() }),
      }),
      completed,
    ],
    problems: ['incompatible-without-bump name'],
  },
  {
    change: 'readableFrom lowered without a bump',
    definitions: [completed, taskCreated({})],
    problems: [],
  },
  {
    change: 'a bump with a new required field and no upcast',
    definitions: [
      taskCreated({
        schemaVersion: 2,
        schema: z.object({ name, summary: z.string().optional(), due: z.iso.date() }),
      }),
      completed,
    ],
    problems: ['upcast-needed due'],
  },
  {
    change: 'a bump with a new required field and an upcast',
    definitions: [
      taskCreated({
        schemaVersion: 2,
        schema: z.object({ name, summary: z.string().optional(), due: z.iso.date() }),
        upcast: (data) => ({ ...(data as object), due: '2026-01-01' }),
      }),
      completed,
    ],
    problems: [],
  },
  {
    change: 'a bump with a new required field with a default and no upcast',
    definitions: [
      taskCreated({
        schemaVersion: 2,
        schema: z.object({ name, summary: z.string().optional(), due: z.iso.date().default('2026-01-01') }),
      }),
      completed,
    ],
    problems: [],
  },
  {
    change: 'a bump with a new optional field, readable by version 1',
    definitions: [
      taskCreated({
        schemaVersion: 2,
        readableFrom: 1,
        schema: z.object({ name, summary: z.string().optional(), due: z.iso.date().optional() }),
      }),
      completed,
    ],
    problems: [],
  },
  {
    change: 'a bump that removes a field, declared readable by version 1',
    definitions: [taskCreated({ schemaVersion: 2, readableFrom: 1, schema: z.object({ name }) }), completed],
    problems: ['readers-cannot-read summary'],
  },
  {
    change: 'a bump that removes a field, readable only by version 2 readers',
    definitions: [taskCreated({ schemaVersion: 2, schema: z.object({ name }) }), completed],
    problems: [],
  },
  {
    change: 'a bump that changes a type, without an upcast',
    definitions: [
      taskCreated({
        schemaVersion: 2,
        schema: z.object({ name: z.array(z.string()), summary: z.string().optional() }),
      }),
      completed,
    ],
    problems: ['upcast-needed name'],
  },
  {
    change: 'a bump by two',
    definitions: [taskCreated({ schemaVersion: 3 }), completed],
    problems: ['schema-version-skipped '],
  },
  {
    change: 'an event type removed',
    definitions: [v1],
    problems: ['event-type-removed '],
  },
  {
    change: 'an aggregate type changed',
    definitions: [taskCreated({ aggregateType: 'Todo' }), completed],
    problems: ['aggregate-type-changed '],
  },
];

const summary = (codes: readonly { code: CatalogProblemCode; field: string }[]) =>
  codes.map((problem) => `${problem.code} ${problem.field}`);

describe('checkCatalogCompatibility', () => {
  it.each(table)('$change: $problems', ({ definitions, problems }) => {
    const report = checkCatalogCompatibility(defineCatalog(definitions), published);
    expect(summary(report.problems).sort()).toEqual([...problems].sort());
    expect(report.compatible).toBe(problems.length === 0);
    for (const problem of report.problems) {
      expect(
        problem.message.startsWith(
          problem.field ? `TaskCreated field "${problem.field}"` : problem.eventType,
        ),
      ).toBe(true);
      expect(problem.message).toMatch(/Fix: /);
    }
  });

  it('says which field and why', () => {
    const report = checkCatalogCompatibility(
      defineCatalog([
        taskCreated({
          schemaVersion: 2,
          schema: z.object({ name, summary: z.string().optional(), due: z.iso.date() }),
        }),
        completed,
      ]),
      published,
    );
    expect(report.problems.map((problem) => problem.message)).toEqual([
      'TaskCreated field "due": schema version 2 cannot read payloads written at version 1 as they are: the reader requires this field and the writer does not write it (a field removed, renamed or added as required). Fix: add an upcast that turns version 1 payloads into version 2 input.',
    ]);
  });

  it('is up to date only when the snapshot records the catalog exactly', () => {
    expect(checkCatalogCompatibility(defineCatalog([v1, completed]), published)).toMatchObject({
      compatible: true,
      upToDate: true,
      changes: [],
    });
    const changed = checkCatalogCompatibility(
      defineCatalog([taskCreated({ description: 'x' }), completed]),
      published,
    );
    expect(changed).toMatchObject({ compatible: true, upToDate: false });
    expect(changed.changes).toEqual([
      { eventType: 'TaskCreated', kind: 'changed', message: 'TaskCreated: description changed' },
    ]);
    expect(
      checkCatalogCompatibility(
        defineCatalog([taskCreated({ description: 'x' }), completed]),
        changed.snapshot,
      ).upToDate,
    ).toBe(true);
  });

  it('keeps the schemas of older versions, so a later claim is checked against them', () => {
    const v2 = taskCreated({
      schemaVersion: 2,
      schema: z.object({ name, summary: z.string().optional(), due: z.iso.date().optional() }),
    });
    const afterV2 = checkCatalogCompatibility(defineCatalog([v2, completed]), published).snapshot;
    expect(Object.keys(afterV2.events.TaskCreated?.versions ?? {})).toEqual(['1', '2']);
    // Version 3 drops `summary` and claims version 1 readers can read it: they know `summary`.
    const v3 = taskCreated({
      schemaVersion: 3,
      readableFrom: 1,
      schema: z.object({ name, due: z.iso.date().optional() }),
    });
    const report = checkCatalogCompatibility(defineCatalog([v3, completed]), afterV2);
    expect(summary(report.problems).sort()).toEqual([
      'readers-cannot-read summary',
      'readers-cannot-read summary',
    ]);
    expect(report.problems.map((problem) => problem.reason).join('\n')).toMatch(
      /readers at schema version 1 .*\n.*readers at schema version 2/,
    );
  });

  it('cannot verify a claim about a version the snapshot never recorded', () => {
    const startedAt2 = catalogSnapshot(defineCatalog([taskCreated({ schemaVersion: 2 })]));
    const report = checkCatalogCompatibility(
      defineCatalog([taskCreated({ schemaVersion: 3, readableFrom: 1 })]),
      startedAt2,
    );
    expect(summary(report.problems)).toEqual(['readable-from-unverifiable ']);
  });

  it('refuses a schema version that went down', () => {
    const at2 = catalogSnapshot(defineCatalog([taskCreated({ schemaVersion: 2 })]));
    const report = checkCatalogCompatibility(defineCatalog([v1]), at2);
    expect(summary(report.problems)).toEqual(['schema-version-decreased ']);
  });
});

describe('assertCatalogCompatible', () => {
  it('passes for the published catalog', () => {
    expect(() => assertCatalogCompatible(defineCatalog([v1, completed]), published)).not.toThrow();
  });

  it('throws CatalogCompatibilityError naming the type, the field and why', () => {
    let error: unknown;
    try {
      assertCatalogCompatible(
        defineCatalog([taskCreated({ schema: z.object({ name }) }), completed]),
        published,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CatalogCompatibilityError);
    const failure = error as CatalogCompatibilityError;
    expect(failure.code).toBe('CATALOG_INCOMPATIBLE');
    expect(failure.problems).toEqual([
      expect.objectContaining({ eventType: 'TaskCreated', field: 'summary' }),
    ]);
    expect(failure.message).toMatch(
      /TaskCreated field "summary": changed without a schema version bump, and readers at version 1 cannot read the new payloads: the reader knows this optional field and the writer no longer writes it \(removed or renamed\)/,
    );
  });

  it('throws when the catalog changed compatibly and the snapshot was not updated', () => {
    expect(() =>
      assertCatalogCompatible(defineCatalog([taskCreated({ description: 'x' }), completed]), published),
    ).toThrow(/snapshot is out of date/);
  });
});

describe('the schema evolution walkthroughs', () => {
  const base = { type: 'TaskCreated', aggregateType: 'Task' } as const;
  const fields = { summary: z.string().optional() };

  it('walkthrough 1 and 2: a field added, marked with a version readable by version 1, then renamed with an upcast', () => {
    let snapshot = catalogSnapshot(
      defineCatalog([defineEvent({ ...base, schemaVersion: 1, schema: z.object({ name, ...fields }) })]),
    );

    // 1. A new optional field without a bump: compatible, only the snapshot to update.
    const withPriority = z.object({ name, ...fields, priority: z.enum(['low', 'high']).optional() });
    let report = checkCatalogCompatibility(
      defineCatalog([defineEvent({ ...base, schemaVersion: 1, schema: withPriority })]),
      snapshot,
    );
    expect(report).toMatchObject({ compatible: true, upToDate: false });

    // The same change marked as version 2, readable by version 1: the claim holds.
    const v2 = defineEvent({ ...base, schemaVersion: 2, readableFrom: 1, schema: withPriority });
    report = checkCatalogCompatibility(defineCatalog([v2]), snapshot);
    expect(report.problems).toEqual([]);
    snapshot = report.snapshot;

    // 2. `name` renamed to `title`: without an upcast the check names the field and why.
    const renamed = z.object({ title: name, ...fields, priority: z.enum(['low', 'high']).optional() });
    report = checkCatalogCompatibility(
      defineCatalog([defineEvent({ ...base, schemaVersion: 3, schema: renamed })]),
      snapshot,
    );
    expect(summary(report.problems)).toEqual(['upcast-needed title', 'upcast-needed title']);
    expect(report.problems[0]?.message).toMatch(
      /^TaskCreated field "title": schema version 3 cannot read payloads written at version 1/,
    );
    expect(report.problems[1]?.message).toMatch(/written at version 2/);

    // Claiming that version 2 readers can read it is refused too.
    report = checkCatalogCompatibility(
      defineCatalog([
        defineEvent({ ...base, schemaVersion: 3, readableFrom: 2, schema: renamed, upcast: (data) => data }),
      ]),
      snapshot,
    );
    expect(summary(report.problems)).toEqual(['readers-cannot-read name']);

    // With the upcast and the default readableFrom, it ships, and the snapshot keeps all three versions.
    const v3 = defineEvent({
      ...base,
      schemaVersion: 3,
      schema: renamed,
      upcast: (data) => {
        const { name: title, ...rest } = data as { name: string };
        return { ...rest, title };
      },
    });
    report = checkCatalogCompatibility(defineCatalog([v3]), snapshot);
    expect(report).toMatchObject({ compatible: true, upToDate: false });
    expect(Object.keys(report.snapshot.events.TaskCreated?.versions ?? {})).toEqual(['1', '2', '3']);
    expect(report.snapshot.events.TaskCreated?.versions['3']).toMatchObject({
      readableFrom: 3,
      upcast: true,
    });
  });
});

describe('a snapshot whose schema cannot be read', () => {
  it('is reported as CatalogSnapshotError, not a crash', () => {
    const broken = parseCatalogSnapshot({
      format: 'tidemark-catalog-snapshot/1',
      dialect: 'https://json-schema.org/draft/2020-12/schema',
      events: {
        TaskCompleted: {
          aggregateType: 'Task',
          versions: {
            '1': {
              readableFrom: 1,
              upcast: false,
              written: { $ref: '#/$defs/gone' },
              read: { $ref: '#/$defs/gone' },
            },
          },
        },
      },
    });
    const changed = defineEvent({ ...completed, schema: z.object({ name, note: z.string().optional() }) });
    expect(() => checkCatalogCompatibility(defineCatalog([changed]), broken)).toThrow(CatalogSnapshotError);
    expect(() => checkCatalogCompatibility(defineCatalog([changed]), broken)).toThrow(
      /cannot resolve \$ref #\/\$defs\/gone/,
    );
  });
});

describe('new schema versions', () => {
  it('says when the previous readers could read a new version that does not declare it', () => {
    const optional = z.object({ name, summary: z.string().optional(), due: z.iso.date().optional() });
    const undeclared = checkCatalogCompatibility(
      defineCatalog([taskCreated({ schemaVersion: 2, schema: optional }), completed]),
      published,
    );
    expect(undeclared.changes.map((change) => change.message)).toEqual([
      'TaskCreated: new schema version 2 (after 1), readable from version 2; readers at version 1 could read it too: declare readableFrom: 1 so that they do',
    ]);
    const declared = checkCatalogCompatibility(
      defineCatalog([taskCreated({ schemaVersion: 2, readableFrom: 1, schema: optional }), completed]),
      published,
    );
    expect(declared.changes.map((change) => change.message)).toEqual([
      'TaskCreated: new schema version 2 (after 1), readable from version 1',
    ]);
    const breaking = checkCatalogCompatibility(
      defineCatalog([taskCreated({ schemaVersion: 2, schema: z.object({ name }) }), completed]),
      published,
    );
    expect(breaking.changes.map((change) => change.message)).toEqual([
      'TaskCreated: new schema version 2 (after 1), readable from version 2',
    ]);
  });
});
