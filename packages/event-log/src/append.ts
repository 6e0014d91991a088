/**
 * One `append`: validate, read the head, return the first outcome of a command already in the log,
 * refuse a stale expected version or command id, write the command's transaction, and tell a lost
 * race from a retried command when DynamoDB refuses it. Transient refusals are retried.
 */
import { type DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AggregateRef, AnyEventCatalog, EventEnvelope, EventTypeOf, Ulid } from '@tidemark/core';
import { classifyAwsError } from '@tidemark/core/internal';
import { type AppendInput, type PreparedCommand, prepareCommand } from './append-input';
import { type AppendRetrySettings, retryTransient } from './append-retry';
import { buildCommandTransaction } from './command-transaction';
import { CommandIdNotIncreasingError, ConcurrencyError } from './errors';
import { existingCommandEvents } from './existing-command';
import type { LogReads } from './reads';
import { TransientAppendFailure, transientFailure } from './transient-errors';

/** The outcome of `append`. */
export interface AppendResult<C extends AnyEventCatalog> {
  /** The aggregate. */
  readonly aggregate: AggregateRef;
  /** The command id (canonical upper-case ULID). */
  readonly commandId: Ulid;
  /** The aggregate version after the command: the version of its last event. */
  readonly version: number;
  /** The envelopes of the command's events: the ones written, or for a duplicate the ones found. */
  readonly events: readonly EventEnvelope<EventTypeOf<C>>[];
  /**
   * `true` when the command id was already in the log (a retried command, or an earlier attempt of
   * this call whose response was lost): nothing was appended, `events` is the first outcome.
   */
  readonly duplicate: boolean;
}

/** What `append` works with. */
export interface AppendDependencies<C extends AnyEventCatalog> {
  readonly tableName: string;
  readonly catalog: C;
  /** The CloudEvents `source` of every event appended. */
  readonly source: string;
  readonly clock: () => Date;
  /** Sends the transaction. */
  readonly dynamodb: DynamoDBClient;
  readonly reads: LogReads;
  readonly retry: AppendRetrySettings;
}

/** The `append` of an event log (see `EventLog.append` for what it guarantees). */
export function createAppend<C extends AnyEventCatalog>(
  dependencies: AppendDependencies<C>,
): (input: AppendInput<C>) => Promise<AppendResult<C>> {
  const { tableName, catalog, source, clock, dynamodb, reads, retry } = dependencies;

  const existing = (pk: string, commandId: string, head: Awaited<ReturnType<LogReads['head']>>) =>
    existingCommandEvents(reads, tableName, pk, commandId, head);

  const attempt = async (
    command: PreparedCommand,
    outcome: (events: EventEnvelope[], duplicate: boolean) => AppendResult<C>,
  ): Promise<AppendResult<C>> => {
    const { pk, commandId, expectedVersion } = command;
    const head = await reads.head(pk);
    const stale = head !== undefined && commandId <= head.lastCommandId;
    if (stale) {
      const found = await existing(pk, commandId, head);
      if (found) return outcome(found, true);
    }
    // Not stored. A stale expected version comes first: a caller that lost a race must hear that
    // (reload and decide again, which makes a new command id), not that its id is stale.
    const actual = head?.version ?? 0;
    if (expectedVersion !== undefined && expectedVersion !== actual) {
      throw new ConcurrencyError(
        `${pk} is at version ${actual}, not the expected ${expectedVersion}; reload it and decide again`,
        {
          aggregateKey: pk,
          commandId,
          expectedVersion,
          actualVersion: actual,
          lastCommandId: head?.lastCommandId,
        },
      );
    }
    if (stale) {
      throw new CommandIdNotIncreasingError({
        aggregateKey: pk,
        commandId,
        lastCommandId: head.lastCommandId,
        version: head.version,
      });
    }

    const { envelopes, items } = buildCommandTransaction({ tableName, source, time: clock() }, command, head);
    try {
      await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      const failure = classifyAwsError(error);
      if (failure.reasons?.some((reason) => reason.code === 'ConditionalCheckFailed')) {
        // Lost a race, or an earlier attempt of this very command committed: re-read to tell.
        const now = await reads.head(pk);
        const found = await existing(pk, commandId, now);
        if (found) return outcome(found, true);
        if (expectedVersion === undefined) {
          // No version was asked for: the command goes after whatever is there now, if its id
          // still may (another call of this very command may commit meanwhile: the retry finds it).
          if (now && commandId <= now.lastCommandId) {
            throw new CommandIdNotIncreasingError({
              aggregateKey: pk,
              commandId,
              lastCommandId: now.lastCommandId,
              version: now.version,
            });
          }
          throw new TransientAppendFailure(['VersionTaken'], error, false);
        }
        throw new ConcurrencyError(
          `Another command appended to ${pk} first (now at version ${now?.version ?? 0}); reload it and decide again`,
          {
            aggregateKey: pk,
            commandId,
            expectedVersion,
            actualVersion: now?.version ?? 0,
            lastCommandId: now?.lastCommandId,
          },
          { cause: error },
        );
      }
      const transient = transientFailure(error, failure);
      if (transient) throw transient;
      throw error;
    }
    return outcome(envelopes, false);
  };

  return async (input) => {
    const command = prepareCommand(catalog, input);
    const outcome = (events: EventEnvelope[], duplicate: boolean): AppendResult<C> => ({
      aggregate: command.aggregate,
      commandId: command.commandId,
      version: events[events.length - 1]!.aggregateversion,
      events: events as EventEnvelope<EventTypeOf<C>>[],
      duplicate,
    });
    return retryTransient(retry, { aggregateKey: command.pk, commandId: command.commandId }, () =>
      attempt(command, outcome),
    );
  };
}
