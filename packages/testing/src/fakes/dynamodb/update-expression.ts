/**
 * Applies an UpdateExpression to an item as DynamoDB does: every right-hand side is computed from
 * the item as it was before the update, then SET, REMOVE, ADD and DELETE are applied; overlapping
 * paths, key attributes, wrong operand types and invalid document paths are refused.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type AttributeMap,
  cloneItem,
  cloneValue,
  setAttribute,
  setKeys,
  typeOf,
  validateValue,
} from './attribute-value';
import { resolvePath } from './expression-evaluator';
import {
  describePath,
  type Path,
  pathsOverlap,
  type UpdateAction,
  type UpdateValue,
} from './expression-parser';
import { ModelValidationError } from './model-validation-error';
import { addNumbers } from './numbers';

const INVALID_PATH = 'The document path provided in the update expression is invalid for update';
const WRONG_TYPE = 'An operand in the update expression has an incorrect data type';

/** Static checks of an update: overlapping paths and key attributes (before any item is read). */
export function checkUpdate(actions: readonly UpdateAction[], keyNames: readonly string[]): void {
  for (const action of actions) {
    const top = action.path[0];
    if (top?.kind === 'name' && keyNames.includes(top.name)) {
      throw new ModelValidationError(
        `One or more parameter values were invalid: Cannot update attribute ${top.name}. This attribute is part of the key`,
      );
    }
    if ((action.kind === 'add' || action.kind === 'delete') && action.path.length > 1) {
      // DynamoDB's ADD and DELETE work on top-level attributes only.
      throw new ModelValidationError(
        `Invalid UpdateExpression: The ${action.kind.toUpperCase()} action only supports top-level attributes; path: ${describePath(action.path)}`,
      );
    }
    if (action.kind === 'add' && !['N', 'SS', 'NS', 'BS'].includes(typeOf(action.value))) {
      throw new ModelValidationError(
        `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${typeOf(action.value)}`,
      );
    }
    if (action.kind === 'delete' && !['SS', 'NS', 'BS'].includes(typeOf(action.value))) {
      throw new ModelValidationError(
        `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: ${typeOf(action.value)}`,
      );
    }
  }
  for (let i = 0; i < actions.length; i += 1) {
    for (let j = i + 1; j < actions.length; j += 1) {
      const a = actions[i]!.path;
      const b = actions[j]!.path;
      const overlaps = pathsOverlap(a, b);
      if (overlaps) {
        throw new ModelValidationError(
          `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${describePath(a)}, path two: ${describePath(b)}`,
        );
      }
    }
  }
}

function evaluate(value: UpdateValue, item: AttributeMap | undefined): AttributeValue {
  switch (value.kind) {
    case 'value':
      return value.value;
    case 'path': {
      const found = resolvePath(item, value.path);
      if (found === undefined) {
        throw new ModelValidationError(
          'The provided expression refers to an attribute that does not exist in the item',
        );
      }
      return found;
    }
    case 'if_not_exists':
      return resolvePath(item, value.path) ?? evaluate(value.fallback, item);
    case 'list_append': {
      const first = evaluate(value.first, item);
      const second = evaluate(value.second, item);
      for (const operand of [first, second]) {
        if (operand.L === undefined) {
          throw new ModelValidationError(
            `Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(operand)}`,
          );
        }
      }
      return { L: [...first.L!, ...second.L!] };
    }
    case 'arithmetic': {
      const left = evaluate(value.left, item);
      const right = evaluate(value.right, item);
      if (left.N === undefined || right.N === undefined) throw new ModelValidationError(WRONG_TYPE);
      return { N: addNumbers(left.N, right.N, value.op === '-') };
    }
  }
}

function parentOf(item: AttributeMap, path: Path): AttributeValue | AttributeMap | undefined {
  if (path.length === 1) return item;
  return resolvePath(item, path.slice(0, -1));
}

