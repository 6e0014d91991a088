/**
 * Errors thrown by `@tidemark/core`. Every error is a {@link TidemarkError}: it has a stable `code`,
 * a `context` object with the values that explain it, and the underlying `cause` when there is one.
 */

/** Options accepted by every Tidemark error: the standard `cause`, and context for diagnostics. */
export interface TidemarkErrorOptions extends ErrorOptions {
  /** Values that explain the error (ids, sizes, limits). Never contains payloads. Default: `{}`. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * The base class of every error thrown by a Tidemark package.
 *
 * @example
 * ```ts
 * import { TidemarkError } from '@tidemark/core';
 *
 * try {
 *   decodeEnvelope(bytes);
 * } catch (error) {
 *   if (error instanceof TidemarkError) console.error(error.code, error.context);
 *   throw error;
 * }
 * ```
 */
export class TidemarkError extends Error {
  /** A stable machine-readable code, e.g. `ENVELOPE_INVALID`. */
  readonly code: string;
  /** Values that explain the error. */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: TidemarkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.context = Object.freeze({ ...(options.context ?? {}) });
  }
}

/** A string is not a valid ULID command id (or event id). */
export class InvalidCommandIdError extends TidemarkError {
  constructor(value: unknown, reason: string, options: ErrorOptions = {}) {
    super('COMMAND_ID_INVALID', `Invalid command id ${describeValue(value)}: ${reason}`, {
      ...options,
      context: { value: typeof value === 'string' ? value.slice(0, 64) : typeof value, reason },
    });
    this.name = 'InvalidCommandIdError';
  }
}

/** An aggregate reference (type + id) is malformed. */
export class InvalidAggregateError extends TidemarkError {
  constructor(message: string, context: Record<string, unknown>) {
    super('AGGREGATE_INVALID', message, { context });
    this.name = 'InvalidAggregateError';
  }
}

/** One problem found while validating a value against a schema. */
export interface ValidationIssue {
  /** Where the problem is, as a dotted path (`data.name`, `aggregateversion`); `''` for the root. */
  readonly path: string;
  /** What is wrong, for humans. */
  readonly message: string;
  /** The zod issue code, e.g. `invalid_type`. */
  readonly code: string;
}

/** Bytes could not be read as an envelope at all: not UTF-8, not JSON, or not a JSON object. */
export class EnvelopeDecodeError extends TidemarkError {
  constructor(reason: string, context: Record<string, unknown>, options: ErrorOptions = {}) {
    super('ENVELOPE_UNDECODABLE', `Cannot decode event envelope: ${reason}`, { ...options, context });
    this.name = 'EnvelopeDecodeError';
  }
}

/** A JSON object is not a valid Tidemark envelope (CloudEvents 1.0 with Tidemark extensions). */
export class EnvelopeValidationError extends TidemarkError {
  /** Every problem found, not only the first. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], context: Record<string, unknown> = {}) {
    super('ENVELOPE_INVALID', `Invalid event envelope: ${formatIssues(issues)}`, {
      context: { ...context, issues },
    });
    this.name = 'EnvelopeValidationError';
    this.issues = issues;
  }
}

/** An event payload does not satisfy its event definition's schema. */
export class PayloadValidationError extends TidemarkError {
  /** Every problem found in the payload. */
  readonly issues: readonly ValidationIssue[];

  constructor(eventType: string, schemaVersion: number, issues: readonly ValidationIssue[]) {
    super(
      'PAYLOAD_INVALID',
      `Invalid payload for event ${eventType} (schema version ${schemaVersion}): ${formatIssues(issues)}`,
      { context: { eventType, schemaVersion, issues } },
    );
    this.name = 'PayloadValidationError';
    this.issues = issues;
  }
}

/** The event type is not part of the catalog being used. */
export class UnknownEventTypeError extends TidemarkError {
  constructor(eventType: string, knownTypes: readonly string[]) {
    super(
      'EVENT_TYPE_UNKNOWN',
      `Unknown event type "${eventType}"; this catalog knows ${knownTypes.map((t) => `"${t}"`).join(', ') || 'no types'}`,
      { context: { eventType, knownTypes } },
    );
    this.name = 'UnknownEventTypeError';
  }
}

/** What {@link UnsupportedSchemaVersionError} can carry beyond its message. */
export interface UnsupportedSchemaVersionOptions extends ErrorOptions {
  /**
   * The oldest reader schema version the producer declared for the event (its `readablefrom`
   * attribute), when the event is newer than the definition. Default: none.
   */
  readonly readableFrom?: number;
}

/**
 * An event carries a schema version this definition cannot read: it is newer and the producer did
 * not declare it readable by this definition's version (or the definition refuses its payload).
 * Deploying a definition at the event's schema version (or later) reads it.
 */
export class UnsupportedSchemaVersionError extends TidemarkError {
  /** The schema version the event was written with. */
  readonly schemaVersion: number;
  /** The schema version of the definition that tried to read it. */
  readonly supportedSchemaVersion: number;

