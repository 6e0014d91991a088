/**
 * The decision core's verdict on one event that is next for its aggregate (the version after the
 * mark, a late arrival, or a parked event being redriven), before and after its handler runs.
 *
 * Before: an event of a type without a handler is skipped; one whose payload no deploy of this
 * consumer will read is parked (`invalid-payload`); one it cannot read yet (a newer schema version
 * not declared readable by its definition) holds its aggregate, or is parked
 * (`unsupported-schema-version`) where holding is not possible or not wanted; one whose attempts
 * were used up by deliveries that did not complete is parked (`handler-failed`); otherwise its
 * handler runs (the attempt `attemptFor` numbers; a redrive numbers its own).
 *
 * After a failed attempt: the last one parks the event, an earlier one is counted and the aggregate
 * stops; a redrive only reports the failure (its dead letter exists already).
 */
import { type AttemptState, attemptsExhausted, isLastAttempt } from './attempts';

/** How the consumer's catalog reads the event (see `classifyEvent` in `@tidemark/core`). */
export type Readability = 'readable' | 'not-readable-yet' | 'invalid';

/** What to do with an event that cannot be read yet. */
export type UnreadableEvents = 'hold' | 'park';

/** The verdict before the handler runs. */
export type EventVerdict =
  | { readonly kind: 'skip' }
  | {
      readonly kind: 'park';
      readonly reason: 'invalid-payload' | 'unsupported-schema-version' | 'handler-failed';
      /** Attempts to record on the dead letter. */
      readonly attempts: number;
    }
  | { readonly kind: 'hold' }
  | { readonly kind: 'run' };

/** What the verdict depends on. */
export interface EventFacts {
  readonly version: number;
  /** Whether the consumer has a handler (and a definition) for the event's type. */
  readonly handled: boolean;
  readonly readability: Readability;
  /** Whether this is a redrive of a parked event. */
  readonly redriving: boolean;
  /** Whether this is a late arrival (a skipped version, below the mark: it cannot be held). */
  readonly late: boolean;
  /** The attempts counted so far for the event the checkpoint is stuck on. */
  readonly failure: AttemptState | undefined;
  readonly maxAttempts: number;
  readonly unreadableEvents: UnreadableEvents;
  /** Records of the aggregate that would wait behind the event if it held (itself included). */
  readonly waiting: number;
  readonly maxHeldPerAggregate: number;
}

/** The verdict on an event before its handler runs. */
export function eventVerdict(facts: EventFacts): EventVerdict {
  if (!facts.handled) return { kind: 'skip' };
  if (facts.readability === 'invalid') return { kind: 'park', reason: 'invalid-payload', attempts: 0 };
  if (facts.readability === 'not-readable-yet') {
    const holdable =
      facts.unreadableEvents === 'hold' &&
      !facts.redriving &&
      !facts.late &&
      facts.waiting <= facts.maxHeldPerAggregate;
    return holdable ? { kind: 'hold' } : { kind: 'park', reason: 'unsupported-schema-version', attempts: 0 };
  }
  if (!facts.redriving && attemptsExhausted(facts.failure, facts.version, facts.maxAttempts)) {
    return { kind: 'park', reason: 'handler-failed', attempts: facts.failure!.attempts };
  }
  return { kind: 'run' };
}

/** What a failed attempt leads to: report only (redrive), park (last attempt), or count and stop. */
export function failureVerdict(input: {
  readonly redriving: boolean;
  readonly attempt: number;
  readonly maxAttempts: number;
}): 'report' | 'park' | 'count' {
  if (input.redriving) return 'report';
  return isLastAttempt(input.attempt, input.maxAttempts) ? 'park' : 'count';
}
