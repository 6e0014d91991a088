import { z } from 'zod';
import { type AggregateRef, aggregateKey, assertAggregate } from './aggregate';
import { newEventId, ULID_PATTERN, type Ulid } from './command-id';
import { type FastPathPatterns, fastEnvelope, patternOf, TRACEPARENT_PATTERN } from './envelope-fast-path';
import { EnvelopeDecodeError, EnvelopeValidationError } from './errors';
import { toValidationIssues } from './issues';
import { assertFitsKinesisRecord, kinesisRecordSize } from './limits';

/** The CloudEvents spec version Tidemark envelopes follow. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** The content type of `data`: envelopes are CloudEvents in structured JSON mode. */
export const ENVELOPE_CONTENT_TYPE = 'application/json';

const ulidString = z.string().regex(ULID_PATTERN, 'must be a ULID (26 upper-case base32 characters)');

const nonEmpty = () => z.string().min(1, 'must not be empty');
const positive = () => z.int().min(1, 'must be 1 or more');

/** The envelope's fields, in the order an envelope lists them. */
const envelopeFields = {
  specversion: z.literal(CLOUDEVENTS_SPEC_VERSION),
  id: ulidString,
  source: nonEmpty(),
  type: nonEmpty(),
  subject: nonEmpty(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal(ENVELOPE_CONTENT_TYPE),
  data: z.record(z.string(), z.unknown()),
  aggregatetype: nonEmpty(),
  aggregateid: nonEmpty(),
  aggregateversion: positive(),
  commandid: ulidString,
  schemaversion: positive(),
  readablefrom: positive().optional(),
  correlationid: z.string().min(1).optional(),
  causationid: z.string().min(1).optional(),
  traceparent: z.string().regex(TRACEPARENT_PATTERN, 'must be a W3C traceparent').optional(),
  tracestate: z.string().optional(),
};

/** @internal The patterns the fast path shares with the schemas (see `envelope-fast-path.ts`). */
export const ENVELOPE_PATTERNS: FastPathPatterns = Object.freeze({
  time: patternOf(envelopeFields.time),
  keys: new Set(Object.keys(envelopeFields)),
});

/** `readablefrom`, when present, is at most `schemaversion`. */
const readableFromWithinSchemaVersion = (envelope: {
  readablefrom?: number | undefined;
  schemaversion: number;
}) => envelope.readablefrom === undefined || envelope.readablefrom <= envelope.schemaversion;
const readableFromIssue = {
  message: 'readablefrom must not be greater than schemaversion',
  path: ['readablefrom'],
};

/**
 * The zod schema of a Tidemark envelope: a CloudEvents 1.0 event in structured JSON mode, with
 * the Tidemark extension attributes. Unknown extension attributes are kept.
 */
export const envelopeSchema = z
  .looseObject(envelopeFields)
  .refine((envelope) => envelope.subject === envelope.aggregateid, {
    message: 'subject must equal aggregateid',
    path: ['subject'],
  })
  .refine(readableFromWithinSchemaVersion, readableFromIssue);

/**
 * The part of {@link envelopeSchema} an envelope built from a parsed event-log item can still fail:
 * the item's schema has checked every other field by the same rule, and the mapping sets
 * `subject` to `aggregateid`. Same rules, same messages, same order: an item fails this exactly
 * where its envelope would fail the whole schema.
 */
const itemEnvelopeRemainderSchema = z
  .looseObject({
    id: envelopeFields.id,
    time: envelopeFields.time,
    commandid: envelopeFields.commandid,
    schemaversion: envelopeFields.schemaversion,
    readablefrom: envelopeFields.readablefrom,
    correlationid: envelopeFields.correlationid,
    causationid: envelopeFields.causationid,
    traceparent: envelopeFields.traceparent,
  })
  .refine(readableFromWithinSchemaVersion, readableFromIssue);

/**
 * A Tidemark event as it travels on Kinesis: CloudEvents 1.0 attributes plus the Tidemark
 * extension attributes (lower-case names, as CloudEvents requires).
 */
export interface EventEnvelope<TType extends string = string, TData = Record<string, unknown>> {
  /** Always `'1.0'`. */
  readonly specversion: '1.0';
  /** The event id (a ULID). */
  readonly id: Ulid;
  /** Who produced the event, a URI-reference such as `/task-service`. */
  readonly source: string;
  /** The event type, e.g. `TaskCreated`. */
  readonly type: TType;
  /** The aggregate id (the same value as `aggregateid`). */
  readonly subject: string;
  /** When the event was appended, RFC 3339. */
  readonly time: string;
  /** Always `'application/json'`. */
  readonly datacontenttype: 'application/json';
  /** The payload. */
  readonly data: TData;
  /** Extension: the aggregate type, e.g. `Task`. */
  readonly aggregatetype: string;
  /** Extension: the aggregate id. */
  readonly aggregateid: string;
  /** Extension: the aggregate version this event created (1, 2, 3, …). */
  readonly aggregateversion: number;
  /** Extension: the id (ULID) of the command that produced the event. */
  readonly commandid: Ulid;
  /** Extension: the version of the payload schema. */
  readonly schemaversion: number;
  /**
   * Extension: the oldest schema version of this event type whose readers can read this payload
   * (the producer's definition declares it; see `readableFrom` of an event definition). Absent
   * means `schemaversion`: only readers at that version or later.
   */
  readonly readablefrom?: number;
  /** Extension: the correlation id shared by everything one request caused. */
  readonly correlationid?: string;
  /** Extension: the id of the message that caused this event. */
  readonly causationid?: string;
  /** Distributed tracing extension: W3C `traceparent`. */
  readonly traceparent?: string;
  /** Distributed tracing extension: W3C `tracestate`. */
  readonly tracestate?: string;
}

/** Correlation, causation and trace context carried with an event. */
export interface EventMetadata {
  /** The correlation id shared by everything one request caused. */
  readonly correlationId?: string;
  /** The id of the message (command or event) that caused this event. */
  readonly causationId?: string;
  /** W3C `traceparent` of the trace the command ran in. */
  readonly traceparent?: string;
  /** W3C `tracestate`. */
  readonly tracestate?: string;
}

/** What {@link createEnvelope} needs. */
export interface CreateEnvelopeInput<TType extends string = string, TData = Record<string, unknown>> {
  /** Who produces the event, e.g. `/task-service`. */
  readonly source: string;
  /** The event type. */
  readonly type: TType;
  /** The aggregate the event belongs to. */
  readonly aggregate: AggregateRef;
  /** The aggregate version the event creates (1 or more). */
  readonly version: number;
  /** The command id (ULID). */
  readonly commandId: Ulid;
  /** The payload schema version. Default: `1`. */
  readonly schemaVersion?: number;
  /**
   * The oldest reader schema version that can read this payload. Written as the `readablefrom`
   * attribute when it is lower than `schemaVersion`. Default: `schemaVersion`.
   */
  readonly readableFrom?: number;
  /** The payload. */
  readonly data: TData;
  /** The event id. Default: a new ULID. */
  readonly eventId?: Ulid;
  /** When the event happened. Default: now. */
  readonly time?: Date | string;
  /** Correlation, causation and trace context. Default: none. */
  readonly metadata?: EventMetadata;
}

/**
 * Builds and validates an envelope. Throws {@link EnvelopeValidationError} listing every problem.
 *
 * @example
 * ```ts
 * import { createEnvelope, newCommandId } from '@tidemark/core';
 *
 * const envelope = createEnvelope({
 *   source: '/task-service',
 *   type: 'TaskCreated',
 *   aggregate: { type: 'Task', id: 't-42' },
 *   version: 1,
 *   commandId: newCommandId(),
 *   data: { name: 'Write the docs' },
 * });
 * ```
 */
export function createEnvelope<TType extends string, TData extends Record<string, unknown>>(
  input: CreateEnvelopeInput<TType, TData>,
): EventEnvelope<TType, TData> {
  assertAggregate(input.aggregate);
  const time = input.time === undefined ? new Date() : input.time;
  const candidate: Record<string, unknown> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: input.eventId ?? newEventId(),
    source: input.source,
    type: input.type,
    subject: input.aggregate.id,
    time: typeof time === 'string' ? time : time.toISOString(),
    datacontenttype: ENVELOPE_CONTENT_TYPE,
    data: input.data,
    aggregatetype: input.aggregate.type,
    aggregateid: input.aggregate.id,
    aggregateversion: input.version,
    commandid: input.commandId,
    schemaversion: input.schemaVersion ?? 1,
  };
  if (input.readableFrom !== undefined && input.readableFrom !== candidate.schemaversion) {
    candidate.readablefrom = input.readableFrom;
  }
  const metadata = input.metadata ?? {};
  if (metadata.correlationId !== undefined) candidate.correlationid = metadata.correlationId;
  if (metadata.causationId !== undefined) candidate.causationid = metadata.causationId;
  if (metadata.traceparent !== undefined) candidate.traceparent = metadata.traceparent;
  if (metadata.tracestate !== undefined) candidate.tracestate = metadata.tracestate;
  return validateEnvelope(candidate) as EventEnvelope<TType, TData>;
}

