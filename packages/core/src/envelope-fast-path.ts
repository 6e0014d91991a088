/**
 * The envelope's rules checked by hand for the common case, so a valid envelope (or event-log
 * item) costs a few comparisons instead of a zod parse. Each function answers only when it is sure
 * the value passes: it returns exactly what the zod schema would return (a copy, the same fields in
 * the same order, the payload copied the way `z.record` copies it), or `undefined` for anything
 * it does not vouch for (invalid, or unusual: an extension attribute, a key named `__proto__`, an
 * optional attribute present as `undefined`, a payload that is not a plain object). The caller then
 * runs the schema, which gives the answer and the error. So the rules and the errors are the
 * schemas' alone; a differential test holds the two paths equal.
 */
import type { z } from 'zod';
import { aggregateKey } from './aggregate';
import { ULID_PATTERN } from './command-id';

/** The envelope as the fast path builds it (the caller casts it to `EventEnvelope`). */
type Checked = Record<string, unknown>;

/** A W3C traceparent (the envelope's `traceparent` attribute). */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The patterns the fast path shares with the schemas it stands in for: the ULID and traceparent
 * rules are the envelope's own; the time's is read from its zod schema (`z.iso.datetime`), so both
 * paths test the same expression.
 */
export interface FastPathPatterns {
  readonly time: RegExp | undefined;
  /** The attributes an envelope may have: the keys of its zod schema. */
  readonly keys: ReadonlySet<string>;
}

/** The regular expression of a zod string format (`z.iso.datetime()`), if it has one. */
export function patternOf(schema: z.ZodType): RegExp | undefined {
  const pattern = (schema as unknown as { _zod?: { def?: { pattern?: unknown } } })._zod?.def?.pattern;
  return pattern instanceof RegExp && !pattern.global && !pattern.sticky ? pattern : undefined;
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isPositiveInt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/**
 * A shallow copy of a payload as `z.record(z.string(), z.unknown())` makes it, when the payload is
 * a plain object with only ordinary string keys; `undefined` otherwise.
 */
function copiedPayload(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return undefined;
  }
  if (Object.hasOwn(value, 'constructor') || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === '__proto__') return undefined;
    copy[key] = source[key];
  }
  return copy;
}

