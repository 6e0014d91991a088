/**
 * Reading JSON Schema nodes in the shapes zod 4's `toJSONSchema` emits: what a node allows at a
 * glance (anything, nothing, a list of types, a list of values, alternatives), `$ref` lookup and a
 * short description for messages. No comparison happens here.
 */

/** A JSON Schema node: `true` (anything), `false` (nothing) or an object. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** A JSON Schema node in its object form. */
export type JsonSchemaObject = { readonly [keyword: string]: unknown };

/** Keywords that document a schema without restricting its values. */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set([
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

/** Whether a node accepts every value (`true`, or an object of annotations only). */
export function isAny(node: JsonSchema): boolean {
  if (node === true) return true;
  if (node === false) return false;
  return Object.keys(node).every((keyword) => ANNOTATION_KEYWORDS.has(keyword));
}

/** Whether a node accepts no value (`false`, `{ not: <anything> }` or an empty `enum`). */
export function isNever(node: JsonSchema | undefined): boolean {
  if (node === false) return true;
  if (typeof node !== 'object' || node === null) return false;
  if (node.not !== undefined && isAny(node.not as JsonSchema)) return true;
  return Array.isArray(node.enum) && node.enum.length === 0;
}

/** The node without its annotations, so that two nodes that only document differently compare equal. */
export function strip(node: JsonSchema): JsonSchema {
  if (typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (!ANNOTATION_KEYWORDS.has(keyword)) out[keyword] = value;
  }
  return out;
}

/** A copy of the node without one keyword. */
export function without(node: JsonSchemaObject, keyword: string): JsonSchemaObject {
  const { [keyword]: _removed, ...rest } = node;
  return rest;
}

/**
 * The branches of an `anyOf` or `oneOf` node, each with the node's other keywords applied to it;
 * `undefined` when the node has neither.
 */
export function alternatives(node: JsonSchemaObject): JsonSchema[] | undefined {
  const list = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (!list) return undefined;
  const rest = without(without(node, 'anyOf'), 'oneOf');
  if (isAny(rest)) return list as JsonSchema[];
  return (list as JsonSchema[]).map((branch) => ({ allOf: [rest, branch] }));
}

/** The node's `type` as a list; `undefined` when it does not restrict the type. */
export function typeList(node: JsonSchemaObject): string[] | undefined {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type.filter((type): type is string => typeof type === 'string');
  return undefined;
}

/** The node restricted to one of its types. */
export function narrowToType(node: JsonSchemaObject, type: string): JsonSchemaObject {
  return { ...node, type };
}

/** The values a `const` or `enum` node allows; `undefined` for any other node. */
export function enumerated(node: JsonSchemaObject): unknown[] | undefined {
  if ('const' in node) return [node.const];
  if (Array.isArray(node.enum)) return node.enum;
  return undefined;
}

/** The node a local `$ref` (`#` or a `#/…` JSON pointer) points to in `root`; `undefined` when none. */
export function lookupRef(root: JsonSchema, ref: string): JsonSchema | undefined {
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

/** What a node allows, in a few words (`string | null`, `"low" | "high"`, `any value`). */
export function describeSchema(node: JsonSchema): string {
  if (node === true) return 'any value';
  if (node === false) return 'no value';
  const values = enumerated(node);
  if (values) return values.map((value) => JSON.stringify(value)).join(' | ');
  const types = typeList(node);
  if (types) return types.join(' | ');
  const options = alternatives(node);
  if (options) return options.map(describeSchema).join(' | ');
  return 'a constrained value';
}
