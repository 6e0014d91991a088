/**
 * The compatibility rules of a catalog against its committed snapshot: which changes break readers
 * or events already written, which need an `upcast` or a schema version bump, and what to do about
 * each. The field-level comparison of two schemas is `findIncompatibilities`.
 */
import {
  type CatalogSnapshot,
  type CatalogSnapshotEvent,
  type CatalogSnapshotVersion,
  catalogSnapshot,
  snapshotVersionOf,
} from './catalog-snapshot';
import type { AnyEventCatalog, AnyEventDefinition } from './definition-types';
import { CatalogCompatibilityError, CatalogSnapshotError } from './errors';
import type { JsonSchema } from './json-schema';
import { findIncompatibilities } from './schema-compatibility';
import type { SchemaIncompatibility } from './schema-incompatibility';
import { stableJson } from './stable-json';

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
  const problems: CatalogProblem[] = removedEventTypes(catalog, snapshot);
  const changes: CatalogChange[] = [];
  for (const definition of catalog.definitions) {
    const found = checkEvent(definition, snapshot.events[definition.type]);
    problems.push(...found.problems);
    changes.push(...found.changes);
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

interface EventFindings {
  readonly problems: CatalogProblem[];
  readonly changes: CatalogChange[];
}

/** The snapshot's event types the catalog no longer defines, in name order. */
function removedEventTypes(catalog: AnyEventCatalog, snapshot: CatalogSnapshot): CatalogProblem[] {
  const defined = new Set(catalog.definitions.map((definition) => definition.type));
  const problems: CatalogProblem[] = [];
  for (const type of Object.keys(snapshot.events).sort()) {
    if (defined.has(type)) continue;
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
  return problems;
}

/** One definition against what the snapshot recorded of its event type (`undefined`: a new type). */
function checkEvent(definition: AnyEventDefinition, before: CatalogSnapshotEvent | undefined): EventFindings {
  const type = definition.type;
  const version = definition.schemaVersion;
  if (!before) {
    return {
      problems: [],
      changes: [
        { eventType: type, kind: 'added', message: `${type}: new event type (schema version ${version})` },
      ],
    };
  }
  const problems: CatalogProblem[] = [];
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
  const latest = Math.max(...Object.keys(before.versions).map(Number));
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
    return { problems, changes: [] };
  }
  const found =
    version === latest ? checkSameVersion(definition, before) : checkNewVersion(definition, before);
  return { problems: [...problems, ...found.problems], changes: found.changes };
}

/** A definition at the snapshot's latest schema version: unchanged, or changed without a bump. */
function checkSameVersion(definition: AnyEventDefinition, before: CatalogSnapshotEvent): EventFindings {
  const type = definition.type;
  const version = definition.schemaVersion;
  const current = snapshotVersionOf(definition);
  const previous = before.versions[String(version)] as CatalogSnapshotVersion;
  if (stableJson(previous) === stableJson(current)) {
    return {
      problems: [],
      changes:
        before.description === definition.description
          ? []
          : [{ eventType: type, kind: 'changed', message: `${type}: description changed` }],
    };
  }
  const problems: CatalogProblem[] = [];
  // Events already written at this version must stay readable by the changed definition.
  for (const found of compare(type, previous.written, current.read, { removedFieldsBreak: false })) {
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
  problems.push(...readerProblems(definition, current, before, true));
  return {
    problems,
    changes: [
      { eventType: type, kind: 'changed', message: `${type}: schema version ${version} changed compatibly` },
    ],
  };
}

/** A definition at a schema version above the snapshot's latest one. */
function checkNewVersion(definition: AnyEventDefinition, before: CatalogSnapshotEvent): EventFindings {
  const type = definition.type;
  const version = definition.schemaVersion;
  const current = snapshotVersionOf(definition);
  const recorded = Object.keys(before.versions)
    .map(Number)
    .sort((a, b) => a - b);
  const latest = recorded[recorded.length - 1] as number;
  const problems: CatalogProblem[] = [];
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
      const entry = before.versions[String(older)] as CatalogSnapshotVersion;
      for (const found of compare(type, entry.written, current.read, { removedFieldsBreak: false })) {
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
  problems.push(...readerProblems(definition, current, before, false));
  // Say when the latest readers could read the new version, so the producer can declare it.
  const previousEntry = before.versions[String(latest)] as CatalogSnapshotVersion;
  const couldDeclare =
    current.readableFrom > latest &&
    compare(type, current.written, previousEntry.read, { removedFieldsBreak: true }).length === 0;
  return {
    problems,
    changes: [
      {
        eventType: type,
        kind: 'new-version',
        message: `${type}: new schema version ${version} (after ${latest}), readable from version ${current.readableFrom}${
          couldDeclare
            ? `; readers at version ${latest} could read it too: declare readableFrom: ${latest} so that they do`
            : ''
        }`,
      },
    ],
  };
}

/**
 * Checks the readers the definition's `readableFrom` claims can read its payloads: every recorded
 * version from `readableFrom` up to the one before (`sameVersion`: up to its own version, whose
 * readers already run).
 */
function readerProblems(
  definition: AnyEventDefinition,
  current: CatalogSnapshotVersion,
  before: CatalogSnapshotEvent,
  sameVersion: boolean,
): CatalogProblem[] {
  const version = definition.schemaVersion;
  const problems: CatalogProblem[] = [];
  const last = sameVersion ? version : version - 1;
  for (let reader = current.readableFrom; reader <= last; reader += 1) {
    const entry = before.versions[String(reader)];
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
