import { classifyWithDefinition } from './classify-event';
import type {
  AnyEventDefinition,
  CatalogEvent,
  EventCatalog,
  EventDefinition,
  PayloadSchema,
} from './definition-types';
import { EventDefinitionError, PayloadValidationError, UnknownEventTypeError } from './errors';
import { toValidationIssues } from './issues';

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

/**
 * Groups event definitions so that producers and handlers get their payload types inferred.
 * Throws {@link EventDefinitionError} when two definitions share a type.
 *
 * @example
 * ```ts
 * import { defineCatalog } from '@tidemark/core';
 *
 * export const taskEvents = defineCatalog([TaskCreated, TaskRenamed, TaskCompleted]);
 * const event = taskEvents.parse(envelope);
 * if (event.type === 'TaskCreated') event.data.name; // string
 * ```
 */
export function defineCatalog<const TDefs extends readonly AnyEventDefinition[]>(
  definitions: TDefs,
): EventCatalog<TDefs> {
  const byType = new Map<string, AnyEventDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new EventDefinitionError(`Event type ${definition.type} is defined twice in one catalog`, {
        type: definition.type,
      });
    }
    byType.set(definition.type, definition);
  }
  const types = Object.freeze([...byType.keys()]) as readonly TDefs[number]['type'][];

  const definitionFor = (type: string): AnyEventDefinition => {
    const definition = byType.get(type);
    if (!definition) throw new UnknownEventTypeError(type, types);
    return definition;
  };

  const validateWith = (definition: AnyEventDefinition, data: unknown, schemaVersion: number) => {
    const result = definition.schema.safeParse(data);
    if (!result.success) {
      throw new PayloadValidationError(definition.type, schemaVersion, toValidationIssues(result.error));
    }
    return result.data as Record<string, unknown>;
  };

  const catalog: EventCatalog<TDefs> = {
    definitions,
    types,
    has: (type: string): type is TDefs[number]['type'] => byType.has(type),
    find: (type) => byType.get(type),
    validate: (type, data) => {
      const definition = definitionFor(type);
      // biome-ignore lint/suspicious/noExplicitAny: the return type is declared by the interface
      return validateWith(definition, data, definition.schemaVersion) as any;
    },
    parse: (envelope) => {
      const result = classifyWithDefinition(definitionFor(envelope.type), envelope);
      if (result.kind !== 'readable') throw result.error;
      return result.event as CatalogEvent<EventCatalog<TDefs>>;
    },
  };
  return Object.freeze(catalog);
}
