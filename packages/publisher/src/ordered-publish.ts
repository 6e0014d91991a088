/**
 * The ordered publishing engine shared by the publisher Lambda and replay: waves of at most one
 * Kinesis record per aggregate — a run of its consecutive versions packed into one record in the
 * CloudEvents JSON batch format, up to 1 MiB — PutRecords calls within limits, retries of failed
 * entries only (p-retry, exponential backoff with jitter) bounded by a deadline, and an aggregate
 * blocked for the rest of the run as soon as one of its records cannot be published.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KINESIS_LIMITS, type TidemarkLogger } from '@tidemark/core';
import {
  classifyAwsError,
  describeError,
  envelopeBatchDataLength,
  forEachLimited,
  joinEncodedEnvelopes,
  utf8Length,
} from '@tidemark/core/internal';
import { defaultExport } from '@tidemark/event-log/internal';
import pRetryImport from 'p-retry';
import { type CallLimits, PUT_RECORDS_LIMITS, splitIntoCalls } from './waves';

const pRetry = defaultExport(pRetryImport);

/** How failed entries and failed calls are retried within one wave. */
export interface PublishRetryOptions {
  /**
   * Retries of a wave's failed entries after the first attempt, 0 to 1000.
   *
   * @default 8 (`PUBLISHER_DEFAULTS.retry.retries`)
   */
  readonly retries?: number;
  /**
   * Delay before the first retry, in ms.
   *
   * @default 100 (`PUBLISHER_DEFAULTS.retry.minTimeoutMs`)
   */
  readonly minTimeoutMs?: number;
  /**
   * Longest delay between two attempts, in ms.
   *
   * @default 3000 (`PUBLISHER_DEFAULTS.retry.maxTimeoutMs`)
   */
  readonly maxTimeoutMs?: number;
  /**
   * Growth of the delay per retry (each delay is also multiplied by a random 1–2 jitter), at least 1.
   *
   * @default 2 (`PUBLISHER_DEFAULTS.retry.factor`)
   */
  readonly factor?: number;
}

/** A record to publish, in the order of the batch. */
export interface OutgoingRecord {
  /** The aggregate key: the partition key and the unit of ordering. */
  readonly key: string;
  /** The target stream: a name, or an ARN (`arn:…`). */
  readonly stream: string;
  /** The encoded envelope. */
  readonly data: Uint8Array;
  /** Partition key + data, in bytes. */
  readonly size: number;
  /** Attributes that identify the record in logs (event id, type, version; never the payload). */
  readonly describe: Readonly<Record<string, unknown>>;
  /** Set when the record can never be published (too large, no route): it fails when its turn comes. */
  readonly poison?: string;
  /**
   * The aggregate version, when known: an aggregate's records are published in version order even
   * if the stream delivered them otherwise (DynamoDB Streams order the changes of one item, not the
   * items one transaction wrote). Default: batch order.
   */
  readonly version?: number;
}

/** What happened to each record (every event of a packed Kinesis record shares its outcome). */
export type RecordOutcome = 'published' | 'failed' | 'not-attempted';

/** The result of {@link publishInOrder}. */
export interface OrderedPublishReport {
  /** One outcome per input record, by position. */
  readonly outcomes: RecordOutcome[];
  /** Why a record failed, by position. */
  readonly reasons: Map<number, string>;
  /** PutRecords calls made. */
  readonly calls: number;
  /** Waves published. */
  readonly waves: number;
  /** Record sends after the first (retries of failed entries or failed calls). */
  readonly retried: number;
  /** Kinesis records sent (first sends): one per packed run, so at most the number of records. */
  readonly kinesisRecords: number;
  /** Of those, records that packed two events or more (the CloudEvents JSON batch format). */
  readonly packedRecords: number;
}

/** Inputs of {@link publishInOrder}. */
export interface OrderedPublishOptions {
  readonly kinesis: KinesisClient;
  readonly logger: TidemarkLogger;
  readonly retry: Required<PublishRetryOptions>;
  /** No new wave or retry starts after this time (epoch ms). */
  readonly deadline: number;
  /** Calls still in flight at this time (epoch ms) are aborted. Default: never. */
  readonly abortAt?: number;
  /** Calls of one wave in flight at once. */
  readonly maxConcurrentCalls: number;
  /** Stops before the next wave (and aborts retries) when aborted. */
  readonly signal?: AbortSignal;
  /** Limits of one call. Default: Kinesis' (500 records, 5 MiB). */
  readonly limits?: CallLimits;
  /**
   * Pack a run of one aggregate's consecutive versions (same stream, none poison) into one Kinesis
   * record in the CloudEvents JSON batch format, up to 1 MiB with its partition key. A run of one
   * stays a plain envelope. Default: `true`.
   */
  readonly pack?: boolean;
}

