/**
 * Decides whether every value one JSON Schema allows is accepted by another: whether a reader
 * whose schema is `reader` can read every payload a writer whose schema is `writer` produces.
 * It understands the JSON Schema that zod 4's `toJSONSchema` emits (types, nullability, enums and
 * literals, string, number and array bounds, patterns and formats, objects open or closed, records,
 * tuples, unions, intersections, `$ref`). What it cannot prove, it reports: a check that says
 * "compatible" must be right.
 */

/** A JSON Schema node: `true` (anything), `false` (nothing) or an object. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** One reason a reader cannot read what a writer writes. */
export interface SchemaIncompatibility {
  /** The field, as a dotted path from the payload root (`priority`, `tags[]`, `owner.id`); `''` for the root. */
  readonly path: string;
  /** Why, for humans. */
  readonly reason: string;
}

/** How {@link findIncompatibilities} judges a field the reader knows and the writer no longer writes. */
export interface CompatibilityOptions {
  /**
   * Report a field the reader's schema declares (even as optional) that the writer's closed
   * object no longer has: a removed or renamed field. Its readers would silently stop seeing it.
   * @default true
   */
  readonly removedFieldsBreak?: boolean;
}

type Node = { readonly [keyword: string]: unknown };
type Root = { readonly writer: JsonSchema; readonly reader: JsonSchema };

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'id',
]);

/**
 * Lists why a reader with schema `reader` cannot read every value of `writer`; empty when it can.
 *
 * @example
 * ```ts
 * import { findIncompatibilities } from '@tidemark/core';
 * import { z } from 'zod';
 *
 * const written = z.toJSONSchema(v2, { io: 'output' });
 * const read = z.toJSONSchema(v1, { io: 'input' });
 * findIncompatibilities(written, read); // [] when readers of v1 read v2 payloads
 * ```
 */
export function findIncompatibilities(
  writer: JsonSchema,
  reader: JsonSchema,
  options: CompatibilityOptions = {},
): SchemaIncompatibility[] {
  const checker = new Checker({ writer, reader }, options.removedFieldsBreak ?? true);
  return dedupe(checker.check(writer, reader, ''));
}

class Checker {
  private readonly assumed = new Set<string>();

  constructor(
    private readonly roots: Root,
    private readonly removedFieldsBreak: boolean,
  ) {}

  check(writerNode: JsonSchema, readerNode: JsonSchema, path: string): SchemaIncompatibility[] {
    const w = this.resolve(writerNode, this.roots.writer);
    const r = this.resolve(readerNode, this.roots.reader);
    if (w.ref !== undefined || r.ref !== undefined) {
      // A recursive schema: assume the pair compatible while checking it (co-inductively).
      const key = `${w.ref ?? stableJson(w.node)}\u0000${r.ref ?? stableJson(r.node)}`;
      if (this.assumed.has(key)) return [];
      this.assumed.add(key);
    }
    return this.checkResolved(w.node, r.node, path);
  }