function assign(item: AttributeMap, path: Path, value: AttributeValue): void {
  const last = path[path.length - 1]!;
  const parent = parentOf(item, path);
  if (path.length === 1) {
    setAttribute(item, (last as { name: string }).name, value);
    return;
  }
  const container = parent as AttributeValue | undefined;
  if (last.kind === 'name' && container?.M !== undefined) setAttribute(container.M, last.name, value);
  else if (last.kind === 'index' && container?.L !== undefined) {
    if (last.index < container.L.length) container.L[last.index] = value;
    else container.L.push(value);
  } else throw new ModelValidationError(INVALID_PATH);
}

function remove(item: AttributeMap, path: Path): void {
  const last = path[path.length - 1]!;
  if (path.length === 1) {
    delete item[(last as { name: string }).name];
    return;
  }
  const container = parentOf(item, path) as AttributeValue | undefined;
  if (last.kind === 'name' && container?.M !== undefined) delete container.M[last.name];
  else if (last.kind === 'index' && container?.L !== undefined) {
    if (last.index < container.L.length) container.L.splice(last.index, 1);
  } else throw new ModelValidationError(INVALID_PATH);
}

function union(existing: AttributeValue, added: AttributeValue): AttributeValue {
  const type = typeOf(existing);
  if (type !== typeOf(added)) throw new ModelValidationError(WRONG_TYPE);
  const have = setKeys(existing);
  const members = [...((existing as unknown as Record<string, unknown[]>)[type] ?? [])];
  const addedMembers = (added as unknown as Record<string, unknown[]>)[type] ?? [];
  const addedKeys = [...setKeys(added)];
  addedMembers.forEach((member, index) => {
    if (!have.has(addedKeys[index]!)) members.push(member);
  });
  return validateValue({ [type]: members } as unknown as AttributeValue);
}

function difference(existing: AttributeValue, removed: AttributeValue): AttributeValue | undefined {
  const type = typeOf(existing);
  if (type !== typeOf(removed)) throw new ModelValidationError(WRONG_TYPE);
  const drop = setKeys(removed);
  const members = (existing as unknown as Record<string, unknown[]>)[type] ?? [];
  const keys = [...setKeys(existing)];
  const kept = members.filter((_, index) => !drop.has(keys[index]!));
  return kept.length === 0 ? undefined : ({ [type]: kept } as unknown as AttributeValue);
}

/**
 * The item after applying `actions` to `before` (`undefined` when the item does not exist yet; the
 * key attributes are then the new item's start). Does not modify `before`.
 */
export function applyUpdate(
  before: AttributeMap | undefined,
  key: AttributeMap,
  actions: readonly UpdateAction[],
): AttributeMap {
  const setValues = actions.map((action) =>
    action.kind === 'set' ? evaluate(action.value, before) : undefined,
  );
  const item = before === undefined ? cloneItem(key) : cloneItem(before);
  actions.forEach((action, index) => {
    if (action.kind === 'set') assign(item, action.path, cloneValue(setValues[index]!));
  });
  // Remove list elements from the highest index down, so earlier removals do not shift later ones.
  const removals = actions.filter((action) => action.kind === 'remove');
  removals.sort((a, b) => {
    const x = a.path[a.path.length - 1]!;
    const y = b.path[b.path.length - 1]!;
    return x.kind === 'index' && y.kind === 'index' ? y.index - x.index : 0;
  });
  for (const action of removals) remove(item, action.path);
  for (const action of actions) {
    if (action.kind !== 'add' && action.kind !== 'delete') continue;
    const existing = resolvePath(item, action.path);
    if (action.kind === 'add') {
      if (existing === undefined) assign(item, action.path, cloneValue(action.value));
      else if (existing.N !== undefined && action.value.N !== undefined) {
        assign(item, action.path, { N: addNumbers(existing.N, action.value.N) });
      } else if (existing.N !== undefined || action.value.N !== undefined)
        throw new ModelValidationError(WRONG_TYPE);
      else assign(item, action.path, union(existing, action.value));
    } else if (existing !== undefined) {
      const rest = difference(existing, action.value);
      if (rest === undefined) remove(item, action.path);
      else assign(item, action.path, rest);
    }
  }
  return item;
}
