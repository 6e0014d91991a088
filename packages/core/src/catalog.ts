/** Event catalogs: definitions grouped so that producers and handlers get their payload types inferred. */
import { classifyWithDefinition } from './classify-event';
import type { AnyEventDefinition, CatalogEvent, EventCatalog } from './definitions';
import { EventDefinitionError, PayloadValidationError, UnknownEventTypeError } from './errors';
import { toValidationIssues } from './issues';

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
