import type { z } from 'zod';
import type { AggregateRef } from './aggregate';
import type { Ulid } from './command-id';
import type { EventEnvelope, EventMetadata } from './envelope';
import { EventDefinitionError, PayloadValidationError, UnknownEventTypeError } from './errors';

/** Any zod schema whose output is an object (event payloads are DynamoDB maps). */
export type PayloadSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** A declared event type: its name, the version of its payload schema, and the schema. */
export interface EventDefinition<
  TType extends string = string,
  TSchema extends PayloadSchema = PayloadSchema,
> {
  /** The event type name, e.g. `TaskCreated`. */
  readonly type: TType;
  /** The current payload schema version (1 or more). */
  readonly schemaVersion: number;
  /** The zod schema of the payload at `schemaVersion`. */
  readonly schema: TSchema;
  /** The aggregate type this event belongs to, if it is restricted to one. Default: any. */
  readonly aggregateType?: string;
  /**
   * The oldest schema version of this event type whose readers can read payloads written at
   * `schemaVersion`. Events carry it (the envelope's `readablefrom` attribute), and a reader whose
   * definition is at a version from `readableFrom` up to `schemaVersion - 1` reads them with its own
   * schema (its handler sees the fields it knows) instead of refusing them. Declare it only for a
   * change every such reader can read (a new optional field, for example);
   * `checkCatalogCompatibility` verifies the claim against the catalog snapshot.
   * @default schemaVersion (only readers at this version or later)
   */
  readonly readableFrom?: number;
  /**
   * Turns a payload written with an older schema version into input for the current schema,
   * which then validates it. Without it, older payloads are validated as they are, so a change the
   * current schema cannot read as it is (a new required field, a changed type, a narrowed value)
   * needs one; `checkCatalogCompatibility` says when.
   * @default none
   */
  readonly upcast?: (data: unknown, fromSchemaVersion: number) => unknown;
  /** What the event means, for humans. Default: none. */
  readonly description?: string;
}

/**
 * Declares an event type.
 *
 * @example
 * ```ts
 * import { defineEvent } from '@tidemark/core';
 * import { z } from 'zod';
 *
 * export const TaskCreated = defineEvent({
 *   type: 'TaskCreated',
 *   schemaVersion: 1,
 *   aggregateType: 'Task',
 *   schema: z.object({ name: z.string().min(1), summary: z.string().optional() }),
 * });
 * ```
 */
export function defineEvent<const TType extends string, TSchema extends PayloadSchema>(
  definition: EventDefinition<TType, TSchema>,
): EventDefinition<TType, TSchema> {
  if (typeof definition.type !== 'string' || definition.type.length === 0) {
    throw new EventDefinitionError('An event definition needs a non-empty type name', {
      type: definition.type,
    });
  }
  if (!Number.isInteger(definition.schemaVersion) || definition.schemaVersion < 1) {
    throw new EventDefinitionError(
      `Event ${definition.type}: schemaVersion must be an integer of 1 or more`,
      {
        type: definition.type,
        schemaVersion: definition.schemaVersion,
      },
    );
  }
  if (
    definition.readableFrom !== undefined &&
    (!Number.isInteger(definition.readableFrom) ||
      definition.readableFrom < 1 ||
      definition.readableFrom > definition.schemaVersion)
  ) {
    throw new EventDefinitionError(
      `Event ${definition.type}: readableFrom must be an integer from 1 to schemaVersion (${definition.schemaVersion})`,
      {
        type: definition.type,
        schemaVersion: definition.schemaVersion,
        readableFrom: definition.readableFrom,
      },
    );
  }
  if (definition.upcast !== undefined && typeof definition.upcast !== 'function') {
    throw new EventDefinitionError(`Event ${definition.type}: upcast must be a function`, {
      type: definition.type,
    });
  }
  if (typeof definition.schema?.safeParse !== 'function') {
    throw new EventDefinitionError(`Event ${definition.type}: schema must be a zod schema`, {
      type: definition.type,
    });
  }
  return Object.freeze({ ...definition });
}

