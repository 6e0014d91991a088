/**
 * Evaluates parsed conditions against an item, applies update actions and projections, with
 * DynamoDB's semantics: a comparison with a missing attribute is false (`<>` is true), ordering
 * compares only scalars of one type, and an invalid operand type is a `ValidationException`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type AttributeMap,
  cloneValue,
  compareScalars,
  setAttribute,
  setKeys,
  typeOf,
  utf8Length,
  valuesEqual,
} from './attribute-value';
import type { Condition, Operand, Path } from './expression-parser';
import { ModelValidationError } from './model-validation-error';

/** The value at a document path, or `undefined` when any step is missing. */
export function resolvePath(item: AttributeMap | undefined, path: Path): AttributeValue | undefined {
  if (item === undefined) return undefined;
  const [first, ...rest] = path;
  if (first === undefined || first.kind !== 'name' || !Object.hasOwn(item, first.name)) return undefined;
  let current: AttributeValue | undefined = item[first.name];
  for (const element of rest) {
    if (current === undefined) return undefined;
    if (element.kind === 'name') {
      current =
        current.M !== undefined && Object.hasOwn(current.M, element.name)
          ? current.M[element.name]
          : undefined;
    } else {
      current = current.L !== undefined ? current.L[element.index] : undefined;
    }
  }
  return current;
}

function operandValue(
  item: AttributeMap | undefined,
  operand: Operand,
  what: string,
): AttributeValue | undefined {
  if (operand.kind === 'value') return operand.value;
  const value = resolvePath(item, operand.path);
  if (operand.kind === 'path' || value === undefined) return value;
  return sizeOf(value, what);
}

function sizeOf(value: AttributeValue, what: string): AttributeValue {
  switch (typeOf(value)) {
    case 'S':
      return { N: String(utf8Length(value.S!)) };
    case 'B':
      return { N: String(value.B!.byteLength) };
    case 'SS':
    case 'NS':
    case 'BS':
      return { N: String(setKeys(value).size) };
    case 'L':
      return { N: String(value.L!.length) };
    case 'M':
      return { N: String(Object.keys(value.M!).length) };
    default:
      throw new ModelValidationError(
        `Invalid ${what}: Incorrect operand type for operator or function; operator or function: size, operand type: ${typeOf(value)}`,
      );
  }
}

const SCALAR = new Set(['S', 'N', 'B']);

function checkLiteralScalar(operand: Operand, operator: string, what: string): void {
  if (operand.kind === 'value' && !SCALAR.has(typeOf(operand.value))) {
    throw new ModelValidationError(
      `Invalid ${what}: Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${typeOf(operand.value)}`,
    );
  }
}

function ordered(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const type = typeOf(a);
  if (type !== typeOf(b) || !SCALAR.has(type)) return undefined;
  return compareScalars(a, b);
}

/**
 * Checks the static rules of a condition once (operand types of literals, BETWEEN bounds), the way
 * DynamoDB refuses such a request before looking at any item.
 */
export function checkCondition(condition: Condition, what: string): void {
  switch (condition.kind) {
    case 'and':
    case 'or':
      checkCondition(condition.left, what);
      checkCondition(condition.right, what);
      return;
    case 'not':
      checkCondition(condition.operand, what);
      return;
    case 'compare':
      if (condition.op !== '=' && condition.op !== '<>') {
        checkLiteralScalar(condition.left, condition.op, what);
        checkLiteralScalar(condition.right, condition.op, what);
      }
      return;
    case 'between': {
      checkLiteralScalar(condition.value, 'BETWEEN', what);
      checkLiteralScalar(condition.lower, 'BETWEEN', what);
      checkLiteralScalar(condition.upper, 'BETWEEN', what);
      const { lower, upper } = condition;
      if (lower.kind === 'value' && upper.kind === 'value') {
        const order = ordered(lower.value, upper.value);
        if (order === undefined) {
          throw new ModelValidationError(
            `Invalid ${what}: The BETWEEN operator requires same data type for lower and upper bounds`,
          );
        }
        if (order > 0) {
          throw new ModelValidationError(
            `Invalid ${what}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound`,
          );
        }
      }
      return;
    }
    case 'in':
      return;
    case 'function': {
      const [, second] = condition.args;
      if (condition.name === 'attribute_type') {
        const type = second?.kind === 'value' ? second.value.S : undefined;
        if (
          type === undefined ||
          !['S', 'N', 'B', 'BOOL', 'NULL', 'SS', 'NS', 'BS', 'L', 'M'].includes(type)
        ) {
          throw new ModelValidationError(
            `Invalid ${what}: Invalid attribute type name found; type: ${type ?? String(second?.kind)}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`,
          );
        }
      }
      if (
        condition.name === 'begins_with' &&
        second?.kind === 'value' &&
        !['S', 'B'].includes(typeOf(second.value))
      ) {
        throw new ModelValidationError(
          `Invalid ${what}: Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${typeOf(second.value)}`,
        );
      }
      return;
    }
  }
}

