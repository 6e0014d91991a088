import { z } from 'zod';
import type { AnyEventCatalog, AnyEventDefinition } from './definitions';
import { CatalogCompatibilityError, CatalogSnapshotError, EventDefinitionError } from './errors';
import { toValidationIssues } from './issues';
import {
  findIncompatibilities,
  type JsonSchema,
  type SchemaIncompatibility,
  sortKeys,
  stableJson,
} from './schema-compatibility';

/** The format tag of a catalog snapshot file. */
export const CATALOG_SNAPSHOT_FORMAT = 'tidemark-catalog-snapshot/1';
/** The JSON Schema dialect of the schemas in a snapshot (what zod 4 emits). */
const CATALOG_SNAPSHOT_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** One schema version of an event type, as the snapshot records it. */
export interface CatalogSnapshotVersion {
  /** The oldest reader schema version declared able to read payloads of this version. */
  readonly readableFrom: number;
  /** Whether the definition at this version had an `upcast` for older payloads. */
  readonly upcast: boolean;
  /** The JSON Schema of what producers write at this version (the zod schema's output). */
  readonly written: JsonSchema;
  /** The JSON Schema of what a reader at this version accepts (the zod schema's input). */
  readonly read: JsonSchema;
}

/** One event type in a snapshot, with every schema version it has shipped. */
export interface CatalogSnapshotEvent {
  readonly aggregateType?: string;
  readonly description?: string;
  /** Keyed by schema version (`"1"`, `"2"`, …); the highest is the current one. */
  readonly versions: Readonly<Record<string, CatalogSnapshotVersion>>;
}

/**
 * The published contract of a catalog: its event types and, for each, the JSON Schema of every
 * schema version it shipped. A producer commits it next to its definitions; the check compares the
 * catalog with it.
 */
export interface CatalogSnapshot {
  readonly format: typeof CATALOG_SNAPSHOT_FORMAT;
  readonly dialect: string;
  readonly events: Readonly<Record<string, CatalogSnapshotEvent>>;
}

/** The kind of a {@link CatalogProblem}. */
export type CatalogProblemCode =
  /** The change breaks readers at the same schema version, or events already written at it: bump the version. */
  | 'incompatible-without-bump'
  /** A new schema version cannot read an older version's payloads as they are: add an `upcast`. */
  | 'upcast-needed'
  /** `readableFrom` claims readers at an older version can read this version, and they cannot. */
  | 'readers-cannot-read'
  /** `readableFrom` names a version the snapshot has no schema for, so the claim cannot be checked. */
  | 'readable-from-unverifiable'
  /** The schema version went down. */
  | 'schema-version-decreased'
  /** The schema version went up by more than one: the skipped versions were never recorded. */
  | 'schema-version-skipped'
  /** An event type of the snapshot is gone from the catalog. */
  | 'event-type-removed'
  /** The event type now belongs to another aggregate type. */
  | 'aggregate-type-changed';

/** One reason a catalog cannot ship as it is. */
export interface CatalogProblem {
  readonly code: CatalogProblemCode;
  readonly eventType: string;
  /** The definition's (current) schema version. */
  readonly schemaVersion: number;
  /** The field, as a dotted path in the payload (`priority`, `owner.id`, `tags[]`); `''` for the whole event. */
  readonly field: string;
  /** Why, for humans. */
  readonly reason: string;
  /** `eventType`, field, reason and what to do, in one line. */
  readonly message: string;
}

/** What changed between the snapshot and the catalog, without being a problem. */
export interface CatalogChange {
  readonly eventType: string;
  readonly kind: 'added' | 'changed' | 'new-version';
  readonly message: string;
}

/** The outcome of {@link checkCatalogCompatibility}. */
export interface CatalogCompatibilityReport {
  /** No problems: the catalog can ship. */
  readonly compatible: boolean;
  /** The snapshot already records the catalog exactly (nothing to update). */
  readonly upToDate: boolean;
  readonly problems: readonly CatalogProblem[];
  readonly changes: readonly CatalogChange[];
  /** The snapshot to commit once the catalog is compatible: the old one with the catalog's changes. */
  readonly snapshot: CatalogSnapshot;
}

/**
 * Makes the snapshot of a catalog: every definition's payload schema as JSON Schema (zod 4's
 * `toJSONSchema`), deterministic. With `previous`, the schemas of older schema versions are kept,
 * so that later checks can verify `readableFrom` claims and upcaster needs against them.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { catalogSnapshot, serializeCatalogSnapshot } from '@tidemark/core';
 * import { taskEvents } from './task-events';
 *
 * writeFileSync('catalog/task-events.json', serializeCatalogSnapshot(catalogSnapshot(taskEvents)));
 * ```
 */
