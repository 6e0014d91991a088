import { isNever, type JsonSchema, type JsonSchemaObject, lookupRef, typeList, without } from './json-schema';
import { stableJson } from './stable-json';

/**
 * Whether `schema` accepts one JSON value: the schema comparison asks it for each value a writer's
 * `const` or `enum` allows. `root` is the document the schema's `$ref`s point into. It checks the
 * keywords zod emits; a `$ref` nested more than 64 deep, or a `pattern` that is not a valid regular
 * expression, accepts nothing (so the comparison reports the value rather than calling it readable).
 */
export function schemaAcceptsValue(schema: JsonSchema, value: unknown, root: JsonSchema, depth = 0): boolean {
  if (depth > 64) return false;
  if (schema === true) return true;
  if (schema === false) return false;
  let node = schema as JsonSchemaObject;
  if (typeof node.$ref === 'string') {
    const target = lookupRef(root, node.$ref);
    if (target === undefined || !schemaAcceptsValue(target, value, root, depth + 1)) return false;
    node = without(node, '$ref');
  }
  if (isNever(node)) return false;
  const next = (child: JsonSchema, item: unknown) => schemaAcceptsValue(child, item, root, depth + 1);
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
    if (typeof node.pattern === 'string' && !matchesPattern(node.pattern, value)) return false;
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

/** A `pattern` that is not a valid regular expression accepts nothing: the value is reported, not trusted. */
function matchesPattern(pattern: string, value: string): boolean {
  let expression: RegExp;
  try {
    expression = new RegExp(pattern);
  } catch {
    return false;
  }
  return expression.test(value);
}
