/**
 * What the event log can store: payloads that DynamoDB keeps as a native map and gives back
 * unchanged, and the DynamoDB size of an item.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ValidationIssue } from '@tidemark/core';
import { dynamoDbItemSize, utf8Length as utf8 } from '@tidemark/core/internal';

/** DynamoDB numbers: at most 38 significant digits, magnitude from 1E-130 to below 1E+126. */
const MAX_NUMBER_MAGNITUDE = 1e126;
const MIN_NUMBER_MAGNITUDE = 1e-130;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Levels of maps and lists a payload may have, the payload map itself included: DynamoDB refuses
 * an item nested deeper than 32 levels and counts the item as the first (measured on DynamoDB Local:
 * a payload map with 30 levels inside is stored, one with 31 is refused).
 */
export const MAX_PAYLOAD_DEPTH = 31;

/**
 * The longest map key a payload may have, in UTF-8 bytes. DynamoDB documents 64 KB for attribute
 * names; DynamoDB Local refuses a map key over 50,000 bytes (with an `InternalFailure`, measured),
 * so the stricter of the two holds on both.
 */
export const MAX_MAP_KEY_BYTES = 50_000;

/** Whether a string is well-formed Unicode (no lone UTF-16 surrogate), so it encodes to UTF-8 as is. */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * Lists why a payload would not survive a round trip through DynamoDB and JSON unchanged: the
 * event log stores it as a native map, the publisher reads it back from the stream image and
 * encodes it as JSON. Allowed: `null`, booleans, well-formed strings (empty included), finite
 * numbers DynamoDB accepts that are safe integers when integral (not `-0`), dense arrays without
 * `undefined` or extra properties, and plain objects whose own properties are enumerable data
 * properties with non-empty, well-formed string keys of at most {@link MAX_MAP_KEY_BYTES} UTF-8
 * bytes other than `__proto__` (an `undefined` property is dropped, as JSON drops it), nested at
 * most {@link MAX_PAYLOAD_DEPTH} levels.
 */
export function payloadIssues(value: unknown, path = 'data'): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  visit(value, path, 1, issues, new Set());
  return issues;
}

function visit(
  value: unknown,
  path: string,
  depth: number,
  issues: ValidationIssue[],
  seen: Set<object>,
): void {
  const refuse = (message: string, at = path) => issues.push({ path: at, message, code: 'not_storable' });
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (!isWellFormed(value)) refuse('contains a lone UTF-16 surrogate, which is not valid UTF-8');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return void refuse(`${value} cannot be stored (DynamoDB has no NaN or Infinity)`);
    if (Object.is(value, -0)) return void refuse('-0 cannot be stored: DynamoDB stores it as 0');
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return void refuse(`${value} is not a safe integer; it would not read back exactly (use a string)`);
    }
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude >= MAX_NUMBER_MAGNITUDE || magnitude < MIN_NUMBER_MAGNITUDE)) {
      refuse(`${value} is outside the range of DynamoDB numbers (1E-130 to 9.9E+125)`);
    }
    return;
  }
  if (typeof value !== 'object') return void refuse(`a ${typeof value} cannot be stored`);
  if (seen.has(value)) return void refuse('is a circular reference');
  if (depth > MAX_PAYLOAD_DEPTH) {
    return void refuse(
      `nests maps and lists deeper than DynamoDB allows (${MAX_PAYLOAD_DEPTH} levels, the payload included)`,
    );
  }
  if (Array.isArray(value)) {
    seen.add(value);
    for (let index = 0; index < value.length; index += 1) {
      const at = `${path}[${index}]`;
      if (!Object.hasOwn(value, index)) {
        refuse('is a hole in a sparse array, which DynamoDB drops (use null)', at);
      } else if (value[index] === undefined) {
        refuse('undefined in an array cannot be stored (JSON would turn it into null)', at);
      } else {
        visit(value[index], at, depth + 1, issues, seen);
      }
    }
    for (const key of Reflect.ownKeys(value)) {
      if (key === 'length' || (typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key))) continue;
      refuse(`the array's own property ${String(key)} is not stored (only its elements are)`);
    }
    seen.delete(value);
    return;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    return void refuse(
      `a ${name} cannot be stored and read back unchanged; use plain objects, arrays, strings, numbers, booleans and null (e.g. an ISO string for a date)`,
    );
  }
  // DynamoDB's marshaller tells a map from a class instance by `value.constructor`: an own
  // `constructor` key whose value is truthy and not named `Object` makes it refuse the whole map.
  const ownConstructor = Object.hasOwn(value, 'constructor')
    ? (value as { constructor?: { name?: unknown } }).constructor
    : undefined;
  if (ownConstructor && ownConstructor.name !== 'Object') {
    return void refuse(
      'has a key "constructor" whose value DynamoDB\'s marshaller reads as a class, so it refuses the map; rename the key',
    );
  }
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') {
      refuse(`the symbol-keyed property ${String(key)} is not stored`);
      continue;
    }
    const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) {
      refuse('is an accessor (getter or setter); only plain data properties are stored', childPath);
      continue;
    }
    if (!descriptor.enumerable) {
      refuse('is not enumerable, so it would not be stored', childPath);
      continue;
    }
    if (descriptor.value === undefined) continue;
    // Checked before the key goes into a path: a refused key may be 50 KB long.
    if (key.length > MAX_MAP_KEY_BYTES / 3 && utf8(key) > MAX_MAP_KEY_BYTES) {
      refuse(
        `has a key of ${utf8(key)} UTF-8 bytes; DynamoDB takes map keys of at most ${MAX_MAP_KEY_BYTES}`,
      );
      continue;
    }
    if (key === '') {
      refuse('an empty string cannot be a key of a DynamoDB map', childPath);
    } else if (key === '__proto__') {
      refuse('an own "__proto__" key is dropped when stored and read back', childPath);
    } else if (!isWellFormed(key)) {
      refuse('the key contains a lone UTF-16 surrogate', childPath);
    }
    visit(descriptor.value, childPath, depth + 1, issues, seen);
  }
  seen.delete(value);
}

/**
 * The first place where `stored` (a payload after marshall and unmarshall) differs from `given`,
 * or `undefined` when they are the same: the safety net behind {@link payloadIssues}, so a value
 * that changes in storage is refused even when no rule above names it. An `undefined` property of
 * `given` equals a missing one.
 */
export function firstDifference(given: unknown, stored: unknown, path = 'data'): string | undefined {
  if (typeof given !== 'object' || given === null || typeof stored !== 'object' || stored === null) {
    return Object.is(given, stored) ? undefined : path;
  }
  if (Array.isArray(given) !== Array.isArray(stored)) return path;
  if (Array.isArray(given)) {
    const list = stored as unknown[];
    if (given.length !== list.length) return path;
    for (let index = 0; index < given.length; index += 1) {
      const difference = firstDifference(given[index], list[index], `${path}[${index}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  const givenKeys = Object.keys(given).filter((key) => (given as Record<string, unknown>)[key] !== undefined);
  const storedKeys = Object.keys(stored);
  if (givenKeys.length !== storedKeys.length) return path;
  for (const key of givenKeys) {
    if (!Object.hasOwn(stored, key)) return `${path}.${key}`;
    const difference = firstDifference(
      (given as Record<string, unknown>)[key],
      (stored as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (difference !== undefined) return difference;
  }
  return undefined;
}

/** Marshalls an event-log item for DynamoDB (payload as a native map). */
export function marshallItem(item: object): Record<string, AttributeValue> {
  return marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

/** The size of a marshalled item by DynamoDB's published sizing rules (shared with the consumer). */
export { dynamoDbItemSize };
