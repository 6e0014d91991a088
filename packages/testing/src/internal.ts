/**
 * Plumbing shared by the Tidemark packages' own tests: the sample event catalog their unit and
 * integration tests append, publish and consume. Internal: not part of the public API and not
 * covered by semver; users import from `@tidemark/testing`, `@tidemark/testing/vitest` and
 * `@tidemark/testing/fakes`.
 */
export {
  DateStamped,
  NoteAdded,
  sampleCatalog,
  TaskCommented,
  TaskCompleted,
  TaskCreated,
  TaskRenamed,
} from './sample-catalog';
