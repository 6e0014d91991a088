/**
 * The bare minimum: the work every consumer and every publisher of these events must do, written
 * as straight-line loops with nothing else (no grouping, no checkpoints, no ordering, no limits, no
 * error reporting). Tidemark's CPU per record is printed as a ratio to these, measured in the same
 * run over the same records.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { envelopeSchema } from '@tidemark/core/internal';
import type { DynamoDBStreamEvent, KinesisStreamEvent } from 'aws-lambda';
import type { z } from 'zod';
import { TaskCreated, TaskRenamed } from './catalog';

const PAYLOAD_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  [TaskCreated.type, TaskCreated.schema],
  [TaskRenamed.type, TaskRenamed.schema],
]);

/**
 * What any consumer must do with each record: base64 decode, UTF-8 decode and JSON parse, validate
 * the envelope (its zod schema) and the payload (the event type's zod schema). Returns the records
 * that passed both, so the work cannot be optimised away and the caller can check it was done.
 */
export function bareMinimumConsumer(event: KinesisStreamEvent): number {
  let valid = 0;
  for (const record of event.Records) {
    const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
    const envelope = envelopeSchema.safeParse(JSON.parse(text));
    if (!envelope.success) continue;
    const payload = PAYLOAD_SCHEMAS.get(envelope.data.type)?.safeParse(envelope.data.data);
    if (payload?.success) valid += 1;
  }
  return valid;
}

/**
 * What any publisher must do with each INSERT of the event log's stream: unmarshall the new image,
 * build the CloudEvents envelope from it and encode it as UTF-8 JSON (the bytes PutRecords sends).
 * Returns the bytes encoded, so the work cannot be optimised away.
 */
export function bareMinimumPublisher(event: DynamoDBStreamEvent): number {
  let bytes = 0;
  for (const record of event.Records) {
    // biome-ignore lint/suspicious/noExplicitAny: the stream image's attribute-value type is the SDK's
    const item = unmarshall(record.dynamodb!.NewImage as any);
    const envelope = {
      specversion: '1.0',
      id: item.eventId,
      source: item.source,
      type: item.eventType,
      subject: item.aggregateId,
      time: item.time,
      datacontenttype: 'application/json',
      data: item.payload,
      aggregatetype: item.aggregateType,
      aggregateid: item.aggregateId,
      aggregateversion: item.sk,
      commandid: item.commandId,
      schemaversion: item.schemaVersion,
    };
    bytes += Buffer.from(JSON.stringify(envelope)).byteLength;
  }
  return bytes;
}
