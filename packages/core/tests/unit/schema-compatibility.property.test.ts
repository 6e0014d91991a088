/**
 * Soundness of the compatibility check: whenever it says a reader reads what a writer writes, every
 * payload the writer's zod schema produces passes the reader's zod schema. Seeded: random payload
 * schemas, random changes to them, random payloads of each.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JsonSchema } from '../../src/json-schema';
import { findIncompatibilities } from '../../src/schema-compatibility';

type Spec =
  | { readonly k: 'string'; readonly min: number; readonly max: number }
  | { readonly k: 'int'; readonly min: number; readonly max: number }
  | { readonly k: 'number'; readonly min: number; readonly max: number }
  | { readonly k: 'boolean' }
  | { readonly k: 'enum'; readonly values: readonly string[] }
  | { readonly k: 'literal'; readonly value: string }
  | { readonly k: 'nullable'; readonly inner: Spec }
  | { readonly k: 'array'; readonly item: Spec; readonly max: number }
  | { readonly k: 'object'; readonly fields: Readonly<Record<string, Field>>; readonly strict: boolean };
interface Field {
  readonly spec: Spec;
  readonly optional: boolean;
}

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const WORDS = ['low', 'mid', 'high', 'top'];

/** A small seeded PRNG (mulberry32), so that every case is reproducible from its seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof prng>;

function randomSpec(random: Random, depth: number): Spec {
  const kinds =
    depth > 1
      ? ['string', 'int', 'number', 'boolean', 'enum', 'literal']
      : ['string', 'int', 'number', 'boolean', 'enum', 'literal', 'nullable', 'array', 'object'];
  const kind = random.pick(kinds);
  switch (kind) {
    case 'string': {
      const min = random.int(0, 3);
      return { k: 'string', min, max: min + random.int(0, 6) };
    }
    case 'int':
    case 'number': {
      const min = random.int(-5, 5);
      return { k: kind, min, max: min + random.int(0, 10) };
    }
    case 'boolean':
      return { k: 'boolean' };
    case 'enum':
      return { k: 'enum', values: [...new Set([random.pick(WORDS), random.pick(WORDS)])] };
    case 'literal':
      return { k: 'literal', value: random.pick(WORDS) };
    case 'nullable':
      return { k: 'nullable', inner: randomSpec(random, depth + 1) };
    case 'array':
      return { k: 'array', item: randomSpec(random, depth + 1), max: random.int(0, 4) };
    default:
      return randomObject(random, depth + 1);
  }
}

function randomObject(random: Random, depth: number): Spec & { k: 'object' } {
  const fields: Record<string, Field> = {};
  for (let i = random.int(1, 4); i > 0; i -= 1) {
    fields[random.pick(NAMES)] = { spec: randomSpec(random, depth), optional: random.next() < 0.3 };
  }
  return { k: 'object', fields, strict: random.next() < 0.15 };
}

/** One random change, somewhere in the object (possibly nested). */
function mutate(random: Random, spec: Spec & { k: 'object' }, depth = 0): Spec & { k: 'object' } {
  const fields = { ...spec.fields };
  const names = Object.keys(fields);
  const name = random.pick(names);
  const field = fields[name] as Field;
  const op = random.int(0, 7);
  if (op === 0) {
    const fresh = random.pick(NAMES);
    if (!(fresh in fields))
      fields[fresh] = { spec: randomSpec(random, depth + 1), optional: random.next() < 0.6 };
  } else if (op === 1 && names.length > 1) {
    delete fields[name];
  } else if (op === 2) {
    fields[name] = { ...field, optional: !field.optional };
  } else if (op === 3) {
    fields[name] = { ...field, spec: randomSpec(random, depth + 1) };
  } else if (op === 4) {
    return { ...spec, strict: !spec.strict };
  } else if (field.spec.k === 'object' && depth < 2) {
    fields[name] = { ...field, spec: mutate(random, field.spec, depth + 1) };
  } else {
    fields[name] = { ...field, spec: tweak(random, field.spec) };
  }
  return { ...spec, fields };
}

function tweak(random: Random, spec: Spec): Spec {
  switch (spec.k) {
    case 'string': {
      const min = Math.max(0, spec.min + random.int(-1, 1));
      return { k: 'string', min, max: Math.max(min, spec.max + random.int(-2, 2)) };
    }
    case 'int':
    case 'number': {
      const min = spec.min + random.int(-2, 2);
      return {
        k: random.next() < 0.2 ? (spec.k === 'int' ? 'number' : 'int') : spec.k,
        min,
        max: Math.max(min, spec.max + random.int(-2, 2)),
      };
    }
    case 'enum': {
      const values = random.next() < 0.5 ? [...spec.values, random.pick(WORDS)] : spec.values.slice(1);
      return values.length > 0 ? { k: 'enum', values: [...new Set(values)] } : spec;
    }
    case 'nullable':
      return random.next() < 0.5 ? spec.inner : { k: 'nullable', inner: tweak(random, spec.inner) };
    case 'array':
      return random.next() < 0.5
        ? { ...spec, max: Math.max(0, spec.max + random.int(-2, 2)) }
        : { ...spec, item: tweak(random, spec.item) };
    default:
      return random.next() < 0.5 ? { k: 'nullable', inner: spec } : spec;
  }
}