export function catalogSnapshot(catalog: AnyEventCatalog, previous?: CatalogSnapshot): CatalogSnapshot {
  const events: Record<string, CatalogSnapshotEvent> = { ...(previous?.events ?? {}) };
  for (const definition of catalog.definitions) {
    const before = previous?.events[definition.type];
    const versions: Record<string, CatalogSnapshotVersion> = {};
    for (const [key, entry] of Object.entries(before?.versions ?? {})) {
      if (Number(key) < definition.schemaVersion) versions[key] = entry;
    }
    versions[String(definition.schemaVersion)] = versionEntry(definition);
    events[definition.type] = {
      ...(definition.aggregateType === undefined ? {} : { aggregateType: definition.aggregateType }),
      ...(definition.description === undefined ? {} : { description: definition.description }),
      versions,
    };
  }
  return sortKeys({
    format: CATALOG_SNAPSHOT_FORMAT,
    dialect: CATALOG_SNAPSHOT_DIALECT,
    events,
  }) as CatalogSnapshot;
}

/**
 * The snapshot as the text to commit: JSON with sorted keys, two-space indentation and a final
 * newline, so the same catalog always gives the same bytes.
 *
 * @example
 * ```ts
 * import { catalogSnapshot, serializeCatalogSnapshot } from '@tidemark/core';
 * const text = serializeCatalogSnapshot(catalogSnapshot(taskEvents));
 * ```
 */
export function serializeCatalogSnapshot(snapshot: CatalogSnapshot): string {
  return `${JSON.stringify(sortKeys(snapshot), null, 2)}\n`;
}

const jsonSchemaNode: z.ZodType<JsonSchema> = z.union([z.boolean(), z.record(z.string(), z.unknown())]);
const snapshotSchema = z.strictObject({
  format: z.literal(CATALOG_SNAPSHOT_FORMAT),
  dialect: z.string().min(1),
  events: z.record(
    z.string().min(1),
    z.strictObject({
      aggregateType: z.string().min(1).optional(),
      description: z.string().optional(),
      versions: z
        .record(
          z.string().regex(/^[1-9][0-9]*$/, 'must be a schema version (1, 2, …)'),
          z.strictObject({
            readableFrom: z.int().min(1),
            upcast: z.boolean(),
            written: jsonSchemaNode,
            read: jsonSchemaNode,
          }),
        )
        .refine((versions) => Object.keys(versions).length > 0, 'must record at least one schema version'),
    }),
  ),
});

/**
 * Reads a snapshot from its text (or parsed JSON). Throws {@link CatalogSnapshotError} listing
 * every problem.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseCatalogSnapshot } from '@tidemark/core';
 * const snapshot = parseCatalogSnapshot(readFileSync('catalog/task-events.json', 'utf8'));
 * ```
 */
export function parseCatalogSnapshot(input: string | unknown): CatalogSnapshot {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new CatalogSnapshotError(
        [{ path: '', message: `not JSON: ${(cause as Error).message}`, code: 'invalid_json' }],
        {},
        { cause },
      );
    }
  }
  const result = snapshotSchema.safeParse(value);
  if (!result.success) throw new CatalogSnapshotError(toValidationIssues(result.error));
  return result.data as CatalogSnapshot;
}

/**
 * Compares a catalog with its committed snapshot and lists what would break a reader:
 * - a change at the same schema version that readers at that version cannot read, or that makes
 *   events already written at it unreadable (it needs a schema version bump);
 * - a new schema version whose schema cannot read older payloads as they are, without an `upcast`;
 * - a `readableFrom` that claims readers at older versions can read payloads they cannot;
 * - a schema version that went down or skipped one, an event type removed, an aggregate type changed.
 *
 * Each problem names the event type, the field and why. The comparison sees what JSON Schema can
 * express: refinements (`.refine`) are invisible to it, and a transform's output counts as any value.
 *
 * @example
 * ```ts
 * import { checkCatalogCompatibility, parseCatalogSnapshot } from '@tidemark/core';
 *
 * const report = checkCatalogCompatibility(taskEvents, parseCatalogSnapshot(text));
 * for (const problem of report.problems) console.error(problem.message);
 * ```
 */
