/**
 * Plumbing shared by the Tidemark packages (AWS clients, validation issue formatting, option checks,
 * error classification). Internal: not part of the public API and not covered by semver; users
 * import from `@tidemark/core`.
 */
export { resolveClient } from './aws-config';
export { formatIssues } from './errors';
export { toValidationIssues } from './issues';
export {
  AWS_CLIENT_OPTIONS_SCHEMA,
  awsClientOption,
  functionOption,
  type ParseOptionsContext,
  parseOptions,
} from './parse-options';
