/**
 * The catalog snapshot: its format, how a catalog is recorded in it, the text to commit and how
 * that text is read back. Comparing a catalog with a snapshot is `catalog-compatibility.ts`.
 */
import { z } from 'zod';
import type { AnyEventCatalog, AnyEventDefinition } from './definition-types';
import { CatalogSnapshotError, EventDefinitionError } from './errors';
import { toValidationIssues } from './issues';
import type { JsonSchema } from './json-schema';
import { sortKeys } from './stable-json';

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
    versions[String(definition.schemaVersion)] = snapshotVersionOf(definition);
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

/** The snapshot file's shape; unknown keys are refused, so a typo or a newer format fails loudly. */
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

/** How a snapshot records the definition's current schema version. */
export function snapshotVersionOf(definition: AnyEventDefinition): CatalogSnapshotVersion {
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