/**
 * Validates a parsed JSON value as an envelope. Throws {@link EnvelopeValidationError}.
 * A plain valid envelope is checked by hand (the same rules, the same result); anything else goes
 * through {@link envelopeSchema}, which decides and reports.
 */
export function validateEnvelope(value: unknown): EventEnvelope {
  return (
    (fastEnvelope(value, ENVELOPE_PATTERNS) as EventEnvelope | undefined) ??
    checkEnvelope(envelopeSchema, value)
  );
}

/**
 * Validates an envelope built from an event-log item that `parseEventLogItem` accepted, checking
 * only what the item's schema did not (see `itemEnvelopeRemainderSchema`), and returns it as built
 * (the same fields in the same order as {@link validateEnvelope} would give). Throws
 * {@link EnvelopeValidationError} as {@link validateEnvelope} does.
 *
 * @internal
 */
export function validateItemEnvelope(envelope: Record<string, unknown>): EventEnvelope {
  checkEnvelope(itemEnvelopeRemainderSchema, envelope);
  return envelope as unknown as EventEnvelope;
}

/** Throws {@link EnvelopeValidationError} when `value` fails `schema`; otherwise returns the parsed value. */
function checkEnvelope(schema: z.ZodType, value: unknown): EventEnvelope {
  const result = schema.safeParse(value);
  if (!result.success) {
    const context: Record<string, unknown> = {};
    if (isPlainObject(value)) {
      for (const key of ['id', 'type', 'aggregatetype', 'aggregateid', 'aggregateversion'] as const) {
        if (value[key] !== undefined) context[key] = value[key];
      }
    }
    throw new EnvelopeValidationError(toValidationIssues(result.error), context);
  }
  return result.data as EventEnvelope;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 bytes of a string as a plain `Uint8Array`. `Buffer.from` encodes small strings into Node's
 * shared pool several times faster than `TextEncoder`; the view covers exactly the string's bytes
 * (`byteOffset`/`byteLength`), which is what the AWS SDK and every reader of it use.
 */
function utf8Bytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes an envelope as UTF-8 JSON (CloudEvents structured mode). It does not validate: build
 * envelopes with {@link createEnvelope} or read them with {@link decodeEnvelope}.
 *
 * @example
 * ```ts
 * import { encodeEnvelope } from '@tidemark/core';
 * const data = encodeEnvelope(envelope); // Uint8Array
 * ```
 */
export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return utf8Bytes(JSON.stringify(envelope));
}

