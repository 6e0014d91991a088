/**
 * Finding a command already in the log: a retried command id returns its first outcome instead of
 * appending again. Command ids strictly increase with versions, so any stored command is found.
 */
import type { EventEnvelope } from '@tidemark/core';
import { CorruptEventLogItemError } from './errors';
import { MAX_EVENTS_PER_COMMAND } from './limits';
import type { AggregateHead, LogReads } from './reads';

/** The reads the lookup needs. */
export type CommandLookupReads = Pick<LogReads, 'commandIdAt' | 'lastCommandEvents' | 'envelopes'>;

/**
 * The first outcome of `commandId` on the aggregate `pk` (its events as stored), or `undefined`
 * when it is not in the log up to `head`.
 */
export async function existingCommandEvents(
  reads: CommandLookupReads,
  tableName: string,
  pk: string,
  commandId: string,
  head: AggregateHead | undefined,
): Promise<EventEnvelope[] | undefined> {
  if (!head || commandId > head.lastCommandId) return undefined;
  let events = commandId === head.lastCommandId ? await reads.lastCommandEvents(pk, commandId) : [];
  // The quick look finds nothing when another command landed after the head was read: the exact
  // lookup over the (immutable) versions up to that head finds the command whenever it is stored.
  if (events.length === 0) events = await findCommand(reads, tableName, pk, commandId, head);
  return events.length > 0 ? events : undefined;
}

/**
 * Finds an older command by binary search over versions: command ids strictly increase with
 * versions (across commands), so the first version whose command id is >= `commandId` is the
 * command's first event if the command is in the log at all. O(log n) strongly consistent reads.
 */
async function findCommand(
  reads: CommandLookupReads,
  tableName: string,
  pk: string,
  commandId: string,
  head: AggregateHead,
): Promise<EventEnvelope[]> {
  let low = 1;
  let high = head.version;
  let first: number | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const found = await reads.commandIdAt(pk, middle);
    if (found === undefined)
      throw new CorruptEventLogItemError({ tableName, pk, sk: middle }, 'missing version');
    if (found >= commandId) {
      if (found === commandId) first = middle;
      high = middle - 1;
    } else {
      low = middle + 1;
    }
  }
  if (first === undefined) return [];
  const events: EventEnvelope[] = [];
  const range = { fromVersion: first, toVersion: first + MAX_EVENTS_PER_COMMAND - 1, pageSize: 100 };
  for await (const envelope of reads.envelopes(pk, range)) {
    if (envelope.commandid !== commandId) break;
    events.push(envelope);
  }
  return events;
}