/** What one Kinesis record of a wave carries: one record, or a packed run of one aggregate. */
interface Unit {
  readonly key: string;
  readonly stream: string;
  readonly data: Uint8Array;
  readonly size: number;
  /** Positions of the records it carries, in version order. */
  readonly members: readonly number[];
}

/** Whole-call errors that no retry can fix: configuration, permissions or an invalid request. */
const PERMANENT_CALL_ERRORS: ReadonlySet<string> = new Set(['not-found', 'access-denied', 'validation']);

class WaveIncomplete extends Error {
  constructor(readonly pending: number) {
    super(`${pending} records of the wave are not published yet`);
    this.name = 'WaveIncomplete';
  }
}

/**
 * Publishes records so that each aggregate's records are first published in batch order:
 * never two records of one aggregate in flight, nothing after a record that could not be
 * published. Never throws for a failed publication: the outcomes say what was published.
 */
export async function publishInOrder(
  records: readonly OutgoingRecord[],
  options: OrderedPublishOptions,
): Promise<OrderedPublishReport> {
  const { kinesis, logger, retry, deadline, maxConcurrentCalls, signal } = options;
  const limits = options.limits ?? PUT_RECORDS_LIMITS;
  const outcomes: RecordOutcome[] = records.map(() => 'not-attempted');
  const reasons = new Map<number, string>();
  const queues = new Map<string, number[]>();
  records.forEach((record, index) => {
    const queue = queues.get(record.key);
    if (queue) queue.push(index);
    else queues.set(record.key, [index]);
  });
  // Version order within each aggregate; records without a version keep their batch order (stable sort).
  for (const queue of queues.values()) {
    queue.sort((a, b) => (records[a]!.version ?? 0) - (records[b]!.version ?? 0) || a - b);
  }
  const cursor = new Map<string, number>();
  const blocked = new Set<string>();
  const pack = options.pack ?? true;
  const units: Unit[] = [];
  let calls = 0;
  let waves = 0;
  let retried = 0;
  let packedRecords = 0;

  const fail = (index: number, reason: string) => {
    outcomes[index] = 'failed';
    reasons.set(index, reason);
    blocked.add(records[index]!.key);
  };

  const failUnit = (unit: number, reason: string) => {
    for (const index of units[unit]!.members) fail(index, reason);
  };

  const sendCall = async (call: readonly number[], pending: Map<number, string>) => {
    calls += 1;
    const stream = units[call[0]!]!.stream;
    const target = stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream };
    let output: PutRecordsCommandOutput;
    try {
      const abortIn = options.abortAt === undefined ? undefined : Math.max(options.abortAt - Date.now(), 1);
      output = await kinesis.send(
        new PutRecordsCommand({
          ...target,
          Records: call.map((unit) => ({ PartitionKey: units[unit]!.key, Data: units[unit]!.data })),
        }),
        abortIn === undefined ? {} : { abortSignal: AbortSignal.timeout(abortIn) },
      );
    } catch (error) {
      const { kind, name } = classifyAwsError(error);
      if (PERMANENT_CALL_ERRORS.has(kind)) {
        logger.error('PutRecords failed and cannot succeed on retry', {
          stream,
          records: call.length,
          error: describeError(error),
        });
        for (const unit of call) {
          pending.delete(unit);
          failUnit(unit, `PutRecords: ${name}`);
        }
      } else {
        logger.warn('PutRecords failed as a whole; its records will be retried', {
          stream,
          records: call.length,
          error: describeError(error),
        });
        for (const unit of call) pending.set(unit, `PutRecords: ${name}`);
      }
      return;
    }
    const entries = output.Records ?? [];
    if (entries.length !== call.length) {
      logger.warn('PutRecords answered a different number of entries than sent; retrying them all', {
        stream,
        sent: call.length,
        answered: entries.length,
      });
      for (const unit of call) pending.set(unit, 'PutRecords: malformed response');
      return;
    }
    let failedEntries = 0;
    entries.forEach((entry, position) => {
      const unit = call[position]!;
      if (entry.ErrorCode || !entry.SequenceNumber) {
        failedEntries += 1;
        pending.set(unit, entry.ErrorCode ?? 'no sequence number');
      } else {
        pending.delete(unit);
        for (const index of units[unit]!.members) outcomes[index] = 'published';
      }
    });
    logger.debug('PutRecords call done', { stream, records: call.length, failedEntries });
  };

  const publishWave = async (wave: number[]) => {
    waves += 1;
    const pending = new Map<number, string>(wave.map((unit) => [unit, 'not sent']));
    try {
      await pRetry(
        async (attemptNumber) => {
          if (attemptNumber > 1) retried += pending.size;
          const calls = splitIntoCalls(
            [...pending.keys()].map((unit) => ({ ...units[unit]!, unit })),
            limits,
          ).map((call) => call.map((entry) => entry.unit));
          await forEachLimited(calls, maxConcurrentCalls, (call) => sendCall(call, pending));
          if (pending.size > 0) throw new WaveIncomplete(pending.size);
        },
        {
          retries: retry.retries,
          minTimeout: retry.minTimeoutMs,
          maxTimeout: retry.maxTimeoutMs,
          factor: retry.factor,
          randomize: true,
          maxRetryTime: Math.max(deadline - Date.now(), 0),
          shouldRetry: () => Date.now() < deadline && !signal?.aborted,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (error instanceof WaveIncomplete) {
              logger.warn('Some records of a wave were not published; retrying them', {
                pending: error.pending,
                attempt: attemptNumber,
                retriesLeft,
                errors: summarize(pending),
              });
            }
          },
        },
      );
    } catch (error) {
      if (!(error instanceof WaveIncomplete)) throw error;
    }
    for (const [unit, reason] of pending) failUnit(unit, reason);
  };

  /** The next run of an aggregate's queue from `position`, packed when it may be. */
  const takeRun = (queue: readonly number[], position: number): number[] => {
    const run = [queue[position]!];
    if (!pack) return run;
    const first = records[run[0]!]!;
    const keyBytes = utf8Length(first.key);
    let dataBytes = first.data.byteLength;
    for (let next = position + 1; next < queue.length; next += 1) {
      const previous = records[run[run.length - 1]!]!;
      const record = records[queue[next]!]!;
      // Never across a gap, a poison record, another stream or an unversioned record.
      if (
        record.poison !== undefined ||
        record.stream !== first.stream ||
        previous.version === undefined ||
        record.version !== previous.version + 1
      ) {
        break;
      }
      // '[' + entries + one ',' between each two + ']', and the partition key.
      const size = keyBytes + envelopeBatchDataLength([dataBytes + record.data.byteLength]) + run.length;
      if (size > KINESIS_LIMITS.maxRecordBytes) break;
      dataBytes += record.data.byteLength;
      run.push(queue[next]!);
    }
    return run;
  };

  const unitOf = (run: readonly number[]): number => {
    const first = records[run[0]!]!;
    let unit: Unit;
    if (run.length === 1) {
      unit = { key: first.key, stream: first.stream, data: first.data, size: first.size, members: run };
    } else {
      packedRecords += 1;
      const data = joinEncodedEnvelopes(run.map((index) => records[index]!.data));
      unit = {
        key: first.key,
        stream: first.stream,
        data,
        size: utf8Length(first.key) + data.byteLength,
        members: run,
      };
    }
    units.push(unit);
    return units.length - 1;
  };

  for (;;) {
    if (waves > 0 && (Date.now() >= deadline || signal?.aborted)) break;
    const wave: number[] = [];
    for (const [key, queue] of queues) {
      if (blocked.has(key)) continue;
      const position = cursor.get(key) ?? 0;
      const index = queue[position];
      if (index === undefined) continue;
      const record = records[index]!;
      if (record.poison !== undefined || record.size > KINESIS_LIMITS.maxRecordBytes) {
        cursor.set(key, position + 1);
        fail(index, record.poison ?? `record is ${record.size} bytes, over 1 MiB`);
        continue;
      }
      const run = takeRun(queue, position);
      cursor.set(key, position + run.length);
      wave.push(unitOf(run));
    }
    if (wave.length === 0) {
      if (
        [...queues.keys()].every(
          (key) => blocked.has(key) || (cursor.get(key) ?? 0) >= queues.get(key)!.length,
        )
      ) {
        break;
      }
      continue; // only poison records this round: their aggregates are now blocked
    }
    await publishWave(wave);
  }
  return { outcomes, reasons, calls, waves, retried, kinesisRecords: units.length, packedRecords };
}

function summarize(pending: Map<number, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reason of pending.values()) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}
