/** Batches of envelopes in the shapes the benchmarks need. */
import { createEnvelope, type EventEnvelope, newCommandId } from '@tidemark/core';
import { taskEvent } from './catalog';

/**
 * `aggregates × versions` envelopes of `Task` aggregates `<prefix>-0 …`, interleaved the way one
 * shard carries them when all aggregates are written side by side: version 1 of every aggregate,
 * then version 2, and so on.
 */
export function envelopeGrid(prefix: string, aggregates: number, versions: number): EventEnvelope[] {
  const envelopes: EventEnvelope[] = [];
  for (let version = 1; version <= versions; version += 1) {
    for (let a = 0; a < aggregates; a += 1) {
      const input = taskEvent(version, `${prefix}-${a}`);
      envelopes.push(
        createEnvelope({
          source: '/bench',
          type: input.type,
          aggregate: { type: 'Task', id: `${prefix}-${a}` },
          version,
          commandId: newCommandId(),
          data: input.data,
        }),
      );
    }
  }
  return envelopes;
}

/** CPU time (user + system) spent by `work`, in µs, with its wall time in ms. */
export async function measureCpu(work: () => Promise<void>): Promise<{ cpuMicros: number; wallMs: number }> {
  const wall = performance.now();
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return { cpuMicros: used.user + used.system, wallMs: performance.now() - wall };
}
