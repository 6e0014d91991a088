import { type EventEnvelope, newCommandId, smallestCommandIdAfter } from '@tidemark/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CommandLookupReads, existingCommandEvents } from '../../src/existing-command';
import type { AggregateHead, ReadRange } from '../../src/reads';

const PK = 'Task#t-1';
const SEED = 20261130;

/** A log of one aggregate held in memory, read through the narrow interface the lookup takes. */
function memoryLog(commandSizes: readonly number[]) {
  const ids: string[] = [];
  let id = newCommandId();
  for (const _ of commandSizes) {
    ids.push(id);
    // Leave room for an id between two commands: the lookup must not find one that is not there.
    id = smallestCommandIdAfter(smallestCommandIdAfter(id));
  }
  const items: { commandid: string; aggregateversion: number }[] = [];
  commandSizes.forEach((size, index) => {
    for (let event = 0; event < size; event += 1)
      items.push({ commandid: ids[index]!, aggregateversion: items.length + 1 });
  });
  let commandIdReads = 0;
  const reads: CommandLookupReads = {
    commandIdAt: async (pk, version) => {
      expect(pk).toBe(PK);
      commandIdReads += 1;
      return items[version - 1]?.commandid;
    },
    lastCommandEvents: async (_pk, commandId) => {
      const last = items[items.length - 1];
      if (last?.commandid !== commandId) return [];
      return items.filter((item) => item.commandid === commandId) as unknown as EventEnvelope[];
    },
    envelopes: async function* (_pk, range: ReadRange) {
      for (const item of items.slice(range.fromVersion - 1, range.toVersion))
        yield item as unknown as EventEnvelope;
    },
  };
  /** The head as it was after the first `commands` commands. */
  const headAfter = (commands: number): AggregateHead | undefined => {
    const version = commandSizes.slice(0, commands).reduce((sum, size) => sum + size, 0);
    return version === 0 ? undefined : { version, lastCommandId: items[version - 1]!.commandid };
  };
  return { ids, items, reads, headAfter, commandIdReads: () => commandIdReads };
}

describe('existingCommandEvents', () => {
  it(`finds every stored command up to the head it is given, and nothing else, in O(log n) reads (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        async (sizes, headPick) => {
          const log = memoryLog(sizes);
          // The head may be older than the log (other commands landed after it was read).
          const headCommands = headPick % (sizes.length + 1);
          const head = log.headAfter(headCommands);
          for (const [index, commandId] of log.ids.entries()) {
            const before = log.commandIdReads();
            const found = await existingCommandEvents(log.reads, 'events', PK, commandId, head);
            if (index < headCommands) {
              expect(found).toEqual(log.items.filter((item) => item.commandid === commandId));
            } else {
              expect(found).toBeUndefined();
            }
            const versions = head?.version ?? 0;
            expect(log.commandIdReads() - before).toBeLessThanOrEqual(Math.ceil(Math.log2(versions + 1)));
            // An id between two stored commands is not a command of the log.
            const between = smallestCommandIdAfter(commandId);
            expect(await existingCommandEvents(log.reads, 'events', PK, between, head)).toBeUndefined();
          }
        },
      ),
      { numRuns: 120, seed: SEED },
    );
  });
});
