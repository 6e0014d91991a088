/**
 * Replay's resume token: where a replay stopped and what it had done, as opaque base64url JSON,
 * checked on the way back in to belong to the same replay (table, aggregate, segment).
 */
import { InvalidResumeTokenError } from './errors';

/** What a resume token holds. */
export interface TokenState {
  readonly v: 1;
  readonly table: string;
  readonly aggregate?: string;
  readonly segment?: number;
  readonly totalSegments?: number;
  readonly startKey?: { readonly pk: string; readonly sk: number };
  readonly published: number;
  /** Absent in tokens of earlier versions (read as 0). */
  readonly eventsDone?: number;
}

/** Encodes a resume token (opaque to callers: base64url JSON). */
export function encodeResumeToken(state: TokenState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** Reads a resume token and checks it belongs to this replay. */
export function readResumeToken(
  token: string,
  scope: { table: string; aggregate?: string; segment?: number; totalSegments?: number },
): TokenState {
  let state: TokenState;
  try {
    state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as TokenState;
  } catch (cause) {
    throw new InvalidResumeTokenError('it is not a token made by replay', { cause });
  }
  if (
    typeof state !== 'object' ||
    state === null ||
    state.v !== 1 ||
    typeof state.published !== 'number' ||
    (state.eventsDone !== undefined && !Number.isSafeInteger(state.eventsDone))
  ) {
    throw new InvalidResumeTokenError('it is not a token made by replay');
  }
  if (
    state.table !== scope.table ||
    state.aggregate !== scope.aggregate ||
    state.segment !== scope.segment ||
    state.totalSegments !== scope.totalSegments
  ) {
    throw new InvalidResumeTokenError(
      `it belongs to another replay (table ${state.table}, aggregate ${state.aggregate ?? 'all'}, segment ${state.segment ?? 'none'}/${state.totalSegments ?? 'none'})`,
    );
  }
  if (
    state.startKey !== undefined &&
    (typeof state.startKey.pk !== 'string' || !Number.isSafeInteger(state.startKey.sk))
  ) {
    throw new InvalidResumeTokenError('its start key is malformed');
  }
  return state;
}
