import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JsonSchema } from '../../src/json-schema';
import { findIncompatibilities } from '../../src/schema-compatibility';

const written = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
const read = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** Both directions of one change from `before` to `after`. */
function compare(before: z.ZodType, after: z.ZodType) {
  const forward = findIncompatibilities(written(after), read(before));
  const backward = findIncompatibilities(written(before), read(after), { removedFieldsBreak: false });
  return { forward, backward };
}

const name = z.string().min(1).max(200);
const base = z.object({ name, done: z.boolean() });

interface Row {
  readonly change: string;
  readonly before: z.ZodType;
  readonly after: z.ZodType;
  /** Readers of `before` read payloads written with `after`. */
  readonly oldReadersReadNew: boolean;
  /** A reader of `after` reads payloads written with `before` as they are (no upcast). */
  readonly newReadsOld: boolean;
  /** The field every reported incompatibility names. */
  readonly field?: string;
}

const recursive = z.object({
  name: z.string(),
  get children() {
    return z.array(recursive).optional();
  },
});
const recursiveWithNote = z.object({
  name: z.string(),
  note: z.string().optional(),
  get children() {
    return z.array(recursiveWithNote).optional();
  },
});
const recursiveNumeric = z.object({
  name: z.number(),
  get children() {
    return z.array(recursiveNumeric).optional();
  },
});

