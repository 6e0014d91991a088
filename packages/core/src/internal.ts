/**
 * Plumbing shared by the Tidemark packages (AWS clients, validation issue formatting, option checks,
 * error classification). Internal: not part of the public API and not covered by semver; users
 * import from `@tidemark/core`.
 */
export { resolveClient } from './aws-config';
export type { SizedAttributeValue, SizedTransactItem } from './dynamodb-size';
export {
  dynamoDbItemSize,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
  transactionItemSize,
  transactionSize,
} from './dynamodb-size';
export { formatIssues } from './errors';
export { toValidationIssues } from './issues';