  private checkResolved(w: JsonSchema, r: JsonSchema, path: string): SchemaIncompatibility[] {
    if (isAny(r) || isNever(w)) return [];
    if (stableJson(strip(w)) === stableJson(strip(r))) return [];
    if (isNever(r)) return [issue(path, 'the reader accepts no value here')];
    if (isAny(w)) {
      return [
        issue(
          path,
          `the writer's value is unconstrained (z.unknown(), or a type JSON Schema cannot express, such as a transform or a date) and the reader accepts only ${describe(r)}`,
        ),
      ];
    }
    const wn = w as Node;
    const rn = r as Node;

    // Unions and intersections of the writer: every alternative must be readable.
    const wAlternatives = alternatives(wn);
    if (wAlternatives) return wAlternatives.flatMap((branch) => this.check(branch, r, path));
    if (Array.isArray(wn.allOf)) {
      const rest = without(wn, 'allOf');
      const branches = [...(wn.allOf as JsonSchema[]), ...(isAny(rest) ? [] : [rest])];
      // The writer's values satisfy every branch, so one readable branch is enough.
      let best: SchemaIncompatibility[] | undefined;
      for (const branch of branches) {
        const found = this.check(branch, r, path);
        if (found.length === 0) return [];
        if (!best || found.length < best.length) best = found;
      }
      return best ?? [];
    }
    const types = typeList(wn);
    if (types && types.length > 1) {
      return types.flatMap((type) => this.check(narrowToType(wn, type), r, path));
    }

    // Unions and intersections of the reader.
    const rAlternatives = alternatives(rn);
    if (rAlternatives) {
      let best: SchemaIncompatibility[] | undefined;
      for (const branch of rAlternatives) {
        const found = this.check(w, branch, path);
        if (found.length === 0) return [];
        if (!best || found.length < best.length) best = found;
      }
      return [
        issue(
          path,
          `the writer may write ${describe(w)}, which none of the reader's alternatives (${rAlternatives.map(describe).join(' | ')}) accepts${best?.[0] ? ` (closest: ${best[0].reason})` : ''}`,
        ),
      ];
    }
    if (Array.isArray(rn.allOf)) {
      const rest = without(rn, 'allOf');
      return [...(rn.allOf as JsonSchema[]), rest].flatMap((branch) => this.check(w, branch, path));
    }
    if (rn.not !== undefined || wn.not !== undefined) {
      return [issue(path, 'a `not` schema cannot be compared; keep this field unchanged')];
    }

    // Constants and enumerations of the writer: check each value.
    const values = enumerated(wn);
    if (values) {
      const refused = values.filter((value) => !accepts(r, value, this.roots.reader));
      if (refused.length === 0) return [];
      return [
        issue(
          path,
          `the writer may write ${refused.map((value) => JSON.stringify(value)).join(', ')}, which the reader does not accept`,
        ),
      ];
    }
    if (enumerated(rn)) {
      return [issue(path, `the reader accepts only ${describe(r)}; the writer may write any ${describe(w)}`)];
    }

    const writerType = types?.[0];
    if (writerType === undefined) {
      return typeList(rn)
        ? [issue(path, `the writer does not restrict the type; the reader accepts only ${describe(r)}`)]
        : this.checkKeywords(wn, rn, undefined, path);
    }
    const readerTypes = typeList(rn);
    if (
      readerTypes &&
      !readerTypes.includes(writerType) &&
      !(writerType === 'integer' && readerTypes.includes('number'))
    ) {
      return [
        issue(
          path,
          `type: the writer may write ${writerType === 'null' ? 'null' : `a value of type ${writerType}`}, the reader accepts only ${readerTypes.join(' or ')}`,
        ),
      ];
    }
    return this.checkKeywords(wn, rn, writerType, path);
  }

  private checkKeywords(w: Node, r: Node, type: string | undefined, path: string): SchemaIncompatibility[] {
    const found: SchemaIncompatibility[] = [];
    const unknown = Object.keys(r).filter((keyword) => !KNOWN_KEYWORDS.has(keyword));
    for (const keyword of unknown) {
      if (stableJson(w[keyword]) !== stableJson(r[keyword])) {
        found.push(
          issue(path, `the reader's keyword "${keyword}" cannot be compared and the writer's differs`),
        );
      }
    }
    if (type === undefined || type === 'string') {
      found.push(...lowerBound(w, r, 'minLength', path, 'length'));
      found.push(...upperBound(w, r, 'maxLength', path, 'length'));
      for (const keyword of ['pattern', 'format', 'contentEncoding', 'contentMediaType'] as const) {
        if (r[keyword] !== undefined && r[keyword] !== w[keyword]) {
          found.push(
            issue(
              path,
              w[keyword] === undefined
                ? `the reader requires ${keyword} ${JSON.stringify(r[keyword])}, which the writer does not guarantee`
                : `${keyword} changed: the writer guarantees ${JSON.stringify(w[keyword])}, the reader requires ${JSON.stringify(r[keyword])}`,
            ),
          );
        }
      }
    }
    if (type === undefined || type === 'number' || type === 'integer') {
      found.push(...numericBounds(w, r, path));
      if (typeof r.multipleOf === 'number') {
        const ok = typeof w.multipleOf === 'number' && Number.isInteger(w.multipleOf / r.multipleOf);
        if (!ok)
          found.push(
            issue(
              path,
              `the reader requires a multiple of ${r.multipleOf}, which the writer does not guarantee`,
            ),
          );
      }
    }
    if (type === undefined || type === 'array') found.push(...this.checkArray(w, r, path));
    if (type === undefined || type === 'object') found.push(...this.checkObject(w, r, path));
    return found;
  }