function toZod(spec: Spec): z.ZodType {
  switch (spec.k) {
    case 'string':
      return z.string().min(spec.min).max(spec.max);
    case 'int':
      return z.int().min(spec.min).max(spec.max);
    case 'number':
      return z.number().min(spec.min).max(spec.max);
    case 'boolean':
      return z.boolean();
    case 'enum':
      return z.enum(spec.values as [string, ...string[]]);
    case 'literal':
      return z.literal(spec.value);
    case 'nullable':
      return toZod(spec.inner).nullable();
    case 'array':
      return z.array(toZod(spec.item)).max(spec.max);
    case 'object': {
      const shape: Record<string, z.ZodType> = {};
      for (const [key, field] of Object.entries(spec.fields)) {
        shape[key] = field.optional ? toZod(field.spec).optional() : toZod(field.spec);
      }
      return spec.strict ? z.strictObject(shape) : z.object(shape);
    }
  }
}

function toArbitrary(spec: Spec): fc.Arbitrary<unknown> {
  switch (spec.k) {
    case 'string':
      return fc.string({ minLength: spec.min, maxLength: spec.max, unit: 'grapheme-ascii' });
    case 'int':
      return fc.integer({ min: spec.min, max: spec.max });
    case 'number':
      return fc.double({ min: spec.min, max: spec.max, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'literal':
      return fc.constant(spec.value);
    case 'nullable':
      return fc.option(toArbitrary(spec.inner), { nil: null });
    case 'array':
      return fc.array(toArbitrary(spec.item), { maxLength: spec.max });
    case 'object': {
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, field] of Object.entries(spec.fields)) model[key] = toArbitrary(field.spec);
      const requiredKeys = Object.entries(spec.fields)
        .filter(([, field]) => !field.optional)
        .map(([key]) => key);
      return fc.record(model, { requiredKeys });
    }
  }
}

const written = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
const read = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** Payloads `writer` produces that `reader` refuses (empty when none among the samples). */
function refused(writerSpec: Spec, writer: z.ZodType, reader: z.ZodType, seed: number): unknown[] {
  return fc
    .sample(toArbitrary(writerSpec), { seed, numRuns: 40 })
    .filter((value) => writer.safeParse(value).success && !reader.safeParse(value).success);
}

describe('findIncompatibilities (seeded property)', () => {
  const baseSeed = Number(process.env.TIDEMARK_SEED ?? 20261130);
  const cases = 600;

  it(`never calls a change compatible when a payload proves otherwise (seed ${baseSeed}, ${cases} changes)`, () => {
    console.info(`schema compatibility property: seed ${baseSeed} (set TIDEMARK_SEED to replay)`);
    let forwardCompatible = 0;
    let backwardCompatible = 0;
    let incompatibleSeen = 0;
    for (let i = 0; i < cases; i += 1) {
      const seed = baseSeed + i;
      const random = prng(seed);
      const before = randomObject(random, 0);
      let after = mutate(random, before);
      if (random.next() < 0.4) after = mutate(random, after);
      const zBefore = toZod(before);
      const zAfter = toZod(after);
      const context = () =>
        `case seed ${seed}: before ${JSON.stringify(before)} after ${JSON.stringify(after)}`;

      // Readers of `before` reading what `after` writes.
      if (findIncompatibilities(written(zAfter), read(zBefore)).length === 0) {
        forwardCompatible += 1;
        expect(refused(after, zAfter, zBefore, seed), context()).toEqual([]);
      } else {
        incompatibleSeen += 1;
      }
      // `after` reading what `before` wrote, as it is.
      if (findIncompatibilities(written(zBefore), read(zAfter), { removedFieldsBreak: false }).length === 0) {
        backwardCompatible += 1;
        expect(refused(before, zBefore, zAfter, seed + 1), context()).toEqual([]);
      }
    }
    // The generator exercises both outcomes, so the property is not vacuous.
    expect(forwardCompatible).toBeGreaterThan(cases / 10);
    expect(backwardCompatible).toBeGreaterThan(cases / 10);
    expect(incompatibleSeen).toBeGreaterThan(cases / 10);
  });
});
