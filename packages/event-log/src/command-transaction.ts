/**
 * The transaction that appends one command: a Put per event with `attribute_not_exists(pk)`, plus a
 * ConditionCheck on the previous head `attribute_exists(pk) AND commandId < :commandId`. So versions
 * are contiguous, two writers can never both write a version, and command ids strictly increase per
 * aggregate, all checked atomically by DynamoDB. Every item also carries its command's version range
 * (DynamoDB Streams does not order the items of one transaction and may split them over batches).
 * Sizes are checked here, before anything is sent: each record against Kinesis, each item against
 * DynamoDB, and the whole transaction against its limit with a margin.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  createEnvelope,
  DYNAMODB_MAX_ITEM_BYTES,
  EVENT_LOG_KEY,
  type EventEnvelope,
  eventLogItemFromEnvelope,
  RecordTooLargeError,
  toKinesisRecord,
} from '@tidemark/core';
import {
  dynamoDbItemSize,
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
  transactionSize,
} from '@tidemark/core/internal';
import type { PreparedCommand } from './append-input';
import { COMMAND_ITEM_ATTRIBUTES } from './limits';
import type { AggregateHead } from './reads';
import { marshallItem } from './storage';

const PK = EVENT_LOG_KEY.partitionKey;
const SK = EVENT_LOG_KEY.sortKey;

/** What one attempt at appending a command writes. */
export interface CommandTransaction {
  /** The command's envelopes, versions after the head. */
  readonly envelopes: EventEnvelope[];
  /** The TransactWriteItems items. */
  readonly items: TransactWriteItem[];
}

/** Where and when the command is written. */
export interface CommandTransactionTarget {
  readonly tableName: string;
  /** The CloudEvents `source` of every event. */
  readonly source: string;
  /** The events' `time`. */
  readonly time: Date;
}

/**
 * Builds the transaction that appends `command` after `head` (`undefined`: a new aggregate).
 * Throws `RecordTooLargeError` when a record, an item or the transaction is past its limit.
 */
export function buildCommandTransaction(
  target: CommandTransactionTarget,
  command: PreparedCommand,
  head: AggregateHead | undefined,
): CommandTransaction {
  const { tableName, source, time } = target;
  const { pk, aggregate, commandId, metadata } = command;
  const actual = head?.version ?? 0;
  const envelopes = command.events.map((event, index) =>
    createEnvelope({
      source,
      type: event.type,
      aggregate,
      version: actual + index + 1,
      commandId,
      schemaVersion: event.schemaVersion,
      ...(event.readableFrom === undefined ? {} : { readableFrom: event.readableFrom }),
      data: event.data,
      time,
      ...(metadata ? { metadata } : {}),
    }),
  );
  const items: TransactWriteItem[] = [];
  const commandRange = {
    [COMMAND_ITEM_ATTRIBUTES.firstVersion]: actual + 1,
    [COMMAND_ITEM_ATTRIBUTES.lastVersion]: actual + envelopes.length,
  };
  for (const envelope of envelopes) {
    toKinesisRecord(envelope); // throws RecordTooLargeError past 1 MiB with the partition key
    const item = marshallItem({ ...eventLogItemFromEnvelope(envelope), ...commandRange });
    const size = dynamoDbItemSize(item);
    if (size > DYNAMODB_MAX_ITEM_BYTES) {
      throw new RecordTooLargeError('Event-log item (DynamoDB item)', size, DYNAMODB_MAX_ITEM_BYTES, {
        aggregateKey: pk,
        eventType: envelope.type,
        aggregateVersion: envelope.aggregateversion,
      });
    }
    items.push({
      Put: {
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
    });
  }
  if (head) {
    items.push({
      ConditionCheck: {
        TableName: tableName,
        Key: { [PK]: { S: pk }, [SK]: { N: String(head.version) } },
        ConditionExpression: 'attribute_exists(#pk) AND #commandId < :commandId',
        ExpressionAttributeNames: { '#pk': PK, '#commandId': 'commandId' },
        ExpressionAttributeValues: { ':commandId': { S: commandId } },
      },
    });
  }
  const transactionBytes = transactionSize(items);
  const transactionLimit = MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES;
  if (transactionBytes > transactionLimit) {
    throw new RecordTooLargeError(
      'The events of one command (DynamoDB transaction, with a safety margin)',
      transactionBytes,
      transactionLimit,
      { aggregateKey: pk, events: envelopes.length },
    );
  }
  return { envelopes, items };
}
