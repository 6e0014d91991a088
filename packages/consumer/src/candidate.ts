/**
 * What the aggregate run hands to an event step and what the step answers: the vocabulary shared by
 * `aggregate-run.ts`, `event-step.ts`, `checkpoint-draft.ts` and `staged-commit.ts`, kept apart so
 * that none of them imports another for its types.
 */
import type { EventRecord } from './records';
import type { StepOutcome } from './rules/next-step';

/** A candidate for application: a batch record or a held one. */
export interface Candidate {
  readonly record: EventRecord;
  readonly fromHeld: boolean;
  /** A skipped version that arrived while nothing after it was applied: applied below the mark. */
  readonly late?: boolean;
}

/**
 * What handling one event ended in: `done` (applied, skipped or parked); `held-unreadable` (it
 * cannot be read yet and holds its aggregate); or why the aggregate stops for this batch: its
 * handler failed, DynamoDB failed, another invocation changed the checkpoint, or the invocation is
 * about to time out.
 */
export type Step = StepOutcome;
