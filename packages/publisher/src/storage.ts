/**
 * What the event log can store: payloads that DynamoDB keeps as a native map and gives back
 * unchanged, and the DynamoDB size of an item.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ValidationIssue } from '@tidemark/core';

/** DynamoDB numbers: at most 38 significant digits, magnitude from 1E-130 to below 1E+126. */
const MAX_NUMBER_MAGNITUDE = 1e126;
const MIN_NUMBER_MAGNITUDE = 1e-130;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Lists why a payload would not survive a round trip through DynamoDB and JSON unchanged: the
 * event log stores it as a native map, the publisher reads it back from the stream image and
 * encodes it as JSON. Allowed: `null`, booleans, well-formed strings (empty included), finite
 * numbers DynamoDB accepts that are safe integers when integral, arrays (without `undefined`) and
 * plain objects (an `undefined` property is dropped, as JSON drops it).
 */
export function payloadIssues(value: unknown, path = 'data'): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  visit(value, path, issues, new Set());
  return issues;
}

function visit(value: unknown, path: string, issues: ValidationIssue[], seen: Set<object>): void {
  const refuse = (message: string) => issues.push({ path, message, code: 'not_storable' });
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) refuse('contains a lone UTF-16 surrogate, which is not valid UTF-8');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return void refuse(`${value} cannot be stored (DynamoDB has no NaN or Infinity)`);
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
  if (Array.isArray(value)) {
    seen.add(value);
    value.forEach((element, index) => {
      if (element === undefined) {
        issues.push({
          path: `${path}[${index}]`,
          message: 'undefined in an array cannot be stored (JSON would turn it into null)',
          code: 'not_storable',
        });
      } else {
        visit(element, `${path}[${index}]`, issues, seen);
      }
    });
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
  seen.add(value);
  for (const [key, element] of Object.entries(value)) {
    if (element === undefined) continue;
    const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    if (LONE_SURROGATE.test(key)) {
      issues.push({
        path: childPath,
        message: 'the key contains a lone UTF-16 surrogate',
        code: 'not_storable',
      });
    }
    visit(element, childPath, issues, seen);
  }
  seen.delete(value);
}

/** Marshalls an event-log item for DynamoDB (payload as a native map). */
export function marshallItem(item: object): Record<string, AttributeValue> {
  return marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

const encoder = new TextEncoder();
const utf8 = (value: string) => encoder.encode(value).byteLength;

/**
 * The size of a marshalled item by DynamoDB's published sizing rules (attribute names and values;
 * numbers count 1 byte per two significant digits plus 1; maps and lists 3 bytes plus 1 per
 * element). It errs on the large side, never the small one.
 */
export function dynamoDbItemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + attributeValueSize(value);
  return size;
}

function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined)
    return value.L.reduce((sum, element) => sum + 1 + attributeValueSize(element), 3);
  if (value.M !== undefined) {
    let size = 3;
    for (const [name, element] of Object.entries(value.M))
      size += 1 + utf8(name) + attributeValueSize(element);
    return size;
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + utf8(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberSize(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').split(/e/i)[0]!.replace('.', '').replace(/^0+/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