  private checkArray(w: Node, r: Node, path: string): SchemaIncompatibility[] {
    const found: SchemaIncompatibility[] = [];
    found.push(...lowerBound(w, r, 'minItems', path, 'number of items'));
    found.push(...upperBound(w, r, 'maxItems', path, 'number of items'));
    if (r.uniqueItems === true && w.uniqueItems !== true) {
      found.push(issue(path, 'the reader requires unique items, which the writer does not guarantee'));
    }
    const wPrefix = (Array.isArray(w.prefixItems) ? w.prefixItems : []) as JsonSchema[];
    const rPrefix = (Array.isArray(r.prefixItems) ? r.prefixItems : []) as JsonSchema[];
    const wItems = (w.items ?? true) as JsonSchema;
    const rItems = (r.items ?? true) as JsonSchema;
    const wMax = typeof w.maxItems === 'number' ? w.maxItems : Number.POSITIVE_INFINITY;
    const length = Math.max(wPrefix.length, rPrefix.length);
    for (let index = 0; index < length && index < wMax; index += 1) {
      const writerItem = wPrefix[index] ?? wItems;
      if (isNever(writerItem)) break;
      found.push(...this.check(writerItem, rPrefix[index] ?? rItems, `${path}[${index}]`));
    }
    if (wMax > length && !isNever(wItems)) found.push(...this.check(wItems, rItems, `${path}[]`));
    return found;
  }

  private checkObject(w: Node, r: Node, path: string): SchemaIncompatibility[] {
    const found: SchemaIncompatibility[] = [];
    const wProps = (w.properties ?? {}) as Record<string, JsonSchema>;
    const rProps = (r.properties ?? {}) as Record<string, JsonSchema>;
    const wRequired = new Set((w.required ?? []) as string[]);
    const rRequired = new Set((r.required ?? []) as string[]);
    const wAdditional = (w.additionalProperties ?? true) as JsonSchema;
    const rAdditional = (r.additionalProperties ?? true) as JsonSchema;
    const join = (name: string) => (path ? `${path}.${name}` : name);

    for (const name of Object.keys(rProps).sort()) {
      if (name in wProps) continue;
      if (isNever(wAdditional)) {
        if (rRequired.has(name)) {
          found.push(
            issue(
              join(name),
              'the reader requires this field and the writer does not write it (a field removed, renamed or added as required)',
            ),
          );
        } else if (this.removedFieldsBreak) {
          found.push(
            issue(
              join(name),
              'the reader knows this optional field and the writer no longer writes it (removed or renamed): its readers would silently stop seeing it',
            ),
          );
        }
      } else {
        if (rRequired.has(name) && !wRequired.has(name)) {
          found.push(
            issue(join(name), 'the reader requires this field and the writer does not always write it'),
          );
        }
        found.push(...this.check(wAdditional, rProps[name] as JsonSchema, join(name)));
      }
    }
    for (const name of Object.keys(wProps).sort()) {
      const writerField = wProps[name] as JsonSchema;
      if (name in rProps) {
        if (rRequired.has(name) && !wRequired.has(name)) {
          found.push(
            issue(join(name), 'now optional: the reader requires this field and the writer may leave it out'),
          );
        }
        found.push(...this.check(writerField, rProps[name] as JsonSchema, join(name)));
      } else if (isNever(rAdditional)) {
        found.push(
          issue(join(name), 'new field: the reader is a strict object that refuses fields it does not know'),
        );
      } else {
        found.push(...this.check(writerField, rAdditional, join(name)));
      }
    }
    for (const name of [...rRequired].sort()) {
      if (!(name in rProps) && !wRequired.has(name)) {
        found.push(
          issue(join(name), 'the reader requires this field and the writer does not always write it'),
        );
      }
    }
    if (!isNever(wAdditional)) {
      if (isNever(rAdditional)) {
        found.push(
          issue(path, 'the writer allows fields it does not declare; the reader refuses unknown fields'),
        );
      } else {
        found.push(...this.check(wAdditional, rAdditional, path ? `${path}.*` : '*'));
      }
    }
    if (r.propertyNames !== undefined && !isNever(wAdditional)) {
      found.push(
        ...this.check(
          (w.propertyNames ?? { type: 'string' }) as JsonSchema,
          r.propertyNames as JsonSchema,
          path ? `${path}.<key>` : '<key>',
        ),
      );
    }
    found.push(...lowerBound(w, r, 'minProperties', path, 'number of fields'));
    found.push(...upperBound(w, r, 'maxProperties', path, 'number of fields'));
    return found;
  }

  private resolve(node: JsonSchema, root: JsonSchema): { node: JsonSchema; ref?: string } {
    let current = node;
    let ref: string | undefined;
    for (let hops = 0; typeof current === 'object' && typeof current.$ref === 'string'; hops += 1) {
      if (hops > 64) throw new TypeError('findIncompatibilities: a $ref chain does not end');
      ref = current.$ref as string;
      const target = lookup(root, ref);
      if (target === undefined) throw new TypeError(`findIncompatibilities: cannot resolve $ref ${ref}`);
      const rest = without(current, '$ref');
      current = isAny(rest) ? target : { allOf: [target, rest] };
    }
    return ref === undefined ? { node: current } : { node: current, ref };
  }
}

