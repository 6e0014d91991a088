import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createEnvelope,
  defineCatalog,
  defineEvent,
  EventDefinitionError,
  newCommandId,
  PayloadValidationError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
} from '../../src/index';

const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 2,
  schema: z.object({ name: z.string().min(1), priority: z.enum(['low', 'high']) }),
  upcast: (data) => ({ ...(data as object), priority: 'low' }),
});
const TaskCompleted = defineEvent({ type: 'TaskCompleted', schemaVersion: 1, schema: z.object({}) });
const catalog = defineCatalog([TaskCreated, TaskCompleted]);

const envelope = (type: string, data: Record<string, unknown>, schemaVersion = 1) =>
  createEnvelope({
    source: '/tasks',
    type,
    aggregate: { type: 'Task', id: 't-1' },
    version: 3,
    commandId: newCommandId(),
    schemaVersion,
    data,
    metadata: { correlationId: 'corr' },
  });

describe('defineCatalog', () => {
  it('parses an envelope into a typed event with its envelope fields', () => {
    const input = envelope('TaskCreated', { name: 'n', priority: 'high' }, 2);
    const event = catalog.parse(input);
    expect(event).toEqual({
      eventId: input.id,
      type: 'TaskCreated',
      data: { name: 'n', priority: 'high' },
      aggregate: { type: 'Task', id: 't-1' },
      version: 3,
      commandId: input.commandid,
      schemaVersion: 2,
      time: input.time,
      source: '/tasks',
      metadata: { correlationId: 'corr' },
    });
  });

  it('upcasts an older schema version before validating', () => {
    const event = catalog.parse(envelope('TaskCreated', { name: 'old' }, 1));
    expect(event.data).toEqual({ name: 'old', priority: 'low' });
  });

  it('refuses a newer schema version than it knows', () => {
    expect(() => catalog.parse(envelope('TaskCreated', { name: 'n', priority: 'low' }, 3))).toThrow(
      UnsupportedSchemaVersionError,
    );
  });

  it('reads an older schema version as it is when the definition has no upcast', () => {
    const plain = defineCatalog([
      defineEvent({ type: 'A', schemaVersion: 2, schema: z.object({ note: z.string().optional() }) }),
    ]);
    expect(plain.parse(envelope('A', { other: 1 }, 1)).data).toEqual({});
  });

  it('refuses an older payload the definition cannot read as it is when it has no upcast', () => {
    const strict = defineCatalog([
      defineEvent({ type: 'A', schemaVersion: 2, schema: z.object({ note: z.string() }) }),
    ]);
    const error = catchError(() => strict.parse(envelope('A', {}, 1)));
    expect(error).toBeInstanceOf(PayloadValidationError);
    expect((error as PayloadValidationError).issues.map((issue) => issue.path)).toEqual(['note']);
  });

  it('names the payload problems', () => {
    const error = catchError(() =>
      catalog.parse(envelope('TaskCreated', { name: '', priority: 'urgent' }, 2)),
    );
    expect(error).toBeInstanceOf(PayloadValidationError);
    expect((error as PayloadValidationError).issues.map((issue) => issue.path).sort()).toEqual([
      'name',
      'priority',
    ]);
  });

  it('throws UnknownEventTypeError for a type it does not know, listing the known ones', () => {
    const error = catchError(() => catalog.parse(envelope('TaskDeleted', {})));
    expect(error).toBeInstanceOf(UnknownEventTypeError);
    expect((error as Error).message).toContain('"TaskCreated", "TaskCompleted"');
    expect(catalog.has('TaskDeleted')).toBe(false);
    expect(catalog.has('TaskCompleted')).toBe(true);
  });

  it('validates payloads for producers', () => {
    expect(catalog.validate('TaskCreated', { name: 'x', priority: 'low' })).toEqual({
      name: 'x',
      priority: 'low',
    });
    expect(() => catalog.validate('TaskCreated', { name: 'x' })).toThrow(PayloadValidationError);
  });

  it('refuses two definitions of one type', () => {
    expect(() => defineCatalog([TaskCompleted, TaskCompleted])).toThrow(EventDefinitionError);
  });

  it('refuses a definition with a bad schema version', () => {
    expect(() => defineEvent({ type: 'X', schemaVersion: 0, schema: z.object({}) })).toThrow(
      EventDefinitionError,
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
