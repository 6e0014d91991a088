/**
 * Outgoing records: an envelope becomes the record `publishInOrder` puts on Kinesis, or a poison
 * record when it can never be published (its route fails, or it is too large). A poison record
 * keeps its aggregate key and version, so it holds back only its own aggregate's later versions.
 */
import { type EventEnvelope, RecordTooLargeError, toKinesisRecord } from '@tidemark/core';
import { describeError } from '@tidemark/core/internal';
import type { OutgoingRecord } from './ordered-publish';
import type { StreamRoute } from './publisher-types';

/**
 * A record that can never be published: it fails when its turn comes, with `reason`.
 *
 * @example
 * ```ts
 * poisonRecord('Task#1', 'route failed: no stream', { eventId }, { version: 3 });
 * ```
 */
export function poisonRecord(
  key: string,
  reason: string,
  describe: Readonly<Record<string, unknown>>,
  { version, stream = '', size = 0 }: { version?: number | undefined; stream?: string; size?: number } = {},
): OutgoingRecord {
  return {
    key,
    stream,
    data: new Uint8Array(),
    size,
    describe,
    ...(version === undefined ? {} : { version }),
    poison: reason,
  };
}

/**
 * Builds the outgoing record of an envelope, or a poison record when it can never be published.
 *
 * @example
 * ```ts
 * const record = outgoingRecord(envelope, () => 'task-events');
 * if (record.poison !== undefined) logger.error('unpublishable', { reason: record.poison });
 * ```
 */
export function outgoingRecord(envelope: EventEnvelope, route: StreamRoute): OutgoingRecord {
  const key = `${envelope.aggregatetype}#${envelope.aggregateid}`;
  const describe = {
    eventId: envelope.id,
    eventType: envelope.type,
    aggregateKey: key,
    aggregateVersion: envelope.aggregateversion,
  };
  const version = envelope.aggregateversion;
  let stream: string;
  try {
    stream = route(envelope);
    if (typeof stream !== 'string' || stream.length === 0)
      throw new TypeError('the route returned no stream');
  } catch (error) {
    return poisonRecord(key, `route failed: ${describeError(error).message}`, describe, { version });
  }
  try {
    const { partitionKey, data, size } = toKinesisRecord(envelope);
    return { key: partitionKey, stream, data, size, describe, version };
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    return poisonRecord(key, error.message, describe, { version, stream, size: error.size });
  }
}
