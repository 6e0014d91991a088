/**
 * Decides whether every value one JSON Schema allows is accepted by another: whether a reader
 * whose schema is `reader` can read every payload a writer whose schema is `writer` produces.
 * It understands the JSON Schema that zod 4's `toJSONSchema` emits (types, nullability, enums and
 * literals, string, number and array bounds, patterns and formats, objects open or closed, records,
 * tuples, unions, intersections, `$ref`). What it cannot prove, it reports: a check that says
 * "compatible" must be right.
 *
 * This module walks the two schemas side by side (unions, intersections, types, arrays, objects,
 * `$ref`); the rules for bounds are in `schema-bounds.ts`, the check of one enumerated value in
 * `schema-accepts-value.ts`, and the reading of a single node in `json-schema.ts`.
 */
import {
  ANNOTATION_KEYWORDS,
  alternatives,
  describeSchema,
  enumerated,
  isAny,
  isNever,
  type JsonSchema,
  type JsonSchemaObject,
  lookupRef,
  narrowToType,
  strip,
  typeList,
  without,
} from './json-schema';
import { schemaAcceptsValue } from './schema-accepts-value';
import { compareLowerBound, compareNumericBounds, compareUpperBound } from './schema-bounds';
import {
  dedupeIncompatibilities,
  incompatibility,
  type SchemaIncompatibility,
} from './schema-incompatibility';
import { stableJson } from './stable-json';

/** How {@link findIncompatibilities} judges a field the reader knows and the writer no longer writes. */
export interface CompatibilityOptions {
  /**
   * Report a field the reader's schema declares (even as optional) that the writer's closed
   * object no longer has: a removed or renamed field. Its readers would silently stop seeing it.
   * @default true
   */
  readonly removedFieldsBreak?: boolean;
}

