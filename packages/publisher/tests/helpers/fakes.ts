/**
 * Fakes for the publisher's unit tests, on the strict in-memory models of `@tidemark/testing/fakes`
 * (what DynamoDB and Kinesis would refuse, they refuse): DynamoDB holds one event-log table; Kinesis
 * holds the tests' streams, and a script decides which entries and calls fail.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createEnvelope, type EventEnvelope, eventLogItemFromEnvelope, newCommandId } from '@tidemark/core';
import { FakeKinesis as StrictKinesis } from '@tidemark/testing/fakes';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

// The logger that keeps every line: the one of `@tidemark/testing`.
export { memoryLogger } from '@tidemark/testing';

// The test catalog and the strict-model DynamoDB of the event log's tests: one definition for both
// packages (the publisher reads the log the event log writes).
export {
  catalog,
  DateStamped,
  FakeDynamoDb,
  NoteAdded,
  TABLE,
  TaskCreated,
  TaskRenamed,
} from '../../../event-log/tests/helpers/fakes';

/** What a PutRecords entry does in the fake: succeed, or fail with an error code. */
export type EntryFate = 'ok' | 'ProvisionedThroughputExceededException' | 'InternalFailure';

/** The streams every {@link FakeKinesis} holds (one shard each). */
export const FAKE_STREAMS = ['events', 'tasks', 'audit', 'replayed'] as const;

/**
 * Kinesis for the publisher's unit tests: the strict in-memory model of `@tidemark/testing/fakes`
 * (record, call and partition-key limits, shards, sequence numbers, the SDK's exceptions) holding the
 * streams in {@link FAKE_STREAMS}, with a script on top: which entries fail (`fate`; a failed entry
 * never reaches the stream, as on a hot shard) and which calls fail as a whole (`callError`), plus a
 * log of every call and the records of one partition key in flight at once.
 */
export class FakeKinesis {
  /** The strict model behind this fake. */
  readonly model: StrictKinesis;
  readonly config: { readonly region: string };
  /** Every PutRecords call: stream, partition keys and what happened. */
  readonly calls: { stream: string; keys: string[]; failed: number[]; error?: string }[] = [];
  /** Accepted records in arrival order, per stream (as the call named it: name or ARN). */
  readonly accepted = new Map<string, { key: string; envelope: EventEnvelope }[]>();
  /** Partition keys of the calls in flight right now. */
  readonly inFlight = new Map<string, number>();
  /** The greatest number of records of one partition key in flight at once (must stay 1). */
  maxInFlightPerKey = 0;
  /** Decides the fate of an entry. Default: all succeed. */
  fate: (key: string, callIndex: number, position: number) => EntryFate = () => 'ok';
  /** Throws from a whole call when it returns an error. Default: never. */
  callError: (callIndex: number) => Error | undefined = () => undefined;

  constructor(streams: readonly string[] = FAKE_STREAMS) {
    this.model = new StrictKinesis();
    this.config = this.model.config;
    for (const stream of streams) this.model.createStream(stream, 1);
  }

