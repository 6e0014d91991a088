/**
 * DynamoDB attribute values as the service sees them: validation (one type per value, no empty or
 * duplicate sets, nesting depth, numbers), size as DynamoDB bills and limits it, ordering, equality
 * and deep copies.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ModelValidationError } from './model-validation-error';
import { compareNumbers, normalizeNumber, parseNumber, significantDigits } from './numbers';

/** An item or key: attribute name → value. */
export type AttributeMap = Record<string, AttributeValue>;

/** The type tag of an attribute value. */
export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'SS' | 'NS' | 'BS' | 'L' | 'M';

const TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'SS', 'NS', 'BS', 'L', 'M'];

/** The maximum size of an item, in bytes (400 KB). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** The deepest level of a value (a top-level attribute value is level 1; lists and maps stop at 31). */
export const MAX_NESTING_DEPTH = 32;

const SET_NAMES: Record<string, string> = { SS: 'string set', NS: 'number set', BS: 'binary set' };

/** The type of a value (which must have been validated). */
export function typeOf(value: AttributeValue): AttributeType {
  for (const type of TYPES) {
    if ((value as unknown as Record<string, unknown>)[type] !== undefined) return type;
  }
  throw new ModelValidationError(
    'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
  );
}

/** UTF-8 byte length of a string. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/**
 * Checks one value as DynamoDB does on input and returns a normalised deep copy (numbers in
 * canonical form, binary copied). `depth` is the nesting level of this value: a top-level attribute
 * value is level 1, a member of a top-level list or map level 2, and so on. A value at level 32 can
 * only be a scalar: DynamoDB refuses a list or map (even an empty one) at level 32.
 */
export function validateValue(value: AttributeValue, depth = 1): AttributeValue {
  if (value === null || typeof value !== 'object') {
    throw new ModelValidationError(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    );
  }
  const present = TYPES.filter((type) => (value as unknown as Record<string, unknown>)[type] !== undefined);
  if (present.length === 0) {
    throw new ModelValidationError(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    );
  }
  if (present.length > 1) {
    throw new ModelValidationError(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  }
  const type = present[0]!;
  const raw = (value as unknown as Record<string, unknown>)[type];
  switch (type) {
    case 'S':
      if (typeof raw !== 'string') throw invalidType(type);
      return { S: raw };
    case 'N':
      if (typeof raw !== 'string') throw invalidType(type);
      return { N: normalizeNumber(raw) };
    case 'B':
      if (!isBytes(raw)) throw invalidType(type);
      return { B: Uint8Array.from(raw) };
    case 'BOOL':
      if (typeof raw !== 'boolean') throw invalidType(type);
      return { BOOL: raw };
    case 'NULL':
      if (raw !== true) {
        throw new ModelValidationError(
          'One or more parameter values were invalid: Null attribute value types must have the value of true',
        );
      }
      return { NULL: true };
    case 'SS':
    case 'NS':
    case 'BS':
      return validateSet(type, raw);
    case 'L': {
      if (!Array.isArray(raw)) throw invalidType(type);
      if (depth >= MAX_NESTING_DEPTH) throw nestingTooDeep();
      const list: AttributeValue[] = [];
      for (let index = 0; index < raw.length; index += 1) {
        if (!(index in raw)) throw invalidType(type);
        list.push(validateValue(raw[index] as AttributeValue, depth + 1));
      }
      return { L: list };
    }
    case 'M': {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidType(type);
      if (depth >= MAX_NESTING_DEPTH) throw nestingTooDeep();
      const map: AttributeMap = {};
      for (const [name, member] of Object.entries(raw as AttributeMap)) {
        setAttribute(map, name, validateValue(member, depth + 1));
      }
      return { M: map };
    }
  }
}

function validateSet(type: 'SS' | 'NS' | 'BS', raw: unknown): AttributeValue {
  if (!Array.isArray(raw)) throw invalidType(type);
  if (raw.length === 0) {
    throw new ModelValidationError(
      `One or more parameter values were invalid: An ${SET_NAMES[type]}  may not be empty`,
    );
  }
  const seen = new Set<string>();
  const members: unknown[] = [];
  for (const member of raw) {
    let keyText: string;
    if (type === 'SS') {
      if (typeof member !== 'string') throw invalidType(type);
      keyText = member;
      members.push(member);
    } else if (type === 'NS') {
      if (typeof member !== 'string') throw invalidType(type);
      keyText = normalizeNumber(member);
      members.push(keyText);
    } else {
      if (!isBytes(member)) throw invalidType(type);
      keyText = Buffer.from(member).toString('base64');
      members.push(Uint8Array.from(member));
    }
    if (seen.has(keyText)) {
      throw new ModelValidationError(
        `One or more parameter values were invalid: Input collection [${raw.map(String).join(', ')}] contains duplicates.`,
      );
    }
    seen.add(keyText);
  }
  return { [type]: members } as unknown as AttributeValue;
}

function invalidType(type: AttributeType): ModelValidationError {
  return new ModelValidationError(
    `One or more parameter values were invalid: the ${type} member of an AttributeValue has the wrong JavaScript type`,
  );
}

function nestingTooDeep(): ModelValidationError {
  return new ModelValidationError('Nesting Levels have exceeded supported limits');
}

/** Validates every attribute of an item (or key) and returns the normalised copy. */
export function validateItem(item: AttributeMap | undefined, what = 'Item'): AttributeMap {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new ModelValidationError(
      `One or more parameter values were invalid: ${what} must be a map of attribute values`,
    );
  }
  const copy: AttributeMap = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.length === 0) {
      throw new ModelValidationError(
        'One or more parameter values were invalid: An AttributeValue may not contain an empty attribute name',
      );
    }
    setAttribute(copy, name, validateValue(value));
  }
  return copy;
}