const KNOWN_KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  '$ref',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'contentEncoding',
  'contentMediaType',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
]);

function issue(path: string, reason: string): SchemaIncompatibility {
  return { path, reason };
}

function dedupe(found: SchemaIncompatibility[]): SchemaIncompatibility[] {
  const seen = new Set<string>();
  return found.filter((entry) => {
    const key = `${entry.path}\u0000${entry.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isAny(node: JsonSchema): boolean {
  if (node === true) return true;
  if (node === false) return false;
  return Object.keys(node).every((keyword) => ANNOTATIONS.has(keyword));
}

function isNever(node: JsonSchema | undefined): boolean {
  if (node === false) return true;
  if (typeof node !== 'object' || node === null) return false;
  if (node.not !== undefined && isAny(node.not as JsonSchema)) return true;
  return Array.isArray(node.enum) && node.enum.length === 0;
}

function strip(node: JsonSchema): JsonSchema {
  if (typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) if (!ANNOTATIONS.has(keyword)) out[keyword] = value;
  return out;
}

function without(node: Node, keyword: string): Node {
  const { [keyword]: _removed, ...rest } = node;
  return rest;
}

function alternatives(node: Node): JsonSchema[] | undefined {
  const list = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (!list) return undefined;
  const rest = without(without(node, 'anyOf'), 'oneOf');
  if (isAny(rest)) return list as JsonSchema[];
  return (list as JsonSchema[]).map((branch) => ({ allOf: [rest, branch] }));
}

function typeList(node: Node): string[] | undefined {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type.filter((type): type is string => typeof type === 'string');
  return undefined;
}

function narrowToType(node: Node, type: string): Node {
  return { ...node, type };
}

function enumerated(node: Node): unknown[] | undefined {
  if ('const' in node) return [node.const];
  if (Array.isArray(node.enum)) return node.enum;
  return undefined;
}

function lookup(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let current: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    const key = decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'boolean' || (typeof current === 'object' && current !== null)
    ? (current as JsonSchema)
    : undefined;
}

function lowerBound(w: Node, r: Node, keyword: string, path: string, what: string): SchemaIncompatibility[] {
  const readerMin = r[keyword];
  if (typeof readerMin !== 'number' || readerMin <= 0) return [];
  const writerMin = typeof w[keyword] === 'number' ? (w[keyword] as number) : 0;
  return writerMin >= readerMin
    ? []
    : [
        issue(
          path,
          `narrowed: the reader requires a ${what} of at least ${readerMin}, the writer guarantees only ${writerMin}`,
        ),
      ];
}

function upperBound(w: Node, r: Node, keyword: string, path: string, what: string): SchemaIncompatibility[] {
  const readerMax = r[keyword];
  if (typeof readerMax !== 'number') return [];
  const writerMax = typeof w[keyword] === 'number' ? (w[keyword] as number) : Number.POSITIVE_INFINITY;
  return writerMax <= readerMax
    ? []
    : [
        issue(
          path,
          `narrowed: the reader accepts a ${what} of at most ${readerMax}, the writer may write ${Number.isFinite(writerMax) ? writerMax : 'any'}`,
        ),
      ];
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

/** The tighter of a node's inclusive and exclusive bound (`lower`: the greater one). */
function bound(node: Node, inclusive: string, exclusive: string, lower: boolean): Bound | undefined {
  const candidates: Bound[] = [];
  if (typeof node[inclusive] === 'number')
    candidates.push({ value: node[inclusive] as number, exclusive: false });
  if (typeof node[exclusive] === 'number')
    candidates.push({ value: node[exclusive] as number, exclusive: true });
  let tightest: Bound | undefined;
  for (const candidate of candidates) {
    if (
      !tightest ||
      (lower ? candidate.value > tightest.value : candidate.value < tightest.value) ||
      (candidate.value === tightest.value && candidate.exclusive)
    ) {
      tightest = candidate;
    }
  }
  return tightest;
}

function numericBounds(w: Node, r: Node, path: string): SchemaIncompatibility[] {
  const found: SchemaIncompatibility[] = [];
  const rMin = bound(r, 'minimum', 'exclusiveMinimum', true);
  const wMin = bound(w, 'minimum', 'exclusiveMinimum', true);
  if (rMin) {
    const ok =
      wMin !== undefined &&
      (wMin.value > rMin.value || (wMin.value === rMin.value && (wMin.exclusive || !rMin.exclusive)));
    if (!ok) {
      found.push(
        issue(
          path,
          `narrowed: the reader requires a value ${rMin.exclusive ? '>' : '>='} ${rMin.value}, the writer guarantees ${wMin ? `${wMin.exclusive ? '>' : '>='} ${wMin.value}` : 'no lower bound'}`,
        ),
      );
    }
  }
  const rMax = bound(r, 'maximum', 'exclusiveMaximum', false);
  const wMax = bound(w, 'maximum', 'exclusiveMaximum', false);
  if (rMax) {
    const ok =
      wMax !== undefined &&
      (wMax.value < rMax.value || (wMax.value === rMax.value && (wMax.exclusive || !rMax.exclusive)));
    if (!ok) {
      found.push(
        issue(
          path,
          `narrowed: the reader requires a value ${rMax.exclusive ? '<' : '<='} ${rMax.value}, the writer guarantees ${wMax ? `${wMax.exclusive ? '<' : '<='} ${wMax.value}` : 'no upper bound'}`,
        ),
      );
    }
  }
  return found;
}

/** Whether `schema` accepts one JSON value (for enumerations and constants of the writer). */
function accepts(schema: JsonSchema, value: unknown, root: JsonSchema, depth = 0): boolean {
  if (depth > 64) return false;
  if (schema === true) return true;
  if (schema === false) return false;
  let node = schema as Node;
  if (typeof node.$ref === 'string') {
    const target = lookup(root, node.$ref);
    if (target === undefined || !accepts(target, value, root, depth + 1)) return false;
    node = without(node, '$ref');
  }
  if (isNever(node)) return false;
  const next = (child: JsonSchema, item: unknown) => accepts(child, item, root, depth + 1);
  if (Array.isArray(node.anyOf) && !node.anyOf.some((branch) => next(branch as JsonSchema, value)))
    return false;
  if (Array.isArray(node.oneOf) && !node.oneOf.some((branch) => next(branch as JsonSchema, value)))
    return false;
  if (Array.isArray(node.allOf) && !node.allOf.every((branch) => next(branch as JsonSchema, value)))
    return false;
  if ('const' in node && stableJson(node.const) !== stableJson(value)) return false;
  if (Array.isArray(node.enum) && !node.enum.some((option) => stableJson(option) === stableJson(value)))
    return false;
  const types = typeList(node);
  if (types && !types.some((type) => hasType(value, type))) return false;
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof node.minLength === 'number' && length < node.minLength) return false;
    if (typeof node.maxLength === 'number' && length > node.maxLength) return false;
    if (typeof node.pattern === 'string' && !safeTest(node.pattern, value)) return false;
  }
  if (typeof value === 'number') {
    if (typeof node.minimum === 'number' && value < node.minimum) return false;
    if (typeof node.maximum === 'number' && value > node.maximum) return false;
    if (typeof node.exclusiveMinimum === 'number' && value <= node.exclusiveMinimum) return false;
    if (typeof node.exclusiveMaximum === 'number' && value >= node.exclusiveMaximum) return false;
    if (typeof node.multipleOf === 'number' && !Number.isInteger(value / node.multipleOf)) return false;
  }
  if (Array.isArray(value)) {
    const prefix = (Array.isArray(node.prefixItems) ? node.prefixItems : []) as JsonSchema[];
    if (typeof node.minItems === 'number' && value.length < node.minItems) return false;
    if (typeof node.maxItems === 'number' && value.length > node.maxItems) return false;
    if (!value.every((item, index) => next(prefix[index] ?? ((node.items ?? true) as JsonSchema), item)))
      return false;
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const props = (node.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of (node.required ?? []) as string[]) if (!(name in record)) return false;
    for (const [name, item] of Object.entries(record)) {
      const child = props[name] ?? ((node.additionalProperties ?? true) as JsonSchema);
      if (!next(child, item)) return false;
    }
  }
  return true;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}

function describe(node: JsonSchema): string {
  if (node === true) return 'any value';
  if (node === false) return 'no value';
  const values = enumerated(node);
  if (values) return values.map((value) => JSON.stringify(value)).join(' | ');
  const types = typeList(node);
  if (types) return types.join(' | ');
  const options = alternatives(node);
  if (options) return options.map(describe).join(' | ');
  return 'a constrained value';
}

/** JSON with object keys sorted, so equal schemas compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

/** A copy of a JSON value with every object's keys sorted (deterministic output). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