  async send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    if (!(command instanceof PutRecordsCommand)) return this.model.send(command, options);
    const input = command.input;
    const stream = input.StreamName ?? input.StreamARN!;
    const keys = (input.Records ?? []).map((record) => record.PartitionKey!);
    const callIndex = this.calls.length;
    const call = { stream, keys, failed: [] as number[] } as (typeof this.calls)[number];
    this.calls.push(call);
    for (const key of keys) {
      const count = (this.inFlight.get(key) ?? 0) + 1;
      this.inFlight.set(key, count);
      this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, count);
    }
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const error = this.callError(callIndex);
      if (error) {
        call.error = error.name;
        throw error;
      }
      const records = input.Records ?? [];
      const fates = records.map((record, position) => this.fate(record.PartitionKey!, callIndex, position));
      const surviving = records.filter((_, position) => fates[position] === 'ok');
      // The strict model checks the whole call (record count, sizes, keys) and stores the survivors.
      const stored =
        surviving.length === 0 && records.length > 0
          ? []
          : ((
              (await this.model.send(new PutRecordsCommand({ ...input, Records: surviving }), options)) as {
                Records: {
                  SequenceNumber?: string;
                  ShardId?: string;
                  ErrorCode?: string;
                  ErrorMessage?: string;
                }[];
              }
            ).Records ?? []);
      let next = 0;
      const results = records.map((record, position) => {
        const fate = fates[position]!;
        if (fate !== 'ok') {
          call.failed.push(position);
          return { ErrorCode: fate, ErrorMessage: 'scripted failure' };
        }
        const result = stored[next++]!;
        if (result.ErrorCode) {
          call.failed.push(position);
          return result;
        }
        const list = this.accepted.get(stream) ?? [];
        // A packed record (a CloudEvents JSON batch) is accepted as its events, in order.
        const value = JSON.parse(new TextDecoder().decode(record.Data!)) as EventEnvelope | EventEnvelope[];
        for (const envelope of Array.isArray(value) ? value : [value]) {
          list.push({ key: record.PartitionKey!, envelope });
        }
        this.accepted.set(stream, list);
        return result;
      });
      return { Records: results, FailedRecordCount: call.failed.length };
    } finally {
      for (const key of keys) this.inFlight.set(key, this.inFlight.get(key)! - 1);
    }
  }

  /** Every accepted envelope on any stream, in arrival order. */
  all(): EventEnvelope[] {
    return [...this.accepted.values()].flat().map((entry) => entry.envelope);
  }
}

/** An error shaped like an AWS SDK service error. */
export function awsError(name: string): Error {
  const error = new Error(`${name} (fake)`);
  error.name = name;
  return error;
}

let sequence = 1000;

/** Envelopes for an aggregate: versions from..to. */
export function envelopesFor(
  id: string,
  from: number,
  to: number,
  data: Record<string, unknown> = {},
): EventEnvelope[] {
  const commandId = newCommandId();
  const envelopes: EventEnvelope[] = [];
  for (let version = from; version <= to; version += 1) {
    envelopes.push(
      createEnvelope({
        source: '/test',
        type: 'TaskRenamed',
        aggregate: { type: 'Task', id },
        version,
        commandId,
        data: { name: `name ${version}`, ...data },
      }),
    );
  }
  return envelopes;
}

/** A DynamoDB stream record as Lambda sends it (marshalled images). */
export function streamRecord(
  image: Record<string, unknown> | undefined,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT',
): DynamoDBRecord {
  sequence += 1;
  const marshalled = image ? marshall(image, { removeUndefinedValues: true }) : undefined;
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: marshalled ? ({ pk: marshalled.pk, sk: marshalled.sk } as never) : undefined,
      ...(marshalled && eventName !== 'REMOVE' ? { NewImage: marshalled as never } : {}),
      ...(marshalled && eventName !== 'INSERT' ? { OldImage: marshalled as never } : {}),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/2026-01-01T00:00:00.000',
  };
}

/** A stream event of INSERTs, one per envelope. */
export function streamEventOf(envelopes: readonly EventEnvelope[]): DynamoDBStreamEvent {
  return { Records: envelopes.map((envelope) => streamRecord({ ...eventLogItemFromEnvelope(envelope) })) };
}

/** A context with plenty of time (or the given remaining time). */
export function lambdaContext(remainingMs = 60_000) {
  const end = Date.now() + remainingMs;
  return {
    getRemainingTimeInMillis: () => Math.max(end - Date.now(), 0),
    functionName: 'publisher',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:publisher',
    memoryLimitInMB: '128',
    awsRequestId: 'request',
    logGroupName: 'group',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Records the counts sent to `addMetric`, as Powertools `Metrics` receives them. */
export function memoryMetrics() {
  const counts: { name: string; unit: string; value: number }[] = [];
  return {
    counts,
    addMetric(name: string, unit: 'Count', value: number): void {
      counts.push({ name, unit, value });
    },
  };
}
