/**
 * Plumbing shared with `@tidemark/publisher` (ESM interop). Internal: not part of the public API and
 * not covered by semver; users import from `@tidemark/event-log`.
 */
export { defaultExport } from './interop';
