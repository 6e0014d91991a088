/**
 * How DynamoDB counts sizes: one item against its 400 KB limit, and one TransactWriteItems against
 * its 4 MB limit. Shared by the event log (a command's transaction) and the consumer (a handler's
 * staged writes with the checkpoint), so both count the same way.
 */
import { utf8Length } from './limits';

/**
 * An attribute value as the AWS SDK marshals it (structurally: core does not depend on the SDK).
 */
export interface SizedAttributeValue {
  readonly S?: string | undefined;
  readonly N?: string | undefined;
  readonly B?: Uint8Array | undefined;
  readonly BOOL?: boolean | undefined;
  readonly NULL?: boolean | undefined;
  readonly L?: readonly SizedAttributeValue[] | undefined;
  readonly M?: Readonly<Record<string, SizedAttributeValue>> | undefined;
  readonly SS?: readonly string[] | undefined;
  readonly NS?: readonly string[] | undefined;
  readonly BS?: readonly Uint8Array[] | undefined;
}

/** One action of a TransactWriteItems request, as far as its size is concerned. */
interface SizedAction {
  readonly Item?: Readonly<Record<string, SizedAttributeValue>> | undefined;
  readonly Key?: Readonly<Record<string, SizedAttributeValue>> | undefined;
  readonly ConditionExpression?: string | undefined;
  readonly UpdateExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>> | undefined;
  readonly ExpressionAttributeValues?: Readonly<Record<string, SizedAttributeValue>> | undefined;
}

/** One entry of `TransactItems` (structurally: `Put`, `Update`, `Delete` or `ConditionCheck`). */
export interface SizedTransactItem {
  readonly Put?: SizedAction | undefined;
  readonly Update?: SizedAction | undefined;
  readonly Delete?: SizedAction | undefined;
  readonly ConditionCheck?: SizedAction | undefined;
}

/** DynamoDB's limit on the actions of one TransactWriteItems request. */
export const MAX_TRANSACTION_ACTIONS = 100;

/** DynamoDB's limit on the total size of one TransactWriteItems request (4 MB). */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

/**
 * Bytes kept free below {@link MAX_TRANSACTION_BYTES} by whoever plans a transaction, so that a
 * difference between {@link transactionSize} and DynamoDB's own count (whose exact rule is not
 * published) never lets one reach DynamoDB.
 */
export const TRANSACTION_SIZE_MARGIN_BYTES = 64 * 1024;

/**
 * The size of a marshalled item by DynamoDB's published sizing rules (attribute names and values;
 * numbers count 1 byte per two significant digits plus 1; maps and lists 3 bytes plus 1 per
 * element). It errs on the large side, never the small one.
 *
 * @example
 * ```ts
 * dynamoDbItemSize({ ab: { S: 'héllo' } }); // 2 + 6
 * ```
 */
export function dynamoDbItemSize(item: Readonly<Record<string, SizedAttributeValue>>): number {
  let size = 0;
  for (const name in item) size += utf8Length(name) + attributeValueSize(item[name]!);
  return size;
}

/**
 * The size of one TransactWriteItems action as counted against the 4 MB limit, erring on the large
 * side: its item (`Put`) or key, plus the bytes of its condition and update expressions and of their
 * attribute names and values.
 *
 * @example
 * ```ts
 * const bytes = items.reduce((sum, item) => sum + transactionItemSize(item), 0);
 * ```
 */
export function transactionItemSize(entry: SizedTransactItem): number {
  const action = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
  if (!action) return 0;
  let size = dynamoDbItemSize(action.Item ?? action.Key ?? {});
  size += utf8Length(action.ConditionExpression ?? '') + utf8Length(action.UpdateExpression ?? '');
  const names = action.ExpressionAttributeNames ?? {};
  for (const name in names) size += utf8Length(name) + utf8Length(names[name]!);
  size += dynamoDbItemSize(action.ExpressionAttributeValues ?? {});
  return size;
}

/**
 * The size of a whole transaction: the sum of {@link transactionItemSize} over its actions.
 *
 * @example
 * ```ts
 * if (transactionSize(items) > MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES) split(items);
 * ```
 */
export function transactionSize(items: readonly SizedTransactItem[]): number {
  let size = 0;
  for (const entry of items) size += transactionItemSize(entry);
  return size;
}

function attributeValueSize(value: SizedAttributeValue): number {
  if (value.S !== undefined) return utf8Length(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined)
    return value.L.reduce((sum, element) => sum + 1 + attributeValueSize(element), 3);
  if (value.M !== undefined) {
    let size = 3;
    for (const name in value.M) size += 1 + utf8Length(name) + attributeValueSize(value.M[name]!);
    return size;
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + utf8Length(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberSize(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').split(/e/i)[0]!.replace('.', '').replace(/^0+/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
