/**
 * The consumer table's layout and keys. One table holds checkpoints, held records and (by default)
 * dead letters; every key is a string pair `pk`/`sk`.
 *
 * | item        | pk                                   | sk                   |
 * | ----------- | ------------------------------------ | -------------------- |
 * | checkpoint  | `consumer#<name>#<aggregate key>`    | `checkpoint`         |
 * | held record | `consumer#<name>#<aggregate key>`    | `held#<version, 12 digits>` |
 * | held chunk  | `consumer#<name>#<aggregate key>`    | `held#<version>#<nnn>` (data beyond 350 KiB) |
 * | dead letter | `consumer#<name>#dead-letters`       | `<dead-letter id>`   |
 * | dead-letter data chunk | `consumer#<name>#dead-letter-data#<id>` | `chunk#<nnn>` (data beyond 256 KiB) |
 * | open gap    | `consumer#<name>#gaps`               | `<aggregate key>`    |
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { parseOptions } from '@tidemark/core/internal';
import { z } from 'zod';
import { TABLE_NAME_SCHEMA } from './options';

/** Attribute names of the consumer table's key. */
export const CONSUMER_TABLE_KEY = Object.freeze({
  /** Partition key attribute (string). */
  partitionKey: 'pk',
  /** Sort key attribute (string). */
  sortKey: 'sk',
} as const);

/**
 * The consumer table's TTL attribute (epoch seconds). Only the in-flight markers carry it (they
 * expire a day after their batch); enable TTL on it (`UpdateTimeToLive`, or `timeToLiveAttribute` in
 * CDK — `@tidemark/cdk`'s `EventConsumer` does) so they do not pile up. Nothing else ever expires.
 */
export const CONSUMER_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The shape of a CreateTable request for a consumer table, compatible with the AWS SDK's
 * `CreateTableCommandInput`.
 */
export interface ConsumerTableDescription {
  readonly TableName: string;
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  readonly KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly BillingMode: 'PAY_PER_REQUEST';
}

const TABLE_DESCRIPTION_SCHEMA = z.strictObject({ tableName: TABLE_NAME_SCHEMA });

/**
 * Describes the consumer table: string partition key `pk`, string sort key `sk`, on-demand
 * capacity. Checkpoints, held records and dead letters of any number of consumers share it.
 *
 * @example
 * ```ts
 * import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
 * import { consumerTableDescription } from '@tidemark/consumer';
 *
 * await dynamodb.send(new CreateTableCommand(consumerTableDescription('consumer-state')));
 * ```
 */
export function consumerTableDescription(tableName: string): ConsumerTableDescription {
  parseOptions(TABLE_DESCRIPTION_SCHEMA, { tableName }, { factory: 'consumerTableDescription' });
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: CONSUMER_TABLE_KEY.partitionKey, AttributeType: 'S' },
      { AttributeName: CONSUMER_TABLE_KEY.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: CONSUMER_TABLE_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: CONSUMER_TABLE_KEY.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export type Key = Record<string, AttributeValue>;

export const CHECKPOINT_SK = 'checkpoint';
const HELD_PREFIX = 'held#';

export function aggregatePk(consumer: string, aggregateKey: string): string {
  return `consumer#${consumer}#${aggregateKey}`;
}
export function checkpointKey(consumer: string, aggregateKey: string): Key {
  return { pk: { S: aggregatePk(consumer, aggregateKey) }, sk: { S: CHECKPOINT_SK } };
}
export function heldKey(consumer: string, aggregateKey: string, version: number): Key {
  return {
    pk: { S: aggregatePk(consumer, aggregateKey) },
    sk: { S: `${HELD_PREFIX}${String(version).padStart(12, '0')}` },
  };
}
export function deadLetterPk(consumer: string): string {
  return `consumer#${consumer}#dead-letters`;
}
export function deadLetterKey(consumer: string, id: string): Key {
  return { pk: { S: deadLetterPk(consumer) }, sk: { S: id } };
}
/** The key of data chunk `index` (1 and up; 0 is inline) of a dead letter's record. */
export function deadLetterChunkKey(consumer: string, id: string, index: number): Key {
  return {
    pk: { S: `consumer#${consumer}#dead-letter-data#${id}` },
    sk: { S: `chunk#${String(index).padStart(3, '0')}` },
  };
}

export function gapsPk(consumer: string): string {
  return `consumer#${consumer}#gaps`;
}
export function gapKey(consumer: string, aggregateKey: string): Key {
  return { pk: { S: gapsPk(consumer) }, sk: { S: aggregateKey } };
}

/** The key of chunk `index` (0 is the record's own item) of a held record. */
export function heldChunkKey(consumer: string, aggregateKey: string, version: number, index: number): Key {
  const key = heldKey(consumer, aggregateKey, version);
  return index === 0 ? key : { pk: key.pk!, sk: { S: `${key.sk!.S}#${String(index).padStart(3, '0')}` } };
}
