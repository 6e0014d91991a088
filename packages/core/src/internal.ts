/**
 * Plumbing shared by the Tidemark packages (AWS clients, validation issue formatting, option checks,
 * error classification). Internal: not part of the public API and not covered by semver; users
 * import from `@tidemark/core`.
 */
export { resolveClient } from './aws-config';
export { formatIssues } from './errors';
export { envelopeFromEventLogImage } from './event-log';
export { toValidationIssues } from './issues';