export function checkCatalogCompatibility(
  catalog: AnyEventCatalog,
  snapshot: CatalogSnapshot,
): CatalogCompatibilityReport {
  const problems: CatalogProblem[] = [];
  const changes: CatalogChange[] = [];
  const byType = new Map(catalog.definitions.map((definition) => [definition.type, definition]));

  for (const type of Object.keys(snapshot.events).sort()) {
    if (!byType.has(type)) {
      const versions = Object.keys(snapshot.events[type]?.versions ?? {}).map(Number);
      problems.push(
        problem(
          'event-type-removed',
          type,
          Math.max(...versions),
          '',
          'the event type was removed from the catalog, but its events stay in event logs and on streams and listeners handle them',
          'keep its definition (describe it as deprecated and stop appending it)',
        ),
      );
    }
  }

  for (const definition of catalog.definitions) {
    const type = definition.type;
    const version = definition.schemaVersion;
    const before = snapshot.events[type];
    const current = versionEntry(definition);
    if (!before) {
      changes.push({
        eventType: type,
        kind: 'added',
        message: `${type}: new event type (schema version ${version})`,
      });
      continue;
    }
    if (before.aggregateType !== definition.aggregateType) {
      problems.push(
        problem(
          'aggregate-type-changed',
          type,
          version,
          '',
          `its aggregate type changed from ${before.aggregateType ?? '(any)'} to ${definition.aggregateType ?? '(any)'}`,
          'publish a new event type instead',
        ),
      );
    }
    const recorded = Object.keys(before.versions)
      .map(Number)
      .sort((a, b) => a - b);
    const latest = recorded[recorded.length - 1] as number;
    const entryAt = (v: number) => before.versions[String(v)];

    if (version < latest) {
      problems.push(
        problem(
          'schema-version-decreased',
          type,
          version,
          '',
          `its schema version went down from ${latest} to ${version}`,
          `restore schema version ${latest} (or bump to ${latest + 1})`,
        ),
      );
      continue;
    }

    if (version === latest) {
      const previous = entryAt(version) as CatalogSnapshotVersion;
      if (stableJson(previous) === stableJson(current)) {
        if (before.description !== definition.description) {
          changes.push({ eventType: type, kind: 'changed', message: `${type}: description changed` });
        }
        continue;
      }
      // Events already written at this version must stay readable by the changed definition.
      for (const found of compare(type, previous.written, current.read, {
        removedFieldsBreak: false,
      })) {
        problems.push(
          problem(
            'incompatible-without-bump',
            type,
            version,
            found.path,
            `changed without a schema version bump, and the changed definition cannot read events already written at version ${version}: ${found.reason}`,
            `bump schemaVersion to ${version + 1} (with an upcast if version ${version} payloads need one)`,
          ),
        );
      }
      problems.push(...readerProblems(definition, current, entryAt, version, true));
      changes.push({
        eventType: type,
        kind: 'changed',
        message: `${type}: schema version ${version} changed compatibly`,
      });
      continue;
    }

    if (version > latest + 1) {
      problems.push(
        problem(
          'schema-version-skipped',
          type,
          version,
          '',
          `its schema version jumped from ${latest} to ${version}; the versions in between were never recorded, so readers of them cannot be checked`,
          `bump by one (to ${latest + 1})`,
        ),
      );
    }
    if (!definition.upcast) {
      for (const older of recorded) {
        const entry = entryAt(older) as CatalogSnapshotVersion;
        for (const found of compare(type, entry.written, current.read, {
          removedFieldsBreak: false,
        })) {
          problems.push(
            problem(
              'upcast-needed',
              type,
              version,
              found.path,
              `schema version ${version} cannot read payloads written at version ${older} as they are: ${found.reason}`,
              `add an upcast that turns version ${older} payloads into version ${version} input`,
            ),
          );
        }
      }
    }
    problems.push(...readerProblems(definition, current, entryAt, version, false));
    // Say when the latest readers could read the new version, so the producer can declare it.
    const previousEntry = entryAt(latest) as CatalogSnapshotVersion;
    const couldDeclare =
      current.readableFrom > latest &&
      compare(type, current.written, previousEntry.read, { removedFieldsBreak: true }).length === 0;
    changes.push({
      eventType: type,
      kind: 'new-version',
      message: `${type}: new schema version ${version} (after ${latest}), readable from version ${current.readableFrom}${
        couldDeclare
          ? `; readers at version ${latest} could read it too: declare readableFrom: ${latest} so that they do`
          : ''
      }`,
    });
  }

  const next = catalogSnapshot(catalog, snapshot);
  return {
    compatible: problems.length === 0,
    upToDate: stableJson(next) === stableJson(snapshot),
    problems,
    changes,
    snapshot: next,
  };
}

