/**
 * What `append` takes, and its validation before any read or write: the aggregate, command id and
 * expected version, and every event checked against the catalog and against what DynamoDB stores
 * unchanged. A refused command throws here, so nothing is written.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type AggregateRef,
  type AnyEventCatalog,
  aggregateKey,
  type EventInput,
  type EventMetadata,
  parseCommandId,
  type Ulid,
  UnknownEventTypeError,
  type ValidationIssue,
} from '@tidemark/core';
import { toValidationIssues } from '@tidemark/core/internal';
import { AppendValidationError, TooManyEventsError } from './errors';
import { appendInputShapeIssues } from './event-log-options';
import { MAX_EVENTS_PER_COMMAND } from './limits';
import { firstDifference, isWellFormed, payloadIssues } from './storage';

/** What `append` writes. */
export interface AppendInput<C extends AnyEventCatalog> {
  /** The aggregate the events belong to. */
  readonly aggregate: AggregateRef;
  /**
   * The command id (a ULID): must be greater than the aggregate's last command id, unless it is a
   * retry of a command already appended (then nothing is appended and the first outcome returned).
   */
  readonly commandId: Ulid;
  /** The events, 1 to {@link MAX_EVENTS_PER_COMMAND}, typed and validated against the catalog. */
  readonly events: readonly EventInput<C>[];
  /**
   * The version the caller's decision was based on (0 for a new aggregate): if the aggregate is at
   * another version, `append` throws `ConcurrencyError` without writing. Default: none (append
   * after whatever the head is; concurrent writers are still serialized by the conditional write).
   */
  readonly expectedVersion?: number;
  /** Correlation, causation and trace context stored with every event. Default: none. */
  readonly metadata?: EventMetadata;
}

/** An event that passed validation: its payload as DynamoDB will give it back. */
export interface PreparedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  /** The oldest reader schema version the definition declares; written as `readablefrom`. */
  readonly readableFrom: number | undefined;
  readonly data: Record<string, unknown>;
}

/** A command that passed validation. */
export interface PreparedCommand {
  /** The aggregate, without any extra property of the caller's object. */
  readonly aggregate: AggregateRef;
  /** The aggregate key (`type#id`). */
  readonly pk: string;
  /** The command id (canonical upper-case ULID). */
  readonly commandId: Ulid;
  readonly expectedVersion: number | undefined;
  readonly metadata: EventMetadata | undefined;
  readonly events: readonly PreparedEvent[];
}

/**
 * Validates an `append` input against `catalog`. Throws `AppendValidationError` (every issue at
 * once), `TooManyEventsError`, `UnknownEventTypeError`, `InvalidAggregateError` or
 * `InvalidCommandIdError`.
 */
export function prepareCommand<C extends AnyEventCatalog>(
  catalog: C,
  input: AppendInput<C>,
): PreparedCommand {
  const shapeIssues = appendInputShapeIssues(input);
  if (shapeIssues.length > 0) throw new AppendValidationError(shapeIssues);
  const unicodeIssues = identityIssues(input);
  const pk = aggregateKey(input.aggregate);
  if (unicodeIssues.length > 0) throw new AppendValidationError(unicodeIssues, { aggregateKey: pk });
  const aggregate = { type: input.aggregate.type, id: input.aggregate.id };
  const commandId = parseCommandId(input.commandId);
  if (input.expectedVersion !== undefined) {
    if (!Number.isSafeInteger(input.expectedVersion) || input.expectedVersion < 0) {
      throw new AppendValidationError(
        [{ path: 'expectedVersion', message: 'must be an integer of 0 or more', code: 'invalid_type' }],
        { aggregateKey: pk },
      );
    }
  }
  const events = prepareEvents(catalog, input, pk);
  return {
    aggregate,
    pk,
    commandId,
    expectedVersion: input.expectedVersion,
    metadata: input.metadata,
    events,
  };
}

function prepareEvents<C extends AnyEventCatalog>(
  catalog: C,
  input: AppendInput<C>,
  pk: string,
): PreparedEvent[] {
  if (!Array.isArray(input.events)) {
    throw new AppendValidationError([{ path: 'events', message: 'must be an array', code: 'invalid_type' }], {
      aggregateKey: pk,
    });
  }
  if (input.events.length === 0) {
    throw new AppendValidationError(
      [{ path: 'events', message: 'a command appends at least one event', code: 'too_small' }],
      { aggregateKey: pk },
    );
  }
  if (input.events.length > MAX_EVENTS_PER_COMMAND) {
    throw new TooManyEventsError({
      aggregateKey: pk,
      count: input.events.length,
      limit: MAX_EVENTS_PER_COMMAND,
    });
  }
  const issues: ValidationIssue[] = [];
  const prepared: PreparedEvent[] = [];
  input.events.forEach((event, index) => {
    const path = `events[${index}]`;
    const type = (event as { type?: unknown } | undefined)?.type;
    if (typeof type !== 'string') {
      issues.push({ path: `${path}.type`, message: 'must be an event type name', code: 'invalid_type' });
      return;
    }
    const definition = catalog.find(type);
    if (!definition) throw new UnknownEventTypeError(type, catalog.types);
    if (definition.aggregateType !== undefined && definition.aggregateType !== input.aggregate.type) {
      issues.push({
        path: `${path}.type`,
        message: `${type} belongs to aggregate type ${definition.aggregateType}, not ${input.aggregate.type}`,
        code: 'custom',
      });
      return;
    }
    const parsed = definition.schema.safeParse(event.data);
    if (!parsed.success) {
      issues.push(...toValidationIssues(parsed.error, `${path}.data`));
      return;
    }
    const given = parsed.data as Record<string, unknown>;
    const storageIssues = payloadIssues(given, `${path}.data`);
    if (storageIssues.length > 0) {
      issues.push(...storageIssues);
      return;
    }
    // The safety net: what DynamoDB gives back must be what was given, whatever rule was missed.
    const data = unmarshall(
      marshall(given, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
    ) as Record<string, unknown>;
    const changed = firstDifference(given, data, `${path}.data`);
    if (changed !== undefined) {
      issues.push({ path: changed, message: 'would not be stored unchanged', code: 'not_storable' });
      return;
    }
    // Consumers parse the stored payload with the same schema: refuse one they could not read.
    const reparsed = definition.schema.safeParse(JSON.parse(JSON.stringify(data)));
    if (!reparsed.success) {
      issues.push({
        path: `${path}.data`,
        message: `the payload after parsing does not validate again as ${type} (a transform that is not idempotent?): ${reparsed.error.issues[0]?.message ?? ''}`,
        code: 'not_idempotent',
      });
      return;
    }
    prepared.push({
      type,
      schemaVersion: definition.schemaVersion,
      readableFrom: definition.readableFrom,
      data,
    });
  });
  if (issues.length > 0) throw new AppendValidationError(issues, { aggregateKey: pk });
  return prepared;
}

/** Refusals of strings DynamoDB and Kinesis cannot hold as given (lone UTF-16 surrogates). */
function identityIssues(input: { aggregate?: AggregateRef; metadata?: EventMetadata }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const check = (path: string, value: unknown) => {
    if (typeof value === 'string' && !isWellFormed(value)) {
      issues.push({
        path,
        message:
          'contains a lone UTF-16 surrogate (not well-formed Unicode): DynamoDB would store another string, and different ids would share one key',
        code: 'not_storable',
      });
    }
  };
  check('aggregate.type', input.aggregate?.type);
  check('aggregate.id', input.aggregate?.id);
  for (const [key, value] of Object.entries(input.metadata ?? {})) check(`metadata.${key}`, value);
  return issues;
}
