/** Test events, envelopes and Kinesis batches for the consumer's unit tests. */
import {
  createEnvelope,
  defineCatalog,
  defineEvent,
  type EventEnvelope,
  encodeEnvelope,
  newCommandId,
} from '@tidemark/core';
import { z } from 'zod';
import type { KinesisEvent, KinesisRecord, LambdaContextLike } from '../../src/types';

export const TaskCreated = defineEvent({
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1) }),
});
export const TaskRenamed = defineEvent({
  type: 'TaskRenamed',
  schemaVersion: 2,
  aggregateType: 'Task',
  schema: z.object({ name: z.string().min(1), reason: z.string() }),
  upcast: (data, from) => (from === 1 ? { ...(data as object), reason: 'unknown' } : data),
});
export const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ completedBy: z.string() }),
});
/** A type the test consumers have no handler for. */
export const TaskCommented = defineEvent({
  type: 'TaskCommented',
  schemaVersion: 1,
  aggregateType: 'Task',
  schema: z.object({ text: z.string() }),
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
  return createEnvelope({
    source: '/tests',
    type,
    aggregate: { type: 'Task', id },
    version,
    commandId: newCommandId(),
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

let sequence = 49_000_000_000_000_000_000n;
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/unit-test-stream';

/** A Kinesis record with raw data (bytes or text). */
export function rawRecord(data: Uint8Array | string, partitionKey = 'Task#x'): KinesisRecord {
  sequence += 1n;
  const sequenceNumber = sequence.toString();
  return {
    eventID: `shardId-000000000000:${sequenceNumber}`,
    eventSourceARN: STREAM_ARN,
    kinesis: {
      data: Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64'),
      partitionKey,
      sequenceNumber,
      approximateArrivalTimestamp: 1_790_000_000.5,
    },
  };
}

/** A Kinesis event, one record per envelope (or raw record), in the given order. */
export function kinesisEvent(entries: readonly (EventEnvelope | KinesisRecord)[]): KinesisEvent {
  return {
    Records: entries.map((entry) =>
      'kinesis' in entry ? entry : rawRecord(encodeEnvelope(entry), `Task#${entry.aggregateid}`),
    ),
  };
}

/** A Lambda context with plenty of time left. */
export function lambdaContext(): LambdaContextLike {
  return { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'test-request', functionName: 'test' };
}

/** A logger that keeps what it is told. */
export function memoryLogger() {
  const lines: { level: string; message: string; details: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...details: unknown[]) => {
      lines.push({ level, message, details });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
