import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  classifyEvent,
  createEnvelope,
  decodeEnvelope,
  defineCatalog,
  defineEvent,
  EnvelopeValidationError,
  EventDefinitionError,
  encodeEnvelope,
  envelopeFromEventLogItem,
  eventLogItemFromEnvelope,
  newCommandId,
  PayloadValidationError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
  UpcastError,
} from '../../src/index';

const name = z.string().min(1);

/** What a listener deployed long ago knows: version 1. */
const TaskCreatedV1 = defineEvent({ type: 'TaskCreated', schemaVersion: 1, schema: z.object({ name }) });
/** Version 2 adds an optional field and declares version 1 readers able to read it. */
const TaskCreatedV2 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 2,
  readableFrom: 1,
  schema: z.object({ name, priority: z.enum(['low', 'high']).optional() }),
});
/** Version 3 renames `name` to `title`: a breaking change with an upcast for older payloads. */
const TaskCreatedV3 = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 3,
  schema: z.object({ title: name, priority: z.enum(['low', 'high']).optional() }),
  upcast: (data) => {
    const { name: title, ...rest } = data as { name: string };
    return { ...rest, title };
  },
});

const listenerV1 = defineCatalog([TaskCreatedV1]);
const listenerV2 = defineCatalog([TaskCreatedV2]);
const listenerV3 = defineCatalog([TaskCreatedV3]);

const envelope = (data: Record<string, unknown>, schemaVersion: number, readableFrom?: number) =>
  createEnvelope({
    source: '/tasks',
    type: 'TaskCreated',
    aggregate: { type: 'Task', id: 't-1' },
    version: 1,
    commandId: newCommandId(),
    schemaVersion,
    ...(readableFrom === undefined ? {} : { readableFrom }),
    data,
  });

