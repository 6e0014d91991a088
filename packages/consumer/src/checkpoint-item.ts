/** The checkpoint of one (consumer, aggregate) and its item: the mark, the held index, failures, claims. */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SkippedRange } from './rules/skipped-ranges';
import { checkpointKey, type Key } from './table-keys';

/** An entry of the held-record index kept inside the checkpoint item. */
export interface HeldEntry {
  /** When the record was set aside (ISO 8601). */
  readonly heldAt: string;
  /** The record's sequence number, for logs. */
  readonly sequenceNumber: string;
  /** The event id. */
  readonly eventId: string;
  /** Items the held record takes (absent: 1). */
  readonly chunks?: number;
}

/** A handler failure being counted towards `maxAttempts`. */
export interface FailureState {
  readonly version: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly lastFailedAt: string;
}

/** The checkpoint of one (consumer, aggregate), as read or about to be written. */
export interface CheckpointState {
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
  /** Whether the item exists in the table (the condition of the next write depends on it). */
  exists: boolean;
  /** Incremented by every write: the conditional writes compare it. */
  revision: number;
  /** The high-water mark: every version at or below it is done (applied, skipped or parked). */
  version: number;
  /** The command id of the event at `version` (absent when a gap expiry moved `version`). */
  commandId?: string;
  /** The event id of the event at `version`. */
  eventId?: string;
  /** The held-record index: versions set aside because an earlier one is missing. */
  held: Map<number, HeldEntry>;
  /** The failing event's attempts, while it fails. */
  failure?: FailureState;
  /** Versions parked and not yet redriven (a redrive applies them once). */
  parked: Set<number>;
  /** Versions skipped without being applied (expired gaps, a mid-stream start), remembered. */
  skipped: SkippedRange[];
  /**
   * Set while one invocation (a batch or a gap sweep) runs this aggregate's held records: others
   * leave the aggregate alone until `until` (ISO 8601), so their handler calls never interleave.
   */
  claim?: { readonly owner: string; readonly until: string };
  /** Set by each write; a write that lands but whose answer is lost is recognised by it. */
  writeId?: string;
  updatedAt?: string;
}

export function emptyCheckpoint(
  aggregateKey: string,
  aggregate: { type: string; id: string },
): CheckpointState {
  return {
    aggregateKey,
    aggregate,
    exists: false,
    revision: 0,
    version: 0,
    held: new Map(),
    parked: new Set(),
    skipped: [],
  };
}

export function cloneCheckpoint(state: CheckpointState): CheckpointState {
  return { ...state, held: new Map(state.held), parked: new Set(state.parked), skipped: [...state.skipped] };
}

export function checkpointToItem(consumer: string, state: CheckpointState): Key {
  const held: Record<string, HeldEntry> = {};
  for (const [version, entry] of state.held) held[String(version)] = entry;
  return {
    ...checkpointKey(consumer, state.aggregateKey),
    ...marshall(
      {
        kind: 'checkpoint',
        consumer,
        aggregateType: state.aggregate.type,
        aggregateId: state.aggregate.id,
        revision: state.revision,
        version: state.version,
        commandId: state.commandId,
        eventId: state.eventId,
        held: state.held.size > 0 ? held : undefined,
        failure: state.failure,
        parked: state.parked.size > 0 ? new Set(state.parked) : undefined,
        skipped: state.skipped.length > 0 ? state.skipped.map((range) => ({ ...range })) : undefined,
        claim: state.claim,
        writeId: state.writeId,
        updatedAt: state.updatedAt,
      },
      { removeUndefinedValues: true },
    ),
  };
}

export function checkpointFromItem(aggregateKey: string, item: Key): CheckpointState {
  const raw = unmarshall(item) as {
    aggregateType: string;
    aggregateId: string;
    revision: number;
    version: number;
    commandId?: string;
    eventId?: string;
    held?: Record<string, HeldEntry>;
    failure?: FailureState;
    parked?: Set<number>;
    skipped?: SkippedRange[];
    claim?: { owner: string; until: string };
    writeId?: string;
    updatedAt?: string;
  };
  const held = new Map<number, HeldEntry>();
  for (const [version, entry] of Object.entries(raw.held ?? {})) held.set(Number(version), entry);
  const state: CheckpointState = {
    aggregateKey,
    aggregate: { type: raw.aggregateType, id: raw.aggregateId },
    exists: true,
    revision: Number(raw.revision),
    version: Number(raw.version),
    held,
    parked: new Set([...(raw.parked ?? [])].map(Number)),
    skipped: (raw.skipped ?? []).map((range) => ({
      from: Number(range.from),
      to: Number(range.to),
      cause: range.cause,
    })),
  };
  if (raw.commandId !== undefined) state.commandId = raw.commandId;
  if (raw.eventId !== undefined) state.eventId = raw.eventId;
  if (raw.failure !== undefined) {
    state.failure = {
      ...raw.failure,
      version: Number(raw.failure.version),
      attempts: Number(raw.failure.attempts),
    };
  }
  if (raw.claim !== undefined) state.claim = { owner: raw.claim.owner, until: raw.claim.until };
  if (raw.writeId !== undefined) state.writeId = raw.writeId;
  if (raw.updatedAt !== undefined) state.updatedAt = raw.updatedAt;
  return state;
}
