/**
 * Envelope factories for unit tests: a valid envelope with test defaults, or an aggregate's history.
 */
import { type CreateEnvelopeInput, createEnvelope, type EventEnvelope, newCommandId } from '@tidemark/core';
import { EventSourceConfigurationError } from '../errors';
import { assertKnownKeys } from '../event-source/options';

const ENVELOPE_KEYS = [
  'source',
  'type',
  'aggregate',
  'version',
  'commandId',
  'schemaVersion',
  'data',
  'eventId',
  'time',
  'metadata',
];
/** What {@link buildEnvelope} takes: any field of `createEnvelope`'s input. */
export type BuildEnvelopeOverrides<TType extends string = string, TData = Record<string, unknown>> = Partial<
  CreateEnvelopeInput<TType, TData>
>;

/**
 * A valid envelope with sensible defaults: source `/tidemark-tests`, type `TestEventHappened`,
 * aggregate `Test#test-1`, version 1, a new command id, empty data. Any field can be overridden;
 * the result is validated by core's `createEnvelope`.
 *
 * @example
 * ```ts
 * import { buildEnvelope } from '@tidemark/testing';
 *
 * const envelope = buildEnvelope({ type: 'TaskCreated', aggregate: { type: 'Task', id: 't-1' }, data: { name: 'x' } });
 * ```
 */
export function buildEnvelope<
  TType extends string = string,
  TData extends Record<string, unknown> = Record<string, unknown>,
>(overrides: BuildEnvelopeOverrides<TType, TData> = {}): EventEnvelope<TType, TData> {
  assertKnownKeys('buildEnvelope', overrides, ENVELOPE_KEYS);
  return createEnvelope<TType, TData>({
    source: '/tidemark-tests',
    type: 'TestEventHappened' as TType,
    aggregate: { type: 'Test', id: 'test-1' },
    version: 1,
    commandId: newCommandId(),
    data: {} as TData,
    ...overrides,
  });
}

/**
 * `count` envelopes of one aggregate with contiguous versions (from `overrides.version`, default 1)
 * and strictly increasing command ids: the history of an aggregate as the event log holds it.
 *
 * @example
 * ```ts
 * import { buildEnvelopes } from '@tidemark/testing';
 *
 * const [v1, v2, v3] = buildEnvelopes(3, { aggregate: { type: 'Task', id: 't-1' } });
 * ```
 */
export function buildEnvelopes<
  TType extends string = string,
  TData extends Record<string, unknown> = Record<string, unknown>,
>(
  count: number,
  overrides: Omit<BuildEnvelopeOverrides<TType, TData>, 'commandId' | 'eventId'> = {},
): EventEnvelope<TType, TData>[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new EventSourceConfigurationError('count must be a non-negative integer', { count });
  }
  const first = overrides.version ?? 1;
  return Array.from({ length: count }, (_, index) =>
    buildEnvelope<TType, TData>({ ...overrides, version: first + index }),
  );
}
