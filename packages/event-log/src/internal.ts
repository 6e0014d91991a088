/**
 * Plumbing shared with `@tidemark/publisher` (error names, ESM interop). Internal:
 * not part of the public API and not covered by semver; users import from `@tidemark/event-log`.
 */

export { errorName } from './error-name';
export { defaultExport } from './interop';
