/**
 * Plumbing shared by the Tidemark packages (AWS clients, validation issue formatting, option checks,
 * error classification). Internal: not part of the public API and not covered by semver; users
 * import from `@tidemark/core`.
 */
export type { AwsService, ResolvedAwsClientConfig, SdkClientLike } from './aws-config';
export { isSdkClient, resolveAwsClientConfig, resolveClient } from './aws-config';
export type { AwsErrorClassification, AwsErrorKind, CancellationReason, ReturnedItem } from './aws-errors';
export { awsErrorName, cancellationReasons, classifyAwsError } from './aws-errors';
export type { SizedAttributeValue, SizedTransactItem } from './dynamodb-size';
export {
  dynamoDbItemSize,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
  transactionItemSize,
  transactionSize,
} from './dynamodb-size';
export { envelopeSchema } from './envelope';
export { envelopeBatchDataLength, joinEncodedEnvelopes } from './envelope-batch';
export type { ErrorDescription } from './error-description';
export { describeError, describeErrorText } from './error-description';
export { formatIssues } from './errors';
export { envelopeFromEventLogImage } from './event-log';
export { toValidationIssues } from './issues';
export { forEachLimited } from './limiter';
export { assertFitsKinesisRecord, kinesisRecordSize, utf8Length } from './limits';
export { logLevelFromEnvironment, resolveLogger } from './logger';
export type { MetricReporter } from './metrics';
export { metricReporter } from './metrics';
export {
  AWS_CLIENT_OPTIONS_SCHEMA,
  awsClientOption,
  functionOption,
  LOGGER_OPTION_SCHEMA,
  METRICS_OPTION_SCHEMA,
  type ParseOptionsContext,
  parseOptions,
} from './parse-options';