describe('classifyEvent', () => {
  it('reads an event at its own schema version', () => {
    const result = classifyEvent(listenerV1, envelope({ name: 'a' }, 1));
    expect(result.kind).toBe('readable');
    expect(result.kind === 'readable' && result.how).toBe('same-version');
  });

  it('reads a newer version declared readable by its version; the handler sees the fields it knows', () => {
    const result = classifyEvent(listenerV1, envelope({ name: 'a', priority: 'high' }, 2, 1));
    expect(result).toMatchObject({ kind: 'readable', how: 'newer-compatible' });
    if (result.kind !== 'readable') throw new Error('unreachable');
    expect(result.event.data).toEqual({ name: 'a' });
    expect(result.event.schemaVersion).toBe(2);
    expect(listenerV1.parse(envelope({ name: 'a', priority: 'high' }, 2, 1)).data).toEqual({ name: 'a' });
  });

  it('does not read a newer version its producer did not declare readable: not readable yet', () => {
    const result = classifyEvent(listenerV1, envelope({ name: 'a' }, 2));
    expect(result).toMatchObject({
      kind: 'not-readable-yet',
      schemaVersion: 2,
      readerSchemaVersion: 1,
      readableFrom: 2,
    });
    if (result.kind !== 'not-readable-yet') throw new Error('unreachable');
    expect(result.error).toBeInstanceOf(UnsupportedSchemaVersionError);
    expect(result.error.context).toMatchObject({
      eventType: 'TaskCreated',
      schemaVersion: 2,
      supportedSchemaVersion: 1,
    });
    expect(result.error.message).toMatch(/did not declare it readable/);
  });

  it('does not read a version declared readable only from a later version', () => {
    const result = classifyEvent(listenerV1, envelope({ name: 'a' }, 3, 2));
    expect(result).toMatchObject({ kind: 'not-readable-yet', readableFrom: 2 });
    if (result.kind !== 'not-readable-yet') throw new Error('unreachable');
    expect(result.error.message).toMatch(/readable from schema version 2/);
    expect(result.error.context.readableFrom).toBe(2);
    expect(classifyEvent(listenerV2, envelope({ name: 'a' }, 3, 2)).kind).toBe('readable');
  });

  it('holds, not parks, a newer event declared readable that its schema refuses (a wrong declaration)', () => {
    const result = classifyEvent(listenerV1, envelope({ title: 'a' }, 3, 1));
    expect(result.kind).toBe('not-readable-yet');
    if (result.kind !== 'not-readable-yet') throw new Error('unreachable');
    expect(result.error.cause).toBeInstanceOf(PayloadValidationError);
    expect(result.error.message).toMatch(/refuses its payload/);
    expect(classifyEvent(listenerV3, envelope({ title: 'a' }, 3, 1)).kind).toBe('readable');
  });

  it('upcasts an older version', () => {
    const result = classifyEvent(listenerV3, envelope({ name: 'a', priority: 'low' }, 2, 1));
    expect(result).toMatchObject({
      kind: 'readable',
      how: 'upcast',
      event: { data: { title: 'a', priority: 'low' } },
    });
  });

  it('reads an older version as it is without an upcast', () => {
    expect(classifyEvent(listenerV2, envelope({ name: 'a' }, 1))).toMatchObject({
      kind: 'readable',
      how: 'older-as-is',
      event: { data: { name: 'a' } },
    });
  });

  it('calls a payload its own version refuses invalid', () => {
    const result = classifyEvent(listenerV2, envelope({ name: '' }, 2, 1));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.error).toBeInstanceOf(PayloadValidationError);
  });

  it('calls an upcast that throws invalid, with the cause', () => {
    const boom = new Error('boom');
    const catalog = defineCatalog([
      defineEvent({
        type: 'TaskCreated',
        schemaVersion: 2,
        schema: z.object({ name }),
        upcast: () => {
          throw boom;
        },
      }),
    ]);
    const result = classifyEvent(catalog, envelope({ name: 'a' }, 1));
    expect(result.kind).toBe('invalid');
    if (result.kind !== 'invalid') throw new Error('unreachable');
    expect(result.error).toBeInstanceOf(UpcastError);
    expect(result.error.cause).toBe(boom);
    expect(result.error.code).toBe('UPCAST_FAILED');
    expect(() => catalog.parse(envelope({ name: 'a' }, 1))).toThrow(UpcastError);
  });

  it('names an unknown type', () => {
    const result = classifyEvent(
      defineCatalog([defineEvent({ type: 'Other', schemaVersion: 1, schema: z.object({}) })]),
      envelope({}, 1),
    );
    expect(result.kind).toBe('unknown-type');
    expect(result.kind === 'unknown-type' && result.error).toBeInstanceOf(UnknownEventTypeError);
  });

  it('parse throws what classify returns', () => {
    expect(() => listenerV1.parse(envelope({ name: 'a' }, 2))).toThrow(UnsupportedSchemaVersionError);
    expect(() => listenerV2.parse(envelope({ name: '' }, 2))).toThrow(PayloadValidationError);
  });
});

describe('readableFrom', () => {
  it('travels in the envelope as readablefrom, through the wire and the event-log item', () => {
    const original = envelope({ name: 'a' }, 2, 1);
    expect(original.readablefrom).toBe(1);
    const decoded = decodeEnvelope(encodeEnvelope(original));
    expect(decoded.readablefrom).toBe(1);
    const item = eventLogItemFromEnvelope(decoded);
    expect(item.readableFrom).toBe(1);
    expect(envelopeFromEventLogItem(item)).toEqual(original);
  });

  it('is left out of the envelope when it equals the schema version', () => {
    const plain = envelope({ name: 'a' }, 2, 2);
    expect('readablefrom' in plain).toBe(false);
    expect('readableFrom' in eventLogItemFromEnvelope(plain)).toBe(false);
  });

  it('cannot be greater than the schema version in an envelope', () => {
    expect(() => envelope({ name: 'a' }, 2, 3)).toThrow(EnvelopeValidationError);
    expect(() => envelope({ name: 'a' }, 2, 0)).toThrow(EnvelopeValidationError);
  });

  it.each([0, 3, 1.5, Number.NaN])(
    'is refused by defineEvent when it is %s for schema version 2',
    (readableFrom) => {
      expect(() => defineEvent({ type: 'A', schemaVersion: 2, readableFrom, schema: z.object({}) })).toThrow(
        EventDefinitionError,
      );
    },
  );
});
