/**
 * The in-flight marker: how a delivery in which handlers did not complete (the invocation timed
 * out, ran out of memory or crashed) is counted as an attempt.
 *
 * Before the first handler of a batch runs, one UpdateItem writes a marker keyed by the batch's
 * first record; the same request returns the marker as it was (`ReturnValues: ALL_OLD`). Lambda
 * retries a batch whose invocation failed from the same first record, so an unfinished marker
 * found that way means the previous invocation of this batch died with handlers in flight. That
 * delivery is run in isolation — aggregates one at a time, each named in the marker before it
 * starts and its checkpoint written after every event — so a further death is pinned on exactly
 * one event, which gets an attempt; after `maxAttempts` it is parked without running again.
 * An invocation that answers normally with records not completed marks its marker finished
 * (on condition that the marker is still its own, so a zombie cannot finish a newer run's marker).
 *
 * Cost: one request per batch that runs handlers; one more when it answers with failures; one
 * per aggregate and one per event in an isolated delivery. Markers expire through the table's
 * TTL attribute `expiresAt` (one day).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { classifyAwsError, describeErrorText } from '@tidemark/core/internal';
import type { CountingClient } from './counting-client';
import { ConsumerStoreError } from './errors';
import { CONSUMER_TABLE_TTL_ATTRIBUTE, type Key } from './table-keys';

/** How long a marker is kept (DynamoDB TTL on `expiresAt`). */
export const IN_FLIGHT_MARKER_TTL_SECONDS = 24 * 60 * 60;

/** What a previous invocation of the same batch left. */
export interface PreviousRun {
  /** It did not answer (time-out, out of memory, crash). */
  readonly died: boolean;
  /**
   * It ran in isolation and answered with records not completed: the next delivery isolates
   * too, so the death that follows is pinned without a further unpinned one.
   */
  readonly isolating: boolean;
  /** The aggregate it was running in isolation when it died, and the first version it ran. */
  readonly isolated?: { readonly aggregateKey: string; readonly from: number };
}

/** The in-flight marker of one batch. */
export class InFlightMarker {
  private readonly key: Key;

  constructor(
    private readonly db: CountingClient,
    private readonly tableName: string,
    consumer: string,
    firstRecord: { eventSourceARN: string; eventID: string },
    private readonly runId: string,
  ) {
    this.key = {
      pk: { S: `consumer#${consumer}#in-flight` },
      sk: {
        S: `${String(firstRecord.eventSourceARN).slice(0, 300)}#${String(firstRecord.eventID).slice(0, 300)}`,
      },
    };
  }

  /** Writes this run's marker; returns what the previous invocation of this batch left. */
  async start(now: Date): Promise<PreviousRun | undefined> {
    try {
      // An update, not a put: what the previous run left about an isolated aggregate stays until
      // this run counts it (a count that could not be written is then counted by the next run).
      const result = await this.db.send<{ Attributes?: Key }>(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression:
            'SET #kind = :kind, #runId = :runId, #startedAt = :startedAt, #expiresAt = :expiresAt REMOVE #finished',
          ExpressionAttributeNames: {
            '#kind': 'kind',
            '#runId': 'runId',
            '#startedAt': 'startedAt',
            '#expiresAt': CONSUMER_TABLE_TTL_ATTRIBUTE,
            '#finished': 'finished',
          },
          ExpressionAttributeValues: {
            ':kind': { S: 'in-flight' },
            ':runId': { S: this.runId },
            ':startedAt': { S: now.toISOString() },
            ':expiresAt': { N: String(Math.floor(now.getTime() / 1000) + IN_FLIGHT_MARKER_TTL_SECONDS) },
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = result.Attributes;
      if (!old) return undefined;
      const isolatedKey = old.isolatedAggregate?.S;
      const isolatedFrom = old.isolatedFrom?.N;
      return {
        died: old.finished?.BOOL !== true,
        isolating: old.isolating?.BOOL === true,
        ...(isolatedKey !== undefined && isolatedFrom !== undefined
          ? { isolated: { aggregateKey: isolatedKey, from: Number(isolatedFrom) } }
          : {}),
      };
    } catch (error) {
      throw new ConsumerStoreError(
        'write in-flight marker',
        describeErrorText(error),
        { tableName: this.tableName },
        {
          cause: error,
        },
      );
    }
  }

  /** Names the aggregate an isolated delivery is about to run. */
  async isolate(aggregateKey: string, from: number): Promise<boolean> {
    return this.update('SET isolatedAggregate = :aggregate, isolatedFrom = :from', {
      ':aggregate': { S: aggregateKey },
      ':from': { N: String(from) },
    });
  }

  /** Marks the run as answered (with records not completed), and whether it ran in isolation. */
  async finish(isolating: boolean): Promise<boolean> {
    return this.update(
      'SET finished = :true, isolating = :isolating REMOVE isolatedAggregate, isolatedFrom',
      {
        ':true': { BOOL: true },
        ':isolating': { BOOL: isolating },
      },
    );
  }

  private async update(expression: string, values: Key): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: expression,
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ...values, ':runId': { S: this.runId } },
        }),
      );
      return true;
    } catch (error) {
      if (classifyAwsError(error).kind === 'conditional') return false;
      throw new ConsumerStoreError(
        'update in-flight marker',
        describeErrorText(error),
        { tableName: this.tableName },
        {
          cause: error,
        },
      );
    }
  }
}