const table: Row[] = [
  { change: 'nothing', before: base, after: base, oldReadersReadNew: true, newReadsOld: true },
  {
    change: 'a new optional field',
    before: base,
    after: base.extend({ priority: z.enum(['low', 'high']).optional() }),
    oldReadersReadNew: true,
    newReadsOld: true,
  },
  {
    change: 'a new required field',
    before: base,
    after: base.extend({ priority: z.enum(['low', 'high']) }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'priority',
  },
  {
    change: 'a new required field with a default',
    before: base,
    after: base.extend({ priority: z.enum(['low', 'high']).default('low') }),
    oldReadersReadNew: true,
    newReadsOld: true,
  },
  {
    change: 'a removed required field',
    before: base,
    after: z.object({ name }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'done',
  },
  {
    change: 'a removed optional field',
    before: base.extend({ note: z.string().optional() }),
    after: base,
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'note',
  },
  {
    change: 'a renamed field',
    before: base,
    after: z.object({ title: name, done: z.boolean() }),
    oldReadersReadNew: false,
    newReadsOld: false,
  },
  {
    change: 'a changed type',
    before: base,
    after: z.object({ name, done: z.enum(['yes', 'no']) }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'done',
  },
  {
    change: 'a widened type (string to string or number)',
    before: base,
    after: z.object({ name: z.union([name, z.number()]), done: z.boolean() }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'name',
  },
  {
    change: 'a field made nullable',
    before: base,
    after: z.object({ name: name.nullable(), done: z.boolean() }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'name',
  },
  {
    change: 'a narrowed maximum length',
    before: base,
    after: z.object({ name: z.string().min(1).max(100), done: z.boolean() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'name',
  },
  {
    change: 'a widened maximum length',
    before: base,
    after: z.object({ name: z.string().min(1).max(400), done: z.boolean() }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'name',
  },
  {
    change: 'a raised minimum length',
    before: base,
    after: z.object({ name: z.string().min(3).max(200), done: z.boolean() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'name',
  },
  {
    change: 'an enum value added',
    before: z.object({ status: z.enum(['open', 'done']) }),
    after: z.object({ status: z.enum(['open', 'done', 'archived']) }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'status',
  },
  {
    change: 'an enum value removed',
    before: z.object({ status: z.enum(['open', 'done', 'archived']) }),
    after: z.object({ status: z.enum(['open', 'done']) }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'status',
  },
  {
    change: 'a literal changed',
    before: z.object({ kind: z.literal('task') }),
    after: z.object({ kind: z.literal('todo') }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'kind',
  },
  {
    change: 'a required field made optional',
    before: base,
    after: z.object({ name, done: z.boolean().optional() }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'done',
  },
  {
    change: 'an optional field made required',
    before: z.object({ name, note: z.string().optional() }),
    after: z.object({ name, note: z.string() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'note',
  },
  {
    change: 'an integer widened to a number',
    before: z.object({ estimate: z.int().min(0) }),
    after: z.object({ estimate: z.number().min(0) }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'estimate',
  },
  {
    change: 'a number narrowed to an integer',
    before: z.object({ estimate: z.number().min(0) }),
    after: z.object({ estimate: z.int().min(0) }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'estimate',
  },
  {
    change: 'a minimum made exclusive (narrowed)',
    before: z.object({ estimate: z.number().min(0) }),
    after: z.object({ estimate: z.number().positive() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'estimate',
  },
  {
    change: 'a new field for a strict reader',
    before: z.strictObject({ name }),
    after: z.strictObject({ name, note: z.string().optional() }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'note',
  },
  {
    change: 'a new optional field in a nested object',
    before: z.object({ owner: z.object({ id: z.string() }) }),
    after: z.object({ owner: z.object({ id: z.string(), team: z.string().optional() }) }),
    oldReadersReadNew: true,
    newReadsOld: true,
  },
  {
    change: 'a changed type in a nested object',
    before: z.object({ owner: z.object({ id: z.string() }) }),
    after: z.object({ owner: z.object({ id: z.number() }) }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'owner.id',
  },
  {
    change: 'a changed array item type',
    before: z.object({ tags: z.array(z.string()) }),
    after: z.object({ tags: z.array(z.number()) }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'tags[]',
  },
  {
    change: 'a narrowed array length',
    before: z.object({ tags: z.array(z.string()).max(10) }),
    after: z.object({ tags: z.array(z.string()).max(5) }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'tags',
  },
  {
    change: 'a tuple element changed',
    before: z.object({ point: z.tuple([z.number(), z.number()]) }),
    after: z.object({ point: z.tuple([z.number(), z.string()]) }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'point[1]',
  },
  {
    change: 'a record value widened',
    before: z.object({ labels: z.record(z.string(), z.string()) }),
    after: z.object({ labels: z.record(z.string(), z.union([z.string(), z.number()])) }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'labels.*',
  },
  {
    change: 'a pattern added',
    before: z.object({ code: z.string() }),
    after: z.object({ code: z.string().regex(/^[A-Z]{3}$/) }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'code',
  },
  {
    change: 'a format changed (uuid to email)',
    before: z.object({ contact: z.uuid() }),
    after: z.object({ contact: z.email() }),
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'contact',
  },
  {
    change: 'a description added',
    before: base,
    after: z.object({ name: name.describe('the task name'), done: z.boolean() }),
    oldReadersReadNew: true,
    newReadsOld: true,
  },
  {
    change: 'a union alternative added',
    before: z.object({ due: z.union([z.iso.date(), z.literal('never')]) }),
    after: z.object({ due: z.union([z.iso.date(), z.literal('never'), z.literal('someday')]) }),
    oldReadersReadNew: false,
    newReadsOld: true,
    field: 'due',
  },
  {
    change: 'a nullable field made non-null',
    before: z.object({ summary: z.string().nullable() }),
    after: z.object({ summary: z.string() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'summary',
  },
  {
    change: 'a new optional field in a recursive schema',
    before: recursive,
    after: recursiveWithNote,
    oldReadersReadNew: true,
    newReadsOld: true,
  },
  {
    change: 'a changed type in a recursive schema',
    before: recursive,
    after: recursiveNumeric,
    oldReadersReadNew: false,
    newReadsOld: false,
    field: 'name',
  },
  {
    change: 'a field that was z.unknown() given a type',
    before: z.object({ extra: z.unknown() }),
    after: z.object({ extra: z.string() }),
    oldReadersReadNew: true,
    newReadsOld: false,
    field: 'extra',
  },
];

describe('findIncompatibilities', () => {
  it.each(table)(
    '$change: old readers read new payloads: $oldReadersReadNew, the new schema reads old payloads: $newReadsOld',
    (row) => {
      const { forward, backward } = compare(row.before, row.after);
      expect(forward.length === 0, JSON.stringify(forward)).toBe(row.oldReadersReadNew);
      expect(backward.length === 0, JSON.stringify(backward)).toBe(row.newReadsOld);
      if (row.field !== undefined) {
        for (const found of [...forward, ...backward]) expect(found.path).toBe(row.field);
      }
      for (const found of [...forward, ...backward]) expect(found.reason.length).toBeGreaterThan(10);
    },
  );

  it('names the field and says why a removed field breaks readers', () => {
    const [found, ...rest] = findIncompatibilities(written(z.object({ name })), read(base));
    expect(rest).toEqual([]);
    expect(found).toEqual({
      path: 'done',
      reason:
        'the reader requires this field and the writer does not write it (a field removed, renamed or added as required)',
    });
  });

  it('accepts a removed optional field when removals are allowed', () => {
    const before = base.extend({ note: z.string().optional() });
    expect(findIncompatibilities(written(base), read(before), { removedFieldsBreak: false })).toEqual([]);
  });

  it('refuses an unconstrained writer (a transform) for a constrained reader', () => {
    const after = z.object({ name: z.string().transform((value) => value.length) });
    const found = findIncompatibilities(written(after), read(z.object({ name: z.string() })));
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('name');
    expect(found[0]?.reason).toMatch(/unconstrained/);
  });

  it('reports a $ref that does not resolve instead of guessing', () => {
    expect(() => findIncompatibilities({ $ref: '#/$defs/missing' }, { type: 'string' })).toThrow(
      /cannot resolve/,
    );
  });

  it('reads true and false schemas as anything and nothing', () => {
    expect(findIncompatibilities({ type: 'string' }, true)).toEqual([]);
    expect(findIncompatibilities(false, { type: 'string' })).toEqual([]);
    expect(findIncompatibilities({ type: 'string' }, false)).toHaveLength(1);
    expect(findIncompatibilities(true, { type: 'string' })).toHaveLength(1);
  });
});
