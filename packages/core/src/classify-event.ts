import type { AnyEventCatalog, AnyEventDefinition, CatalogEvent, DomainEvent } from './definition-types';
import { type EventEnvelope, envelopeAggregate, envelopeMetadata } from './envelope';
import {
  PayloadValidationError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
  UpcastError,
} from './errors';
import { toValidationIssues } from './issues';

/**
 * How a readable event was read:
 * - `same-version`: written with the definition's schema version;
 * - `older-as-is`: written with an older version that the current schema reads as it is (the
 *   definition has no `upcast`);
 * - `upcast`: written with an older version and turned into current input by the definition's `upcast`;
 * - `newer-compatible`: written with a newer version that the producer declared readable by this
 *   definition's version (`readablefrom`); the payload is validated by this definition's schema, so
 *   the handler sees the fields it knows.
 */
export type ReadableHow = 'same-version' | 'older-as-is' | 'upcast' | 'newer-compatible';

/** The event can be read: `event` is the typed, validated event. */
export interface ReadableEvent<TEvent extends DomainEvent = DomainEvent> {
  readonly kind: 'readable';
  readonly how: ReadableHow;
  readonly event: TEvent;
}

/**
 * The event is newer than the reader's definition and not readable by it: the producer did not
 * declare it readable by this version (`readablefrom`), or declared it but this definition's schema
 * refuses the payload (the error's `cause` lists the issues). Deploying a definition at the event's
 * schema version reads it, so it is worth holding, not parking.
 */
export interface NotReadableYetEvent {
  readonly kind: 'not-readable-yet';
  /** The event's schema version. */
  readonly schemaVersion: number;
  /** The reader definition's schema version. */
  readonly readerSchemaVersion: number;
  /** The oldest reader version the producer declared, or the event's schema version when none. */
  readonly readableFrom: number;
  readonly error: UnsupportedSchemaVersionError;
}

/**
 * The event can never be read by any deploy of this reader: its payload fails the schema of its own
 * or an older version, or the definition's `upcast` threw. It belongs in a dead-letter store.
 */
export interface InvalidEvent {
  readonly kind: 'invalid';
  readonly error: PayloadValidationError | UpcastError;
}

/** The catalog has no definition for the event's type. */
export interface UnknownTypeEvent {
  readonly kind: 'unknown-type';
  readonly error: UnknownEventTypeError;
}

/** What a reader can do with an event: see {@link classifyEvent}. `TEvent` is the catalog's event union. */
export type EventClassification<TEvent extends DomainEvent = DomainEvent> =
  | ReadableEvent<TEvent>
  | NotReadableYetEvent
  | InvalidEvent
  | UnknownTypeEvent;

/**
 * Classifies an envelope against the reader's catalog, without I/O and without throwing for any
 * envelope: `readable` (with the typed event and how it was read), `not-readable-yet` (newer than
 * the reader's definition and not declared readable by it: hold it until the reader deploys a
 * newer definition), `invalid` (a payload no deploy of this reader will read) or `unknown-type`.
 *
 * An event written with a newer schema version is readable when the producer declared it readable
 * by the reader's version (the envelope's `readablefrom` is at most the definition's
 * `schemaVersion`) and the reader's schema accepts the payload.
 *
 * @example
 * ```ts
 * import { classifyEvent, decodeEnvelope } from '@tidemark/core';
 * import { taskEvents } from '@acme/task-events';
 *
 * const result = classifyEvent(taskEvents, decodeEnvelope(bytes));
 * switch (result.kind) {
 *   case 'readable': await apply(result.event); break;
 *   case 'not-readable-yet': await hold(result); break; // deploy a newer definition to read it
 *   case 'invalid': await park(result.error); break;
 *   case 'unknown-type': break; // not ours
 * }
 * ```
 */
export function classifyEvent<C extends AnyEventCatalog>(
  catalog: C,
  envelope: EventEnvelope,
): EventClassification<CatalogEvent<C>> {
  const definition = catalog.find(envelope.type);
  if (!definition)
    return { kind: 'unknown-type', error: new UnknownEventTypeError(envelope.type, catalog.types) };
  return classifyWithDefinition(definition, envelope) as EventClassification<CatalogEvent<C>>;
}

/** {@link classifyEvent} once the definition is known (the catalog's `parse` uses it too). */
export function classifyWithDefinition(
  definition: AnyEventDefinition,
  envelope: EventEnvelope,
): Exclude<EventClassification, UnknownTypeEvent> {
  const written = envelope.schemaversion;
  const reader = definition.schemaVersion;
  if (written > reader) {
    const readableFrom = envelope.readablefrom ?? written;
    if (readableFrom > reader) {
      return notReadableYet(
        definition,
        envelope,
        readableFrom,
        envelope.readablefrom === undefined
          ? 'it is newer than this definition and its producer did not declare it readable by older versions; deploy a definition at its version'
          : `its producer declared it readable from schema version ${readableFrom} on; deploy a definition at version ${readableFrom} or later`,
      );
    }
    const result = definition.schema.safeParse(envelope.data);
    if (!result.success) {
      const cause = new PayloadValidationError(definition.type, reader, toValidationIssues(result.error));
      return notReadableYet(
        definition,
        envelope,
        readableFrom,
        `its producer declared it readable by version ${reader}, but this definition refuses its payload (${cause.message}); deploy a definition at version ${written}`,
        cause,
      );
    }
    return readable('newer-compatible', envelope, result.data);
  }

  let data: unknown = envelope.data;
  let how: ReadableHow = 'same-version';
  if (written < reader) {
    if (definition.upcast) {
      try {
        data = definition.upcast(envelope.data, written);
      } catch (cause) {
        return { kind: 'invalid', error: new UpcastError(definition.type, written, reader, cause) };
      }
      how = 'upcast';
    } else {
      how = 'older-as-is';
    }
  }
  const result = definition.schema.safeParse(data);
  if (!result.success) {
    return {
      kind: 'invalid',
      error: new PayloadValidationError(definition.type, written, toValidationIssues(result.error)),
    };
  }
  return readable(how, envelope, result.data);
}

function readable(how: ReadableHow, envelope: EventEnvelope, data: unknown): ReadableEvent {
  return {
    kind: 'readable',
    how,
    event: {
      eventId: envelope.id,
      type: envelope.type,
      data: data as Record<string, unknown>,
      aggregate: envelopeAggregate(envelope),
      version: envelope.aggregateversion,
      commandId: envelope.commandid,
      schemaVersion: envelope.schemaversion,
      time: envelope.time,
      source: envelope.source,
      metadata: envelopeMetadata(envelope),
    },
  };
}

function notReadableYet(
  definition: AnyEventDefinition,
  envelope: EventEnvelope,
  readableFrom: number,
  reason: string,
  cause?: PayloadValidationError,
): NotReadableYetEvent {
  return {
    kind: 'not-readable-yet',
    schemaVersion: envelope.schemaversion,
    readerSchemaVersion: definition.schemaVersion,
    readableFrom,
    error: new UnsupportedSchemaVersionError(
      definition.type,
      envelope.schemaversion,
      definition.schemaVersion,
      reason,
      { readableFrom, ...(cause ? { cause } : {}) },
    ),
  };
}
