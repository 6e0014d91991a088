import { InvalidAggregateError } from './errors';

/** Which aggregate an event belongs to: its type (`Task`) and its id (`t-42`). */
export interface AggregateRef {
  /** The aggregate type: letters, digits, `_`, `-`, `.`; starts with a letter; no `#`. */
  readonly type: string;
  /** The aggregate id: any non-empty string without control characters. */
  readonly id: string;
}

/** The separator between type and id in an aggregate key. Aggregate types may not contain it. */
const AGGREGATE_KEY_SEPARATOR = '#';

/** Kinesis allows partition keys of at most 256 Unicode characters. */
export const MAX_AGGREGATE_KEY_LENGTH = 256;

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks an aggregate reference and throws {@link InvalidAggregateError} when it is malformed.
 *
 * @example
 * ```ts
 * import { assertAggregate } from '@tidemark/core';
 * assertAggregate({ type: 'Task', id: 't-42' });
 * ```
 */
export function assertAggregate(ref: AggregateRef): void {
  if (typeof ref?.type !== 'string' || !TYPE_PATTERN.test(ref.type)) {
    throw new InvalidAggregateError(
      `Invalid aggregate type ${JSON.stringify(ref?.type)}: use 1-64 letters, digits, "_", "-" or ".", starting with a letter`,
      { aggregateType: ref?.type },
    );
  }
  if (typeof ref.id !== 'string' || ref.id.length === 0 || CONTROL.test(ref.id)) {
    throw new InvalidAggregateError(
      `Invalid aggregate id ${JSON.stringify(ref.id)}: use a non-empty string without control characters`,
      { aggregateType: ref.type, aggregateId: ref.id },
    );
  }
  const length = ref.type.length + AGGREGATE_KEY_SEPARATOR.length + ref.id.length;
  if (length > MAX_AGGREGATE_KEY_LENGTH) {
    throw new InvalidAggregateError(
      `Aggregate key for ${ref.type} is ${length} characters; Kinesis partition keys allow ${MAX_AGGREGATE_KEY_LENGTH}`,
      { aggregateType: ref.type, length },
    );
  }
}

/**
 * The key of an aggregate: `type#id`. It is the event log's partition key and the Kinesis
 * partition key, so one aggregate's events stay on one shard, in order.
 *
 * @example
 * ```ts
 * import { aggregateKey } from '@tidemark/core';
 * aggregateKey({ type: 'Task', id: 't-42' }); // 'Task#t-42'
 * ```
 */
export function aggregateKey(ref: AggregateRef): string {
  assertAggregate(ref);
  return `${ref.type}${AGGREGATE_KEY_SEPARATOR}${ref.id}`;
}

/**
 * Reads an aggregate key back into its type and id.
 *
 * @example
 * ```ts
 * import { parseAggregateKey } from '@tidemark/core';
 * parseAggregateKey('Task#t-42'); // { type: 'Task', id: 't-42' }
 * ```
 */
export function parseAggregateKey(key: string): AggregateRef {
  const at = key.indexOf(AGGREGATE_KEY_SEPARATOR);
  if (at <= 0) {
    throw new InvalidAggregateError(`Invalid aggregate key ${JSON.stringify(key)}: expected "type#id"`, {
      key,
    });
  }
  const ref = { type: key.slice(0, at), id: key.slice(at + 1) };
  assertAggregate(ref);
  return ref;
}