/** Any event definition. */
// biome-ignore lint/suspicious/noExplicitAny: the schema type parameter must accept every zod schema
export type AnyEventDefinition = EventDefinition<string, any>;

/** A decoded, validated event with its envelope fields in camel case. */
export interface DomainEvent<TType extends string = string, TData = Record<string, unknown>> {
  /** The event id (ULID). */
  readonly eventId: Ulid;
  /** The event type. */
  readonly type: TType;
  /** The payload, parsed by the definition's schema. */
  readonly data: TData;
  /** The aggregate the event belongs to. */
  readonly aggregate: AggregateRef;
  /** The aggregate version the event created. */
  readonly version: number;
  /** The id of the command that produced it. */
  readonly commandId: Ulid;
  /** The payload schema version the event was written with. */
  readonly schemaVersion: number;
  /** When it was appended (RFC 3339). */
  readonly time: string;
  /** Who produced it. */
  readonly source: string;
  /** Correlation, causation and trace context. */
  readonly metadata: EventMetadata;
}

/** A set of event definitions, looked up by type. */
export interface EventCatalog<TDefs extends readonly AnyEventDefinition[] = readonly AnyEventDefinition[]> {
  /** The definitions, as declared. */
  readonly definitions: TDefs;
  /** The type names. */
  readonly types: readonly TDefs[number]['type'][];
  /** Tells whether a type name belongs to the catalog. */
  has(type: string): type is TDefs[number]['type'];
  /** The definition of a type, or `undefined`. */
  find(type: string): AnyEventDefinition | undefined;
  /** Validates a payload for `type`; throws {@link PayloadValidationError} or {@link UnknownEventTypeError}. */
  validate<K extends TDefs[number]['type']>(
    type: K,
    data: unknown,
  ): z.output<Extract<TDefs[number], { type: K }>['schema']>;
  /**
   * Reads an envelope into a typed event: finds the definition by type, upcasts older schema
   * versions, reads a newer version its producer declared readable by this one (`readablefrom`),
   * validates the payload. Throws {@link UnknownEventTypeError}, `UnsupportedSchemaVersionError`
   * (a newer version not readable by this definition), `UpcastError` or
   * {@link PayloadValidationError}; `classifyEvent` returns the same outcomes without throwing.
   */
  parse(envelope: EventEnvelope): CatalogEvent<EventCatalog<TDefs>>;
}

/** Any catalog (the type helpers below accept every catalog through this shape). */
export interface AnyEventCatalog {
  readonly definitions: readonly AnyEventDefinition[];
  readonly types: readonly string[];
  has(type: string): boolean;
  find(type: string): AnyEventDefinition | undefined;
  parse(envelope: EventEnvelope): DomainEvent;
}
/** The definitions of a catalog type. */
export type CatalogDefinitions<C extends AnyEventCatalog> = C['definitions'][number];
/** The event type names of a catalog. */
export type EventTypeOf<C extends AnyEventCatalog> = CatalogDefinitions<C>['type'];
/** The definition of one type in a catalog. */
export type DefinitionOf<C extends AnyEventCatalog, K extends EventTypeOf<C>> = Extract<
  CatalogDefinitions<C>,
  { type: K }
>;
/** The parsed payload type of one event type. */
export type EventPayload<C extends AnyEventCatalog, K extends EventTypeOf<C>> = z.output<
  DefinitionOf<C, K>['schema']
>;
/** The payload type accepted when appending one event type (before defaults and transforms). */
export type EventPayloadInput<C extends AnyEventCatalog, K extends EventTypeOf<C>> = z.input<
  DefinitionOf<C, K>['schema']
>;
/** A typed event of the catalog; a union over its types unless `K` narrows it. */
export type CatalogEvent<C extends AnyEventCatalog, K extends EventTypeOf<C> = EventTypeOf<C>> =
  K extends EventTypeOf<C> ? DomainEvent<K, EventPayload<C, K>> : never;
/** An event to append: a union of `{ type, data }` over the catalog's types. */
export type EventInput<C extends AnyEventCatalog> = {
  [K in EventTypeOf<C>]: { readonly type: K; readonly data: EventPayloadInput<C, K> };
}[EventTypeOf<C>];