  constructor(
    eventType: string,
    schemaVersion: number,
    supported: number,
    reason: string,
    options: UnsupportedSchemaVersionOptions = {},
  ) {
    const { readableFrom, ...errorOptions } = options;
    super(
      'SCHEMA_VERSION_UNSUPPORTED',
      `Event ${eventType} has schema version ${schemaVersion}, which this definition (version ${supported}) cannot read: ${reason}`,
      {
        ...errorOptions,
        context: {
          eventType,
          schemaVersion,
          supportedSchemaVersion: supported,
          ...(readableFrom === undefined ? {} : { readableFrom }),
        },
      },
    );
    this.name = 'UnsupportedSchemaVersionError';
    this.schemaVersion = schemaVersion;
    this.supportedSchemaVersion = supported;
  }
}

/** A definition's `upcast` threw while turning an older payload into input for the current schema. */
export class UpcastError extends TidemarkError {
  constructor(eventType: string, fromSchemaVersion: number, toSchemaVersion: number, cause: unknown) {
    super(
      'UPCAST_FAILED',
      `The upcast of event ${eventType} from schema version ${fromSchemaVersion} to ${toSchemaVersion} threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, context: { eventType, fromSchemaVersion, toSchemaVersion } },
    );
    this.name = 'UpcastError';
  }
}

/** An event would not fit in one Kinesis record (or a DynamoDB item), so it must not be written. */
export class RecordTooLargeError extends TidemarkError {
  /** The size in bytes the record would have. */
  readonly size: number;
  /** The limit it exceeds, in bytes. */
  readonly limit: number;

  constructor(what: string, size: number, limit: number, context: Record<string, unknown> = {}) {
    super('RECORD_TOO_LARGE', `${what} is ${size} bytes, over the limit of ${limit} bytes`, {
      context: { ...context, size, limit },
    });
    this.name = 'RecordTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** An event definition or catalog is declared wrongly (duplicate type, bad version). */
export class EventDefinitionError extends TidemarkError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('EVENT_DEFINITION_INVALID', message, { context });
    this.name = 'EventDefinitionError';
  }
}

/** A catalog snapshot file is not a snapshot this version of Tidemark can read. */
export class CatalogSnapshotError extends TidemarkError {
  /** Every problem found. */
  readonly issues: readonly ValidationIssue[];

  constructor(
    issues: readonly ValidationIssue[],
    context: Record<string, unknown> = {},
    options: ErrorOptions = {},
  ) {
    super('CATALOG_SNAPSHOT_INVALID', `Invalid catalog snapshot: ${formatIssues(issues)}`, {
      ...options,
      context: { ...context, issues },
    });
    this.name = 'CatalogSnapshotError';
    this.issues = issues;
  }
}

/** One reason a catalog cannot ship as it is (see `checkCatalogCompatibility`). */
export interface CatalogProblemSummary {
  /** The event type. */
  readonly eventType: string;
  /** The field, as a dotted path in the payload; `''` for the whole event. */
  readonly field: string;
  /** The full explanation. */
  readonly message: string;
}

/** A catalog changed incompatibly against its snapshot, or the snapshot is out of date. */
export class CatalogCompatibilityError extends TidemarkError {
  /** Every problem found; empty when only the snapshot is out of date. */
  readonly problems: readonly CatalogProblemSummary[];

  constructor(problems: readonly CatalogProblemSummary[], outdated: boolean) {
    const lines = problems.map((problem) => `- ${problem.message}`);
    if (outdated && problems.length === 0) {
      lines.push(
        '- the catalog changed compatibly but its snapshot is out of date: update the snapshot (tidemark-catalog update) and commit it',
      );
    }
    super('CATALOG_INCOMPATIBLE', `The event catalog does not match its snapshot:\n${lines.join('\n')}`, {
      context: { problems, outdated },
    });
    this.name = 'CatalogCompatibilityError';
    this.problems = problems;
  }
}

/** What a {@link ConfigurationError} carries beyond its message. */
export interface ConfigurationErrorOptions extends TidemarkErrorOptions {
  /** The function whose options are wrong, e.g. `createConsumer`. Default: none. */
  readonly factory?: string;
  /** The dotted path of the bad option, e.g. `checkpoints.tableName`; `''` for the options object itself. Default: none. */
  readonly option?: string;
  /** A short, payload-free summary of the value received, e.g. `"ab"` or `a function`. Default: none. */
  readonly received?: string;
  /** Every problem found, not only the first. Default: `[]`. */
  readonly issues?: readonly ValidationIssue[];
}

/**
 * Options or configuration are wrong: an unknown option, a value of the wrong type or out of range,
 * a missing region or a malformed endpoint URL. Every Tidemark factory throws it for every bad
 * option, naming the factory, the option and what was expected, so a typo fails at cold start.
 *
 * @example
 * ```ts
 * import { ConfigurationError } from '@tidemark/core';
 *
 * try {
 *   createConsumer({ ...options, maxAtempts: 5 });
 * } catch (error) {
 *   if (error instanceof ConfigurationError) console.error(error.factory, error.option, error.message);
 *   throw error;
 * }
 * ```
 */
export class ConfigurationError extends TidemarkError {
  /** The function whose options are wrong, e.g. `createConsumer`; `undefined` when not an option of a factory. */
  readonly factory: string | undefined;
  /** The dotted path of the bad option (`checkpoints.tableName`); `''` for the options object itself. */
  readonly option: string | undefined;
  /** A short, payload-free summary of the value received. */
  readonly received: string | undefined;
  /** Every problem found (the message names the first). */
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, options: ConfigurationErrorOptions = {}) {
    const { factory, option, received, issues = [], context = {}, ...errorOptions } = options;
    super('CONFIGURATION_INVALID', message, {
      ...errorOptions,
      context: {
        ...context,
        ...(factory === undefined ? {} : { factory }),
        ...(option === undefined ? {} : { option }),
        ...(received === undefined ? {} : { received }),
        ...(issues.length === 0 ? {} : { issues }),
      },
    });
    this.name = 'ConfigurationError';
    this.factory = factory;
    this.option = option;
    this.received = received;
    this.issues = issues;
  }
}

/** Formats issues as `path: message; path: message` for error messages. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return `of type ${value === null ? 'null' : typeof value}`;
}
