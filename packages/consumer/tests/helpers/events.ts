/** Test events for the consumer's unit tests, built with the factories of `@tidemark/testing`. */
import {
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
} from '@tidemark/core';
import { buildEnvelope, fakeLambdaContext, kinesisEventFromData } from '@tidemark/testing';
import { TaskCommented, TaskCompleted, TaskCreated } from '@tidemark/testing/internal';
import { z } from 'zod';
import type { KinesisEvent, LambdaContextLike } from '../../src/types';

// TaskCreated, TaskCompleted and TaskCommented (a type the test consumers have no handler for) are
// the sample catalog's; TaskRenamed is at schema version 2 here, with an upcaster, for the
// schema-evolution cases.
export { TaskCommented, TaskCompleted, TaskCreated };

export const TaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 2,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1), reason: z.string() }),
  upcast: (data, from) => (from === 1 ? { ...(data as object), reason: 'unknown' } : data),
});
export const taskEvents = defineCatalog([TaskCreated, TaskRenamed, TaskCompleted, TaskCommented]);

const dataFor: Record<string, Record<string, unknown>> = {
  TaskCreated: { name: 'a task' },
  TaskRenamed: { name: 'renamed', reason: 'typo' },
  TaskCompleted: { completedBy: 'ada' },
  TaskCommented: { text: 'hello' },
};

/** An envelope of task `id` at `version` (type: TaskCreated for v1, TaskRenamed after, unless given). */
export function taskEnvelope(
  id: string,
  version: number,
  overrides: { type?: string; data?: Record<string, unknown>; schemaVersion?: number } = {},
): EventEnvelope {
  const type = overrides.type ?? (version === 1 ? 'TaskCreated' : 'TaskRenamed');
  return buildEnvelope({
    source: '/tests',
    type,
    aggregate: { type: 'Task', id },
    version,
    data: overrides.data ?? {
      ...dataFor[type]!,
      ...(type === 'TaskRenamed' ? { name: `name-${version}` } : {}),
    },
    schemaVersion: overrides.schemaVersion ?? (type === 'TaskRenamed' ? 2 : 1),
  });
}

/** Versions `from..to` of one task. */
export function history(id: string, from: number, to: number): EventEnvelope[] {
  return Array.from({ length: to - from + 1 }, (_, index) => taskEnvelope(id, from + index));
}

/** Raw record data (bytes or text) for {@link kinesisEvent}: malformed input. */
export interface RawEntry {
  readonly raw: Uint8Array | string;
  readonly partitionKey: string;
}

/** A raw record entry for {@link kinesisEvent}. */
export function rawRecord(data: Uint8Array | string, partitionKey = 'Task#x'): RawEntry {
  return { raw: data, partitionKey };
}

/** When the test records arrived (2026-09-21T14:13:20.500Z). */
export const ARRIVAL = new Date(1_790_000_000_500);

/** A Kinesis event (the testing package's factory), one record per entry, in the given order. */
export function kinesisEvent(entries: readonly (EventEnvelope | RawEntry)[]): KinesisEvent {
  return kinesisEventFromData(
    entries.map((entry) =>
      'raw' in entry
        ? { data: entry.raw, partitionKey: entry.partitionKey }
        : { data: encodeEnvelope(entry), partitionKey: envelopePartitionKey(entry) },
    ),
    { approximateArrivalTimestamp: ARRIVAL },
  );
}

/** A Lambda context with a minute left. */
export function lambdaContext(): LambdaContextLike {
  return fakeLambdaContext({ timeoutSeconds: 60 });
}

// The logger that keeps every line: the one of `@tidemark/testing`.
export { memoryLogger } from '@tidemark/testing';