/**
 * Decodes and validates an envelope from bytes or text. Throws {@link EnvelopeDecodeError} when the
 * input is not UTF-8 JSON of an object, and {@link EnvelopeValidationError} when the object is not
 * a valid envelope.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from '@tidemark/core';
 * const envelope = decodeEnvelope(Buffer.from(record.kinesis.data, 'base64'));
 * ```
 */
export function decodeEnvelope(input: Uint8Array | string): EventEnvelope {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch (cause) {
      throw new EnvelopeDecodeError(
        'the data is not valid UTF-8',
        { byteLength: input.byteLength },
        { cause },
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new EnvelopeDecodeError(
      'the data is not JSON',
      { length: text.length, start: text.slice(0, 32) },
      { cause },
    );
  }
  if (!isPlainObject(value)) {
    throw new EnvelopeDecodeError('the JSON is not an object', {
      jsonType: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value,
    });
  }
  return validateEnvelope(value);
}

/** The outcome of {@link safeDecodeEnvelope}. */
export type SafeDecodeResult =
  | { readonly success: true; readonly envelope: EventEnvelope }
  | { readonly success: false; readonly error: EnvelopeDecodeError | EnvelopeValidationError };

/**
 * Like {@link decodeEnvelope}, but returns the typed error instead of throwing it.
 *
 * @example
 * ```ts
 * import { safeDecodeEnvelope } from '@tidemark/core';
 * const result = safeDecodeEnvelope(bytes);
 * if (!result.success) park(record, result.error);
 * ```
 */
export function safeDecodeEnvelope(input: Uint8Array | string): SafeDecodeResult {
  try {
    return { success: true, envelope: decodeEnvelope(input) };
  } catch (error) {
    if (error instanceof EnvelopeDecodeError || error instanceof EnvelopeValidationError) {
      return { success: false, error };
    }
    throw error;
  }
}

/** An envelope ready for PutRecords. */
export interface KinesisRecordInput {
  /** The aggregate key (`type#id`). */
  readonly partitionKey: string;
  /** The encoded envelope. */
  readonly data: Uint8Array;
  /** Bytes counted against Kinesis limits (partition key + data). */
  readonly size: number;
}

/**
 * The partition key of an envelope: its aggregate key, so one aggregate stays on one shard.
 *
 * @example
 * ```ts
 * import { envelopePartitionKey } from '@tidemark/core';
 * envelopePartitionKey(envelope); // 'Task#t-42'
 * ```
 */
export function envelopePartitionKey(envelope: EventEnvelope): string {
  return aggregateKey({ type: envelope.aggregatetype, id: envelope.aggregateid });
}

/**
 * Encodes an envelope as a Kinesis record and checks it fits: partition key + data at most 1 MiB.
 * Throws {@link RecordTooLargeError} otherwise.
 *
 * @example
 * ```ts
 * import { toKinesisRecord } from '@tidemark/core';
 * const { partitionKey, data } = toKinesisRecord(envelope);
 * ```
 */
export function toKinesisRecord(envelope: EventEnvelope): KinesisRecordInput {
  const partitionKey = envelopePartitionKey(envelope);
  const data = encodeEnvelope(envelope);
  assertFitsKinesisRecord(partitionKey, data, {
    eventId: envelope.id,
    eventType: envelope.type,
    aggregateVersion: envelope.aggregateversion,
  });
  return { partitionKey, data, size: kinesisRecordSize(partitionKey, data) };
}

/**
 * The aggregate of an envelope.
 */
export function envelopeAggregate(envelope: EventEnvelope): AggregateRef {
  return { type: envelope.aggregatetype, id: envelope.aggregateid };
}

/**
 * The metadata of an envelope in camel case.
 */
export function envelopeMetadata(envelope: EventEnvelope): EventMetadata {
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  if (envelope.correlationid !== undefined) metadata.correlationId = envelope.correlationid;
  if (envelope.causationid !== undefined) metadata.causationId = envelope.causationid;
  if (envelope.traceparent !== undefined) metadata.traceparent = envelope.traceparent;
  if (envelope.tracestate !== undefined) metadata.tracestate = envelope.tracestate;
  return metadata;
}

/** @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
