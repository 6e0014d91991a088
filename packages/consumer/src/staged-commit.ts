/**
 * Transactional mode: the staged writes of one aggregate's events in a batch, and how they are cut
 * into TransactWriteItems requests. Every request carries the checkpoint, advanced to the last
 * event it holds and conditional on the revision the previous one wrote, so each one keeps the
 * exactly-once guarantee alone. A request is cut only where DynamoDB forces it: 100 actions, 4 MB
 * (counted as `@tidemark/core/internal` counts it), and no item touched twice in one request.
 */
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_MAX_ITEM_BYTES } from '@tidemark/core';
import {
  MAX_TRANSACTION_BYTES,
  TRANSACTION_SIZE_MARGIN_BYTES,
  transactionItemSize,
} from '@tidemark/core/internal';
import type { Candidate } from './candidate';
import type { CheckpointState } from './checkpoint-item';
import { cancellationReasons, isWaitableFailure } from './rules/failure-kind';
import { MAX_STAGED_WRITES } from './transaction';

/** One event whose handler staged writes that are not committed yet. */
export interface StagedEvent {
  readonly candidate: Candidate;
  /** The attempt its handler ran as (a refusal of its writes counts against it). */
  readonly attempt: number;
  readonly items: readonly TransactWriteItem[];
  /** Its writes' size as counted against the 4 MB limit. */
  readonly bytes: number;
  /** The checkpoint draft just before the event was marked done, and just after. */
  readonly before: CheckpointState;
  readonly after: CheckpointState;
  /** The draft's pending batch records before and after it was marked done (positions). */
  readonly pendingBefore: number;
  readonly pendingAfter: number;
  /** A dead letter that is stale once this event's writes are durable. */
  readonly staleDeadLetter?: string;
  /** Commit it in a request of its own (its writes were refused in a shared one). */
  alone?: boolean;
}

/**
 * The actions of one request left to staged writes: the checkpoint is the 100th (an open-gap entry
 * that must change with it and finds no room goes in the next write).
 */
export const MAX_STAGED_ACTIONS_PER_REQUEST = MAX_STAGED_WRITES;

/**
 * The bytes of one request left to staged writes: 4 MB less the planning margin, less room for the
 * checkpoint (an item of at most 400 KB) and the open-gap entry.
 */
export const MAX_STAGED_BYTES_PER_REQUEST =
  MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES - DYNAMODB_MAX_ITEM_BYTES - 4 * 1024;

/** The size of staged writes as counted against the 4 MB limit. */
export function stagedBytes(items: readonly TransactWriteItem[]): number {
  let bytes = 0;
  for (const item of items) bytes += transactionItemSize(item);
  return bytes;
}

/**
 * What the consumer knows of the tables handlers write to, for as long as it lives: each table's key
 * attribute names (learned from the `Key` of any `Update`, `Delete` or `ConditionCheck` staged on it,
 * so a `Put`'s item can be told apart), and the tables where two `Put`s of one request were refused
 * as the same item although their key was unknown (there, a `Put` never shares a request with
 * another write to its table).
 */
export class TableKeys {
  readonly #names = new Map<string, readonly string[]>();
  readonly #putClashes = new Set<string>();