/** An optional attribute: absent (`'absent'`), or present with a value `check` accepts; else `undefined`. */
function optional<T>(
  record: Record<string, unknown>,
  key: string,
  check: (value: unknown) => value is T,
): T | 'absent' | undefined {
  if (!(key in record)) return 'absent';
  const value = record[key];
  return check(value) ? value : undefined;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isTraceparent = (value: unknown): value is string =>
  typeof value === 'string' && TRACEPARENT_PATTERN.test(value);

/**
 * The envelope `envelopeSchema.parse(value)` would return, when `value` is a plain, valid
 * envelope; `undefined` when the schema must decide.
 */
export function fastEnvelope(value: unknown, patterns: FastPathPatterns): Checked | undefined {
  const time = patterns.time;
  if (time === undefined || typeof value !== 'object' || value === null || Array.isArray(value))
    return undefined;
  const envelope = value as Record<string, unknown>;
  for (const key in envelope) if (!patterns.keys.has(key)) return undefined;
  const {
    id,
    source,
    type,
    subject,
    aggregatetype,
    aggregateid,
    aggregateversion,
    commandid,
    schemaversion,
  } = envelope;
  if (
    envelope.specversion !== '1.0' ||
    typeof id !== 'string' ||
    !ULID_PATTERN.test(id) ||
    !isNonEmptyString(source) ||
    !isNonEmptyString(type) ||
    !isNonEmptyString(subject) ||
    typeof envelope.time !== 'string' ||
    !time.test(envelope.time) ||
    envelope.datacontenttype !== 'application/json' ||
    !isNonEmptyString(aggregatetype) ||
    !isNonEmptyString(aggregateid) ||
    !isPositiveInt(aggregateversion) ||
    typeof commandid !== 'string' ||
    !ULID_PATTERN.test(commandid) ||
    !isPositiveInt(schemaversion) ||
    subject !== aggregateid
  ) {
    return undefined;
  }
  const data = copiedPayload(envelope.data);
  if (data === undefined) return undefined;
  const readablefrom = optional(envelope, 'readablefrom', isPositiveInt);
  const correlationid = optional(envelope, 'correlationid', isNonEmptyString);
  const causationid = optional(envelope, 'causationid', isNonEmptyString);
  const traceparent = optional(envelope, 'traceparent', isTraceparent);
  const tracestate = optional(envelope, 'tracestate', isString);
  if (
    readablefrom === undefined ||
    correlationid === undefined ||
    causationid === undefined ||
    traceparent === undefined ||
    tracestate === undefined ||
    (readablefrom !== 'absent' && readablefrom > schemaversion)
  ) {
    return undefined;
  }
  const checked: Checked = {
    specversion: '1.0',
    id,
    source,
    type,
    subject,
    time: envelope.time,
    datacontenttype: 'application/json',
    data,
    aggregatetype,
    aggregateid,
    aggregateversion,
    commandid,
    schemaversion,
  };
  if (readablefrom !== 'absent') checked.readablefrom = readablefrom;
  if (correlationid !== 'absent') checked.correlationid = correlationid;
  if (causationid !== 'absent') checked.causationid = causationid;
  if (traceparent !== 'absent') checked.traceparent = traceparent;
  if (tracestate !== 'absent') checked.tracestate = tracestate;
  return checked;
}

/** What the fast path reads of an event-log item's metadata. */
interface CheckedMetadata {
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/**
 * The fields of an event-log item the envelope is built from, when the item passes the item's
 * schema and its envelope the rules the item's schema does not cover (ULIDs, the time's format,
 * non-empty correlation ids, the traceparent, `readableFrom` at most `schemaVersion`); `undefined`
 * when the schemas must decide. The payload is copied as the item's schema copies it.
 */
export function fastEventLogItem(
  value: unknown,
  patterns: FastPathPatterns,
):
  | {
      readonly sk: number;
      readonly aggregateType: string;
      readonly aggregateId: string;
      readonly eventId: string;
      readonly eventType: string;
      readonly schemaVersion: number;
      readonly readableFrom?: number;
      readonly commandId: string;
      readonly time: string;
      readonly source: string;
      readonly payload: Record<string, unknown>;
      readonly metadata: CheckedMetadata;
    }
  | undefined {
  const time = patterns.time;
  if (time === undefined || typeof value !== 'object' || value === null || Array.isArray(value))
    return undefined;
  const item = value as Record<string, unknown>;
  const { pk, sk, aggregateType, aggregateId, eventId, eventType, schemaVersion, commandId, source } = item;
  if (
    !isNonEmptyString(pk) ||
    !isPositiveInt(sk) ||
    !isNonEmptyString(aggregateType) ||
    !isNonEmptyString(aggregateId) ||
    typeof eventId !== 'string' ||
    !ULID_PATTERN.test(eventId) ||
    !isNonEmptyString(eventType) ||
    !isPositiveInt(schemaVersion) ||
    typeof commandId !== 'string' ||
    !ULID_PATTERN.test(commandId) ||
    typeof item.time !== 'string' ||
    !time.test(item.time) ||
    !isNonEmptyString(source)
  ) {
    return undefined;
  }
  const payload = copiedPayload(item.payload);
  if (payload === undefined) return undefined;
  const readableFrom = optional(item, 'readableFrom', isPositiveInt);
  if (readableFrom === undefined || (readableFrom !== 'absent' && readableFrom > schemaVersion))
    return undefined;
  let metadata: CheckedMetadata = {};
  if ('metadata' in item) {
    const raw = item.metadata;
    if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) {
      return undefined;
    }
    const fields = raw as Record<string, unknown>;
    const correlationId = optional(fields, 'correlationId', isNonEmptyString);
    const causationId = optional(fields, 'causationId', isNonEmptyString);
    const traceparent = optional(fields, 'traceparent', isTraceparent);
    const tracestate = optional(fields, 'tracestate', isString);
    if (
      correlationId === undefined ||
      causationId === undefined ||
      traceparent === undefined ||
      tracestate === undefined
    ) {
      return undefined;
    }
    metadata = {
      ...(correlationId === 'absent' ? {} : { correlationId }),
      ...(causationId === 'absent' ? {} : { causationId }),
      ...(traceparent === 'absent' ? {} : { traceparent }),
      ...(tracestate === 'absent' ? {} : { tracestate }),
    };
  }
  let key: string;
  try {
    key = aggregateKey({ type: aggregateType, id: aggregateId });
  } catch {
    return undefined; // the schemas report it
  }
  if (key !== pk) return undefined;
  return {
    sk,
    aggregateType,
    aggregateId,
    eventId,
    eventType,
    schemaVersion,
    ...(readableFrom === 'absent' ? {} : { readableFrom }),
    commandId,
    time: item.time,
    source,
    payload,
    metadata,
  };
}
