import { isDeepStrictEqual } from 'node:util';
import type { EventMetadata, Ulid } from '@tidemark/core';

/**
 * How the service keeps an `Idempotency-Key` apart from the event log's command ids.
 *
 * The log requires each aggregate's command ids to increase. A key chosen by a client cannot be
 * trusted to do that (a key from the far future, e.g. the largest ULID, would leave no command id
 * above it), so a key never becomes a command id: the service makes every command id itself, and
 * stores the key with the command's events as their causation id (the id of the request that
 * caused them). A retried request finds its key among the aggregate's events and is answered from
 * them; nothing about the key's value (its time, its order) is ever used.
 */

/** The part of an event this module reads. */
interface KeyedEvent {
  readonly type: string;
  readonly commandId: Ulid;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/** The events an earlier command made under an idempotency key, and the history before them. */
export interface KeyedCommand<TEvent> {
  /** The aggregate's events before that command's first event. */
  readonly before: readonly TEvent[];
  /** The events of that command. */
  readonly events: readonly TEvent[];
}

/**
 * Finds the command an idempotency key made on one aggregate, from the aggregate's events.
 *
 * @example
 * ```ts
 * const earlier = findKeyedCommand(await log.read(taskId), key);
 * if (earlier !== undefined) return replay(earlier);
 * ```
 */
export function findKeyedCommand<TEvent extends KeyedEvent>(
  events: readonly TEvent[],
  key: string,
): KeyedCommand<TEvent> | undefined {
  const first = events.findIndex((event) => event.metadata.causationId === key);
  if (first < 0) return undefined;
  const { commandId } = events[first]!;
  return {
    before: events.slice(0, first),
    events: events.slice(first).filter((event) => event.commandId === commandId),
  };
}

/**
 * Whether the events an earlier command made are exactly the ones a command decides now (same
 * types, same payloads, in order): then the request is the same one, retried.
 *
 * @example
 * ```ts
 * if (!sameEvents(earlier.events, decide(foldTask(earlier.before)))) throw conflict;
 * ```
 */
export function sameEvents(
  made: readonly { readonly type: string; readonly data: unknown }[],
  decided: readonly { readonly type: string; readonly data: unknown }[],
): boolean {
  // Through JSON, so that payloads read back from the store and payloads built in memory compare
  // by value alone (key order and prototypes aside).
  const plain = (events: readonly { readonly type: string; readonly data: unknown }[]) =>
    JSON.parse(JSON.stringify(events.map(({ type, data }) => ({ type, data }))));
  return isDeepStrictEqual(plain(made), plain(decided));
}

/**
 * The metadata of a command's events: the caller's, with the idempotency key as causation id.
 *
 * @example
 * ```ts
 * await log.append({ ..., metadata: keyedMetadata(options.metadata, key) });
 * ```
 */
export function keyedMetadata(
  metadata: EventMetadata | undefined,
  key: string | undefined,
): EventMetadata | undefined {
  if (key === undefined) return metadata;
  return { ...metadata, causationId: key };
}
