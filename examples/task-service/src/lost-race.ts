import { CommandIdNotIncreasingError, ConcurrencyError } from '@tidemark/event-log';

/**
 * Whether an append failed because another command appended to the aggregate after it was read.
 * The event log reports that as a `ConcurrencyError`, or as a `CommandIdNotIncreasingError` when
 * the winner's command id is above the one made from the stale read (the log checks command ids
 * first). The commands make every command id above the last one they read, so the second can
 * only mean a lost race too.
 *
 * @example
 * ```ts
 * catch (error) { if (!isLostRace(error)) throw error; return answerFromTheWinner(); }
 * ```
 */
export function isLostRace(error: unknown): error is ConcurrencyError | CommandIdNotIncreasingError {
  return error instanceof ConcurrencyError || error instanceof CommandIdNotIncreasingError;
}