  /** Learns key attribute names from staged writes that carry a `Key`. */
  learn(items: readonly TransactWriteItem[]): void {
    for (const item of items) {
      const keyed = item.Update ?? item.Delete ?? item.ConditionCheck;
      if (keyed?.TableName === undefined || keyed.Key === undefined) continue;
      if (!this.#names.has(keyed.TableName)) this.#names.set(keyed.TableName, Object.keys(keyed.Key).sort());
    }
  }

  /** Remembers that `Put`s to these tables collided in one request. */
  putsClashedOn(tables: Iterable<string>): boolean {
    let learned = false;
    for (const table of tables) {
      if (this.#names.has(table) || this.#putClashes.has(table)) continue;
      this.#putClashes.add(table);
      learned = true;
    }
    return learned;
  }

  /** Whether a `Put` to this table must not share a request with another write to it. */
  putsClash(table: string): boolean {
    return this.#putClashes.has(table);
  }

  /** The item a staged write touches (table and key), or `undefined` when its key is unknown. */
  identity(item: TransactWriteItem): string | undefined {
    const action = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
    const table = action?.TableName;
    if (table === undefined) return undefined;
    let key: Record<string, AttributeValue> | undefined;
    if (item.Put) {
      const names = this.#names.get(table);
      if (names === undefined || item.Put.Item === undefined) return undefined;
      key = {};
      for (const name of names) {
        const value = item.Put.Item[name];
        if (value === undefined) return undefined;
        key[name] = value;
      }
    } else {
      key = (action as { Key?: Record<string, AttributeValue> }).Key;
    }
    if (key === undefined) return undefined;
    let text = table;
    for (const name of Object.keys(key).sort()) text += `\u0000${name}\u0000${valueText(key[name]!)}`;
    return text;
  }
}

function valueText(value: AttributeValue): string {
  if (value.S !== undefined) return `S${value.S}`;
  if (value.N !== undefined) return `N${value.N}`;
  if (value.B !== undefined) return `B${Buffer.from(value.B).toString('base64')}`;
  return `?${JSON.stringify(value)}`;
}

function tableOf(item: TransactWriteItem): string | undefined {
  return (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck)?.TableName;
}

/**
 * The first request to send for these staged events (in order): as many events as fit within the
 * limits, never two writes to one item (where known), and an event marked `alone` on its own. The
 * first event always goes, even alone past a limit (DynamoDB then refuses it, and that counts
 * against that event as it would have alone).
 */
export function firstRequest(events: readonly StagedEvent[], keys: TableKeys): StagedEvent[] {
  const part: StagedEvent[] = [];
  let actions = 0;
  let bytes = 0;
  const touched = new Set<string>();
  const tables = new Set<string>();
  const putTables = new Set<string>();
  for (const event of events) {
    if (part.length > 0) {
      if (event.alone || part[0]!.alone) break;
      if (actions + event.items.length > MAX_STAGED_ACTIONS_PER_REQUEST) break;
      if (bytes + event.bytes > MAX_STAGED_BYTES_PER_REQUEST) break;
      if (clashes(event, keys, touched, tables, putTables)) break;
    }
    part.push(event);
    actions += event.items.length;
    bytes += event.bytes;
    for (const item of event.items) {
      const identity = keys.identity(item);
      if (identity !== undefined) touched.add(identity);
      const table = tableOf(item);
      if (table === undefined) continue;
      tables.add(table);
      if (item.Put) putTables.add(table);
    }
  }
  return part;
}

function clashes(
  event: StagedEvent,
  keys: TableKeys,
  touched: ReadonlySet<string>,
  tables: ReadonlySet<string>,
  putTables: ReadonlySet<string>,
): boolean {
  for (const item of event.items) {
    const identity = keys.identity(item);
    if (identity !== undefined && touched.has(identity)) return true;
    const table = tableOf(item);
    if (table === undefined || !keys.putsClash(table)) continue;
    if (putTables.has(table) || (item.Put !== undefined && tables.has(table))) return true;
  }
  return false;
}

/** Why DynamoDB refused one request of staged writes and the checkpoint. */
export type Refusal =
  /** Another invocation changed the checkpoint: nothing of the request was applied. */
  | { readonly kind: 'concurrent'; readonly revision: number | undefined }
  /** It passes by waiting (throttling, conflicts, server or network errors). */
  | { readonly kind: 'waitable' }
  /** One event's writes were refused (a failed condition, an invalid item). */
  | {
      readonly kind: 'event';
      readonly event: StagedEvent;
      readonly reasons: readonly { code: string; message?: string }[] | undefined;
    }
  /** The request as a whole was refused, and it cannot say whose writes caused it. */
  | { readonly kind: 'request'; readonly sameItem: boolean };

/**
 * Reads a refusal of a request holding `part`'s writes, then the checkpoint (at index
 * `checkpointIndex`), then perhaps the open-gap entry.
 */
export function readRefusal(error: unknown, part: readonly StagedEvent[], checkpointIndex: number): Refusal {
  const reasons = cancellationReasons(error);
  if (reasons) {
    const checkpoint = reasons[checkpointIndex];
    if (checkpoint?.code === 'ConditionalCheckFailed')
      return { kind: 'concurrent', revision: checkpoint.revision };
    if (isWaitableFailure(error)) return { kind: 'waitable' };
    let start = 0;
    for (const event of part) {
      const own = reasons.slice(start, start + event.items.length);
      if (own.some((reason) => reason.code !== 'None')) {
        return {
          kind: 'event',
          event,
          reasons: own.map(({ code, message }) => ({ code, ...(message ? { message } : {}) })),
        };
      }
      start += event.items.length;
    }
    if (part.length > 1) return { kind: 'request', sameItem: false };
    const own = reasons.slice(0, part[0]!.items.length);
    return {
      kind: 'event',
      event: part[0]!,
      reasons: own.map(({ code, message }) => ({ code, ...(message ? { message } : {}) })),
    };
  }
  if (isWaitableFailure(error)) return { kind: 'waitable' };
  if (part.length === 1) return { kind: 'event', event: part[0]!, reasons: undefined };
  const message = String((error as { message?: unknown })?.message ?? '');
  return { kind: 'request', sameItem: /multiple operations on one item/i.test(message) };
}

/** The tables a `Put` of these events writes to. */
export function putTables(events: readonly StagedEvent[]): Set<string> {
  const tables = new Set<string>();
  for (const event of events) {
    for (const item of event.items) if (item.Put?.TableName !== undefined) tables.add(item.Put.TableName);
  }
  return tables;
}