type Root = { readonly writer: JsonSchema; readonly reader: JsonSchema };

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
  return dedupeIncompatibilities(checker.check(writer, reader, ''));
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
    if (isNever(r)) return [incompatibility(path, 'the reader accepts no value here')];
    if (isAny(w)) {
      return [
        incompatibility(
          path,
          `the writer's value is unconstrained (z.unknown(), or a type JSON Schema cannot express, such as a transform or a date) and the reader accepts only ${describeSchema(r)}`,
        ),
      ];
    }
    const wn = w as JsonSchemaObject;
    const rn = r as JsonSchemaObject;

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
        incompatibility(
          path,
          `the writer may write ${describeSchema(w)}, which none of the reader's alternatives (${rAlternatives.map(describeSchema).join(' | ')}) accepts${best?.[0] ? ` (closest: ${best[0].reason})` : ''}`,
        ),
      ];
    }
    if (Array.isArray(rn.allOf)) {
      const rest = without(rn, 'allOf');
      return [...(rn.allOf as JsonSchema[]), rest].flatMap((branch) => this.check(w, branch, path));
    }
    if (rn.not !== undefined || wn.not !== undefined) {
      return [incompatibility(path, 'a `not` schema cannot be compared; keep this field unchanged')];
    }

    // Constants and enumerations of the writer: check each value.
    const values = enumerated(wn);
    if (values) {
      const refused = values.filter((value) => !schemaAcceptsValue(r, value, this.roots.reader));
      if (refused.length === 0) return [];
      return [
        incompatibility(
          path,
          `the writer may write ${refused.map((value) => JSON.stringify(value)).join(', ')}, which the reader does not accept`,
        ),
      ];
    }
    if (enumerated(rn)) {
      return [
        incompatibility(
          path,
          `the reader accepts only ${describeSchema(r)}; the writer may write any ${describeSchema(w)}`,
        ),
      ];
    }

    const writerType = types?.[0];
    if (writerType === undefined) {
      return typeList(rn)
        ? [
            incompatibility(
              path,
              `the writer does not restrict the type; the reader accepts only ${describeSchema(r)}`,
            ),
          ]
        : this.checkKeywords(wn, rn, undefined, path);
    }
    const readerTypes = typeList(rn);
    if (
      readerTypes &&
      !readerTypes.includes(writerType) &&
      !(writerType === 'integer' && readerTypes.includes('number'))
    ) {
      return [
        incompatibility(
          path,
          `type: the writer may write ${writerType === 'null' ? 'null' : `a value of type ${writerType}`}, the reader accepts only ${readerTypes.join(' or ')}`,
        ),
      ];
    }
    return this.checkKeywords(wn, rn, writerType, path);
  }

  private checkKeywords(
    w: JsonSchemaObject,
    r: JsonSchemaObject,
    type: string | undefined,
    path: string,
  ): SchemaIncompatibility[] {
    const found: SchemaIncompatibility[] = [];
    const unknown = Object.keys(r).filter((keyword) => !KNOWN_KEYWORDS.has(keyword));
    for (const keyword of unknown) {
      if (stableJson(w[keyword]) !== stableJson(r[keyword])) {
        found.push(
          incompatibility(
            path,
            `the reader's keyword "${keyword}" cannot be compared and the writer's differs`,
          ),
        );
      }
    }
    if (type === undefined || type === 'string') {
      found.push(...compareLowerBound(w, r, 'minLength', path, 'length'));
      found.push(...compareUpperBound(w, r, 'maxLength', path, 'length'));
      for (const keyword of ['pattern', 'format', 'contentEncoding', 'contentMediaType'] as const) {
        if (r[keyword] !== undefined && r[keyword] !== w[keyword]) {
          found.push(
            incompatibility(
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
      found.push(...compareNumericBounds(w, r, path));
      if (typeof r.multipleOf === 'number') {
        const ok = typeof w.multipleOf === 'number' && Number.isInteger(w.multipleOf / r.multipleOf);
        if (!ok)
          found.push(
            incompatibility(
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

  private checkArray(w: JsonSchemaObject, r: JsonSchemaObject, path: string): SchemaIncompatibility[] {
    const found: SchemaIncompatibility[] = [];
    found.push(...compareLowerBound(w, r, 'minItems', path, 'number of items'));
    found.push(...compareUpperBound(w, r, 'maxItems', path, 'number of items'));
    if (r.uniqueItems === true && w.uniqueItems !== true) {
      found.push(
        incompatibility(path, 'the reader requires unique items, which the writer does not guarantee'),
      );
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

  private checkObject(w: JsonSchemaObject, r: JsonSchemaObject, path: string): SchemaIncompatibility[] {
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
            incompatibility(
              join(name),
              'the reader requires this field and the writer does not write it (a field removed, renamed or added as required)',
            ),
          );
        } else if (this.removedFieldsBreak) {
          found.push(
            incompatibility(
              join(name),
              'the reader knows this optional field and the writer no longer writes it (removed or renamed): its readers would silently stop seeing it',
            ),
          );
        }
      } else {
        if (rRequired.has(name) && !wRequired.has(name)) {
          found.push(
            incompatibility(
              join(name),
              'the reader requires this field and the writer does not always write it',
            ),
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
            incompatibility(
              join(name),
              'now optional: the reader requires this field and the writer may leave it out',
            ),
          );
        }
        found.push(...this.check(writerField, rProps[name] as JsonSchema, join(name)));
      } else if (isNever(rAdditional)) {
        found.push(
          incompatibility(
            join(name),
            'new field: the reader is a strict object that refuses fields it does not know',
          ),
        );
      } else {
        found.push(...this.check(writerField, rAdditional, join(name)));
      }
    }
    for (const name of [...rRequired].sort()) {
      if (!(name in rProps) && !wRequired.has(name)) {
        found.push(
          incompatibility(
            join(name),
            'the reader requires this field and the writer does not always write it',
          ),
        );
      }
    }
    if (!isNever(wAdditional)) {
      if (isNever(rAdditional)) {
        found.push(
          incompatibility(
            path,
            'the writer allows fields it does not declare; the reader refuses unknown fields',
          ),
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
    found.push(...compareLowerBound(w, r, 'minProperties', path, 'number of fields'));
    found.push(...compareUpperBound(w, r, 'maxProperties', path, 'number of fields'));
    return found;
  }

  private resolve(node: JsonSchema, root: JsonSchema): { node: JsonSchema; ref?: string } {
    let current = node;
    let ref: string | undefined;
    for (let hops = 0; typeof current === 'object' && typeof current.$ref === 'string'; hops += 1) {
      if (hops > 64) throw new TypeError('findIncompatibilities: a $ref chain does not end');
      ref = current.$ref as string;
      const target = lookupRef(root, ref);
      if (target === undefined) throw new TypeError(`findIncompatibilities: cannot resolve $ref ${ref}`);
      const rest = without(current, '$ref');
      current = isAny(rest) ? target : { allOf: [target, rest] };
    }
    return ref === undefined ? { node: current } : { node: current, ref };
  }
}

const KNOWN_KEYWORDS = new Set([
  ...ANNOTATION_KEYWORDS,
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