/**
 * Throws {@link CatalogCompatibilityError} when {@link checkCatalogCompatibility} finds a problem
 * or the snapshot is out of date (the catalog changed compatibly and the snapshot was not
 * updated). Meant for a producer's test suite.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { assertCatalogCompatible, parseCatalogSnapshot } from '@tidemark/core';
 * import { it } from 'vitest';
 * import { taskEvents } from '../src/task-events';
 *
 * it('ships no incompatible change', () => {
 *   assertCatalogCompatible(taskEvents, parseCatalogSnapshot(readFileSync('catalog/task-events.json', 'utf8')));
 * });
 * ```
 */
export function assertCatalogCompatible(catalog: AnyEventCatalog, snapshot: CatalogSnapshot): void {
  const report = checkCatalogCompatibility(catalog, snapshot);
  if (!report.compatible || !report.upToDate) {
    throw new CatalogCompatibilityError(
      report.problems.map(({ eventType, field, message }) => ({ eventType, field, message })),
      !report.upToDate,
    );
  }
}

function readerProblems(
  definition: AnyEventDefinition,
  current: CatalogSnapshotVersion,
  entryAt: (version: number) => CatalogSnapshotVersion | undefined,
  version: number,
  sameVersion: boolean,
): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const last = sameVersion ? version : version - 1;
  for (let reader = current.readableFrom; reader <= last; reader += 1) {
    const entry = entryAt(reader);
    if (!entry) {
      problems.push(
        problem(
          'readable-from-unverifiable',
          definition.type,
          version,
          '',
          `readableFrom ${current.readableFrom} claims readers at schema version ${reader} can read version ${version}, but the snapshot has no schema for version ${reader}`,
          `raise readableFrom to ${reader + 1}`,
        ),
      );
      continue;
    }
    for (const found of compare(definition.type, current.written, entry.read, { removedFieldsBreak: true })) {
      problems.push(
        sameVersion && reader === version
          ? problem(
              'incompatible-without-bump',
              definition.type,
              version,
              found.path,
              `changed without a schema version bump, and readers at version ${version} cannot read the new payloads: ${found.reason}`,
              `bump schemaVersion to ${version + 1}, so that readers at version ${version} do not read it before they deploy a definition at the new version`,
            )
          : problem(
              'readers-cannot-read',
              definition.type,
              version,
              found.path,
              `readableFrom ${current.readableFrom} claims readers at schema version ${reader} can read version ${version}, and they cannot: ${found.reason}`,
              sameVersion
                ? `raise readableFrom to ${reader + 1}, or undo the change`
                : `raise readableFrom to ${reader + 1}`,
            ),
      );
    }
  }
  return problems;
}

/** {@link findIncompatibilities}, with a schema it cannot read (a broken `$ref`) reported as a bad snapshot. */
function compare(
  eventType: string,
  writer: JsonSchema,
  reader: JsonSchema,
  options: { removedFieldsBreak: boolean },
): SchemaIncompatibility[] {
  try {
    return findIncompatibilities(writer, reader, options);
  } catch (cause) {
    throw new CatalogSnapshotError(
      [{ path: `events.${eventType}`, message: (cause as Error).message, code: 'invalid_schema' }],
      { eventType },
      { cause },
    );
  }
}

function versionEntry(definition: AnyEventDefinition): CatalogSnapshotVersion {
  return {
    readableFrom: definition.readableFrom ?? definition.schemaVersion,
    upcast: typeof definition.upcast === 'function',
    written: jsonSchemaOf(definition, 'output'),
    read: jsonSchemaOf(definition, 'input'),
  };
}

function jsonSchemaOf(definition: AnyEventDefinition, io: 'input' | 'output'): JsonSchema {
  let schema: Record<string, unknown>;
  try {
    schema = z.toJSONSchema(definition.schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  } catch (cause) {
    throw new EventDefinitionError(
      `Event ${definition.type}: its schema cannot be expressed as JSON Schema (${(cause as Error).message})`,
      { type: definition.type },
    );
  }
  const { $schema: _dialect, ...rest } = schema;
  return sortKeys(rest) as JsonSchema;
}

function problem(
  code: CatalogProblemCode,
  eventType: string,
  schemaVersion: number,
  field: string,
  reason: string,
  remedy: string,
): CatalogProblem {
  const where = field ? `${eventType} field "${field}"` : eventType;
  return { code, eventType, schemaVersion, field, reason, message: `${where}: ${reason}. Fix: ${remedy}.` };
}
