/** `createConsumer`: the Lambda handler for Kinesis events, with the dead-letter API beside it. */
import type { AnyEventCatalog } from '@tidemark/core';
import { ConsumerEngine } from './engine';
import { resolveConsumerOptions } from './options';
import type {
  ConsumerOptions,
  DeadLetter,
  DeadLetterPage,
  GapSweepResult,
  KinesisBatchResponse,
  KinesisEvent,
  LambdaContextLike,
  OpenGap,
  RedriveResult,
} from './types';

const ENGINE = Symbol.for('@tidemark/consumer.engine');

/** The dead letters of one consumer, with redrive (which needs the consumer's handlers). */
export interface ConsumerDeadLetters {
  /**
   * Lists parked records, a page at a time, in id order.
   * @param options `limit` (1-1000, default 50) and the `cursor` of the previous page.
   */
  list(options?: { readonly limit?: number; readonly cursor?: string }): Promise<DeadLetterPage>;
  /** Reads one; throws `DeadLetterNotFoundError` when there is none. */
  get(id: string): Promise<DeadLetter>;
  /** Deletes one; throws `DeadLetterNotFoundError` when there is none. */
  delete(id: string): Promise<void>;
  /**
   * Re-runs a parked record through the handlers with the same idempotency rules (a parked
   * version applies once), then deletes it; if it fails again it stays parked with the new reason.
   */
  redrive(id: string): Promise<RedriveResult>;
}

/** The open gaps of one consumer: aggregates holding records because an earlier version is missing. */
export interface ConsumerGaps {
  /** Lists them (from the open-gap index, one Query per page). */
  list(): Promise<OpenGap[]>;
  /**
   * Evaluates each as if a record of its aggregate had arrived: a gap open for `gapTimeoutSeconds`
   * is parked (`gap-expired`), skipped over, and its held events applied. Run it on a schedule
   * (an EventBridge rule calling a small Lambda) so gaps of aggregates without further traffic
   * are reported too.
   */
  expire(context?: LambdaContextLike): Promise<GapSweepResult>;
}

/** What {@link createConsumer} returns: a Lambda handler for Kinesis events, with its dead letters. */
export interface Consumer {
  /** Handles one batch; returns `batchItemFailures` (set `ReportBatchItemFailures` on the event source mapping). */
  (event: KinesisEvent, context?: LambdaContextLike): Promise<KinesisBatchResponse>;
  /** The consumer's name (its checkpoint namespace). */
  readonly consumerName: string;
  /** The consumer's dead letters: list, get, delete, redrive. */
  readonly deadLetters: ConsumerDeadLetters;
  /** The consumer's open gaps: list, expire. */
  readonly gaps: ConsumerGaps;
}

/**
 * Creates a typed, idempotent Kinesis consumer of Tidemark events. The returned function is the
 * Lambda handler; options are checked now: an unknown key or a bad value throws a `ConfigurationError`
 * naming the option.
 *
 * @example
 * ```ts
 * import { createConsumer } from '@tidemark/consumer';
 * import { taskEvents } from './events';
 *
 * export const handler = createConsumer({
 *   name: 'task-read-model',
 *   events: taskEvents,
 *   handlers: {
 *     TaskCreated: async (event) => {
 *       await saveTask(event.aggregate.id, { name: event.data.name, version: event.version });
 *     },
 *   },
 *   checkpoints: { tableName: process.env.CONSUMER_TABLE! },
 * });
 * ```
 */
export function createConsumer<C extends AnyEventCatalog, const TTransactional extends boolean = false>(
  options: ConsumerOptions<C, TTransactional>,
): Consumer {
  const engine = new ConsumerEngine(
    resolveConsumerOptions(options as ConsumerOptions<AnyEventCatalog, boolean>, 'createConsumer'),
  );
  return consumerFromEngine(engine);
}

/** @internal */
export function consumerFromEngine(engine: ConsumerEngine): Consumer {
  const handler = async function tidemarkConsumer(event: KinesisEvent, context?: LambdaContextLike) {
    return engine.processBatch(event, context);
  };
  const deadLetters: ConsumerDeadLetters = Object.freeze({
    ...engine.deadLetters(),
    redrive: (id: string) => engine.redrive(id),
  });
  const gaps: ConsumerGaps = Object.freeze({
    list: () => engine.openGaps(),
    expire: (context?: LambdaContextLike) => engine.expireGaps(context),
  });
  Object.defineProperty(handler, ENGINE, { value: engine });
  return Object.assign(handler, { consumerName: engine.name, deadLetters, gaps }) as Consumer;
}

/**
 * @internal The engine behind a consumer, or `undefined` for anything else. Recognised by shape
 * (under a global symbol), so a consumer made by another copy of this package (ESM and CJS builds)
 * is recognised too.
 */
export function engineOf(value: unknown): ConsumerEngine | undefined {
  if (typeof value !== 'function') return undefined;
  const engine = (value as unknown as Record<symbol, unknown>)[ENGINE] as Partial<ConsumerEngine> | undefined;
  return typeof engine?.processBatch === 'function' && typeof engine.redrive === 'function'
    ? (engine as ConsumerEngine)
    : undefined;
}

/**
 * Tells whether a value is a consumer made by {@link createConsumer} (the CLI uses it to find the
 * consumer a module exports).
 *
 * @example
 * ```ts
 * import { isConsumer } from '@tidemark/consumer';
 * const consumer = Object.values(await import('./handler.js')).find(isConsumer);
 * ```
 */
export function isConsumer(value: unknown): value is Consumer {
  return engineOf(value) !== undefined;
}
