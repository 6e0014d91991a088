/**
 * The `#name` and `:value` placeholders of one request: resolving them, and refusing undefined or
 * unused ones exactly as DynamoDB does.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AttributeMap, validateValue } from './attribute-value';
import { ModelValidationError } from './model-validation-error';

/** The placeholders of one request and which of them its expressions used. */
export class Placeholders {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();
  readonly #names: Record<string, string> | undefined;
  readonly #values: AttributeMap | undefined;

  constructor(names: Record<string, string> | undefined, values: AttributeMap | undefined) {
    if (names !== undefined && Object.keys(names).length === 0) {
      throw new ModelValidationError('ExpressionAttributeNames must not be empty');
    }
    if (values !== undefined && Object.keys(values).length === 0) {
      throw new ModelValidationError('ExpressionAttributeValues must not be empty');
    }
    this.#names = names;
    this.#values = values;
  }

  /** The attribute name a `#name` placeholder stands for. */
  name(placeholder: string): string {
    const name =
      this.#names && Object.hasOwn(this.#names, placeholder) ? this.#names[placeholder] : undefined;
    if (name === undefined) {
      throw new ModelValidationError(
        `An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`,
      );
    }
    this.usedNames.add(placeholder);
    return name;
  }

  /** The (validated) value a `:value` placeholder stands for. */
  value(placeholder: string): AttributeValue {
    const value =
      this.#values && Object.hasOwn(this.#values, placeholder) ? this.#values[placeholder] : undefined;
    if (value === undefined) {
      throw new ModelValidationError(
        `An expression attribute value used in expression is not defined; attribute value: ${placeholder}`,
      );
    }
    this.usedValues.add(placeholder);
    return validateValue(value);
  }

  /** Refuses placeholders no expression of the request used (DynamoDB does). */
  checkAllUsed(): void {
    const unusedNames = Object.keys(this.#names ?? {}).filter((name) => !this.usedNames.has(name));
    if (unusedNames.length > 0) {
      throw new ModelValidationError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
      );
    }
    const unusedValues = Object.keys(this.#values ?? {}).filter((name) => !this.usedValues.has(name));
    if (unusedValues.length > 0) {
      throw new ModelValidationError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
      );
    }
  }
}