/**
 * The size of a value in bytes as DynamoDB counts it: strings and binary by their bytes, numbers
 * by 1 byte plus 1 per two significant digits, booleans and null 1 byte, sets the sum of their
 * members, lists and maps 3 bytes plus, per element, 1 byte and the element's size (and, in a map,
 * the element name's UTF-8 bytes).
 */
export function valueSize(value: AttributeValue): number {
  switch (typeOf(value)) {
    case 'S':
      return utf8Length(value.S!);
    case 'N':
      return numberSize(value.N!);
    case 'B':
      return value.B!.byteLength;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return value.SS!.reduce((sum, member) => sum + utf8Length(member), 0);
    case 'NS':
      return value.NS!.reduce((sum, member) => sum + numberSize(member), 0);
    case 'BS':
      return value.BS!.reduce((sum, member) => sum + member.byteLength, 0);
    case 'L':
      return value.L!.reduce((sum, member) => sum + 1 + valueSize(member), 3);
    case 'M':
      return Object.entries(value.M!).reduce(
        (sum, [name, member]) => sum + 1 + utf8Length(name) + valueSize(member),
        3,
      );
  }
}

function numberSize(text: string): number {
  return 1 + Math.ceil(significantDigits(parseNumber(text)) / 2);
}

/** The size of an item: for each attribute, its name's UTF-8 bytes plus its value's size. */
export function itemSize(item: AttributeMap): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8Length(name) + valueSize(value);
  return size;
}

/** Throws DynamoDB's error when an item is over 400 KB. */
export function checkItemSize(item: AttributeMap): number {
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES)
    throw new ModelValidationError('Item size has exceeded the maximum allowed size');
  return size;
}

/** Whether two values are equal as DynamoDB compares them (sets ignore order). */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const type = typeOf(a);
  if (type !== typeOf(b)) return false;
  switch (type) {
    case 'S':
      return a.S === b.S;
    case 'N':
      return compareNumbers(a.N!, b.N!) === 0;
    case 'B':
      return Buffer.compare(Buffer.from(a.B!), Buffer.from(b.B!)) === 0;
    case 'BOOL':
      return a.BOOL === b.BOOL;
    case 'NULL':
      return true;
    case 'SS':
    case 'NS':
    case 'BS': {
      const left = setKeys(a);
      const right = setKeys(b);
      return left.size === right.size && [...left].every((member) => right.has(member));
    }
    case 'L':
      return a.L!.length === b.L!.length && a.L!.every((member, index) => valuesEqual(member, b.L![index]!));
    case 'M': {
      const left = Object.keys(a.M!);
      if (left.length !== Object.keys(b.M!).length) return false;
      return left.every((name) => Object.hasOwn(b.M!, name) && valuesEqual(a.M![name]!, b.M![name]!));
    }
  }
}

/** The members of a set as comparable strings (numbers normalised, binary as base64). */
export function setKeys(value: AttributeValue): Set<string> {
  if (value.SS) return new Set(value.SS);
  if (value.NS) return new Set(value.NS.map(normalizeNumber));
  if (value.BS) return new Set(value.BS.map((member) => Buffer.from(member).toString('base64')));
  return new Set();
}

/**
 * Order of two scalar values of one type as DynamoDB sorts keys and compares with `<`: strings by
 * their UTF-8 bytes, numbers numerically, binary by unsigned bytes.
 */
export function compareScalars(a: AttributeValue, b: AttributeValue): number {
  if (a.S !== undefined && b.S !== undefined)
    return Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  if (a.N !== undefined && b.N !== undefined) return compareNumbers(a.N, b.N);
  if (a.B !== undefined && b.B !== undefined) return Buffer.compare(Buffer.from(a.B), Buffer.from(b.B));
  throw new ModelValidationError('Cannot compare values of different or non-scalar types');
}

/** A deep copy of a value (so callers never share state with the model). */
export function cloneValue(value: AttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Uint8Array.from(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map((member) => Uint8Array.from(member)) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.L !== undefined) return { L: value.L.map(cloneValue) };
  if (value.M !== undefined) return { M: cloneItem(value.M) };
  return { ...value } as unknown as AttributeValue;
}

/** Sets an own attribute (safe for any name, `__proto__` included). */
export function setAttribute(map: AttributeMap, name: string, value: AttributeValue): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of an item. */
export function cloneItem(item: AttributeMap): AttributeMap {
  const copy: AttributeMap = {};
  for (const [name, value] of Object.entries(item)) {
    setAttribute(copy, name, cloneValue(value));
  }
  return copy;
}
