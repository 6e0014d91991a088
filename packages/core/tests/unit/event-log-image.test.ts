/**
 * `envelopeFromEventLogImage` (the publisher's path) checks each rule once; it must answer exactly
 * what `envelopeFromEventLogItem(parseEventLogItem(image))` answers: the same envelope, encoded to
 * the same bytes, or the same error with the same issues, for valid images and for images broken in
 * every field either schema checks.
 */
import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  EnvelopeValidationError,
  encodeEnvelope,
  envelopeFromEventLogItem,
  eventLogItemFromEnvelope,
  newCommandId,
  parseEventLogItem,
} from '../../src/index';
import { envelopeFromEventLogImage } from '../../src/internal';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const valid = (): Record<string, unknown> => ({
  ...eventLogItemFromEnvelope(
    createEnvelope({
      source: '/tasks',
      type: 'TaskCreated',
      aggregate: { type: 'Task', id: 't-1' },
      version: 3,
      commandId: newCommandId(),
      schemaVersion: 2,
      readableFrom: 1,
      data: { name: 'n', nested: { list: [1, 'two', null] } },
      metadata: { correlationId: 'c-1', causationId: 'k-1', traceparent: TRACEPARENT, tracestate: 'a=b' },
    }),
  ),
  // What the event log writes besides the event (the command's version range).
  commandFirstVersion: 3,
  commandLastVersion: 3,
});

const withMetadata = (metadata: Record<string, unknown>) => ({
  ...valid(),
  metadata: { ...(valid().metadata as object), ...metadata },
});

const CASES: readonly (readonly [string, unknown])[] = [
  ['valid, with every optional attribute', valid()],
  ['valid, without metadata or readableFrom', { ...valid(), metadata: undefined, readableFrom: undefined }],
  ['not an object', 'item'],
  ['no payload', { ...valid(), payload: undefined }],
  ['payload not a map', { ...valid(), payload: ['a'] }],
  ['pk not type#id', { ...valid(), pk: 'Task#t-2' }],
  ['sk 0', { ...valid(), sk: 0 }],
  ['sk fractional', { ...valid(), sk: 1.5 }],
  ['empty aggregate type', { ...valid(), aggregateType: '', pk: '#t-1' }],
  ['event id not a ULID', { ...valid(), eventId: 'not-a-ulid' }],
  ['event id lower case', { ...valid(), eventId: String(valid().eventId).toLowerCase() }],
  ['command id not a ULID', { ...valid(), commandId: 'c-1' }],
  ['both ids bad', { ...valid(), eventId: 'x', commandId: 'y' }],
  ['time not RFC 3339', { ...valid(), time: 'yesterday' }],
  ['time without offset', { ...valid(), time: '2026-11-30T08:00:00' }],
  ['readableFrom above schemaVersion', { ...valid(), readableFrom: 3 }],
  ['readableFrom 0', { ...valid(), readableFrom: 0 }],
  ['schemaVersion 0', { ...valid(), schemaVersion: 0 }],
  ['empty correlation id', withMetadata({ correlationId: '' })],
  ['empty causation id', withMetadata({ causationId: '' })],
  ['bad traceparent', withMetadata({ traceparent: 'not-a-traceparent' })],
  ['tracestate not a string', withMetadata({ tracestate: 7 })],
  ['bad id, bad time and readableFrom too high', { ...valid(), eventId: 'x', time: 'y', readableFrom: 9 }],
];

function outcome(read: () => unknown) {
  try {
    const envelope = read() as Parameters<typeof encodeEnvelope>[0];
    return { envelope, bytes: Array.from(encodeEnvelope(envelope)) };
  } catch (error) {
    if (!(error instanceof EnvelopeValidationError)) throw error;
    return { error: { message: error.message, issues: error.issues, context: error.context } };
  }
}

describe('envelopeFromEventLogImage', () => {
  it.each(CASES)('answers as parseEventLogItem + envelopeFromEventLogItem: %s', (_name, image) => {
    const expected = outcome(() => envelopeFromEventLogItem(parseEventLogItem(image)));
    expect(outcome(() => envelopeFromEventLogImage(image))).toEqual(expected);
  });

  it('accepts the valid cases and refuses every broken one (so the comparison above compares something)', () => {
    const accepted = CASES.filter(([, image]) => outcome(() => envelopeFromEventLogImage(image)).envelope);
    expect(accepted.map(([name]) => name)).toEqual([
      'valid, with every optional attribute',
      'valid, without metadata or readableFrom',
    ]);
  });
});