/** Whether `condition` holds for `item` (`undefined` when the item does not exist). */
export function evaluateCondition(
  condition: Condition,
  item: AttributeMap | undefined,
  what: string,
): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluateCondition(condition.left, item, what) && evaluateCondition(condition.right, item, what);
    case 'or':
      return evaluateCondition(condition.left, item, what) || evaluateCondition(condition.right, item, what);
    case 'not':
      return !evaluateCondition(condition.operand, item, what);
    case 'compare': {
      const left = operandValue(item, condition.left, what);
      const right = operandValue(item, condition.right, what);
      if (condition.op === '=') return left !== undefined && right !== undefined && valuesEqual(left, right);
      if (condition.op === '<>')
        return left === undefined || right === undefined || !valuesEqual(left, right);
      const order = ordered(left, right);
      if (order === undefined) return false;
      if (condition.op === '<') return order < 0;
      if (condition.op === '<=') return order <= 0;
      if (condition.op === '>') return order > 0;
      return order >= 0;
    }
    case 'between': {
      const value = operandValue(item, condition.value, what);
      const low = ordered(value, operandValue(item, condition.lower, what));
      const high = ordered(value, operandValue(item, condition.upper, what));
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    case 'in': {
      const value = operandValue(item, condition.value, what);
      if (value === undefined) return false;
      return condition.list.some((candidate) => {
        const other = operandValue(item, candidate, what);
        return other !== undefined && valuesEqual(value, other);
      });
    }
    case 'function':
      return evaluateFunction(condition, item, what);
  }
}

function evaluateFunction(
  condition: Extract<Condition, { kind: 'function' }>,
  item: AttributeMap | undefined,
  what: string,
): boolean {
  const [first, second] = condition.args;
  const subject = operandValue(item, first!, what);
  switch (condition.name) {
    case 'attribute_exists':
      return subject !== undefined;
    case 'attribute_not_exists':
      return subject === undefined;
    case 'attribute_type':
      return subject !== undefined && typeOf(subject) === operandValue(item, second!, what)?.S;
    case 'begins_with': {
      const prefix = operandValue(item, second!, what);
      if (subject === undefined || prefix === undefined) return false;
      if (subject.S !== undefined && prefix.S !== undefined) {
        return Buffer.from(subject.S, 'utf8')
          .subarray(0, utf8Length(prefix.S))
          .equals(Buffer.from(prefix.S, 'utf8'));
      }
      if (subject.B !== undefined && prefix.B !== undefined) {
        return Buffer.from(subject.B).subarray(0, prefix.B.byteLength).equals(Buffer.from(prefix.B));
      }
      return false;
    }
    case 'contains': {
      const needle = operandValue(item, second!, what);
      if (subject === undefined || needle === undefined) return false;
      if (subject.S !== undefined) return needle.S !== undefined && subject.S.includes(needle.S);
      if (subject.B !== undefined)
        return needle.B !== undefined && Buffer.from(subject.B).includes(Buffer.from(needle.B));
      if (subject.SS !== undefined) return needle.S !== undefined && subject.SS.includes(needle.S);
      if (subject.NS !== undefined)
        return (
          needle.N !== undefined &&
          setKeys(subject).has(
            setKeys({ NS: [needle.N] })
              .values()
              .next().value!,
          )
        );
      if (subject.BS !== undefined) {
        return needle.B !== undefined && setKeys(subject).has(Buffer.from(needle.B).toString('base64'));
      }
      if (subject.L !== undefined) return subject.L.some((member) => valuesEqual(member, needle));
      return false;
    }
  }
}

/** The item reduced to the projected paths (lists keep the projected elements, in order). */
export function project(item: AttributeMap, paths: readonly Path[]): AttributeMap {
  const result: AttributeMap = {};
  for (const path of paths) {
    const value = resolvePath(item, path);
    if (value === undefined) continue;
    let container: AttributeValue = { M: result };
    path.forEach((element, index) => {
      const last = index === path.length - 1;
      const source = resolvePath(item, path.slice(0, index + 1))!;
      const fresh = (): AttributeValue =>
        last ? cloneValue(value) : source.M !== undefined ? { M: {} } : { L: [] };
      if (element.kind === 'name') {
        const map = container.M!;
        if (!Object.hasOwn(map, element.name)) setAttribute(map, element.name, fresh());
        container = map[element.name]!;
      } else {
        const list = container.L!;
        list[element.index] ??= fresh();
        container = list[element.index]!;
      }
    });
  }
  return compactLists(result);
}

function compactLists(item: AttributeMap): AttributeMap {
  const fix = (value: AttributeValue): AttributeValue => {
    if (value.L !== undefined) return { L: value.L.filter((member) => member !== undefined).map(fix) };
    if (value.M !== undefined) return { M: compactLists(value.M) };
    return value;
  };
  const copy: AttributeMap = {};
  for (const [name, value] of Object.entries(item)) setAttribute(copy, name, fix(value));
  return copy;
}
