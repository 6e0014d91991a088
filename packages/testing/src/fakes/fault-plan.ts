/**
 * The seeded fault plan both fakes share: settings validated with zod (a bad key is a
 * {@link LocalAwsOptionsError} naming it), one seeded sequence of decisions in the order calls
 * arrive, per-operation settings over an `all` default, the `maxFaults` budget and the counters.
 * Each model adds its own kinds of faults (unprocessed batch keys, failed PutRecords entries) on
 * top of the whole-call ones here: throttled, server error, lost answer.
 *
 * @internal
 */
import { z } from 'zod';
import { LocalAwsOptionsError } from '../errors';
import { mulberry32 } from '../seeded-random';

/** A fault rate: a fraction 0–1. */
export const faultRate = z.number().min(0).max(1);

/** The whole-call faults every operation of every fake takes. */
export interface CallFaults {
  readonly throttleRate?: number;
  readonly throttleError?: string;
  readonly serverErrorRate?: number;
  readonly lostResponseRate?: number;
  readonly lostResponseError?: string;
}

/** The settings every fault plan takes besides its model's own. */
export interface FaultPlanSettings<Operation extends string, OperationFaults extends CallFaults> {
  readonly seed?: number;
  readonly all?: OperationFaults;
  readonly operations?: Partial<Record<Operation, OperationFaults>>;
  readonly maxFaults?: number;
}

/** The zod shape of one operation's whole-call faults, with the model's error names. */
export function callFaultsShape(
  throttleErrors: readonly [string, ...string[]],
  lostResponseErrors: readonly [string, ...string[]],
) {
  return {
    throttleRate: faultRate.optional(),
    throttleError: z.enum(throttleErrors).optional(),
    serverErrorRate: faultRate.optional(),
    lostResponseRate: faultRate.optional(),
    lostResponseError: z.enum(lostResponseErrors).optional(),
  };
}

/** The zod shape of the settings every plan takes, around a model's operation schema. */
export function planShape(operations: readonly [string, ...string[]], operationFaults: z.ZodType) {
  return {
    seed: z.number().int().optional(),
    all: operationFaults.optional(),
    operations: z.partialRecord(z.enum(operations), operationFaults).optional(),
    maxFaults: z.number().int().min(0).optional(),
  };
}

/** Validates fault settings with `schema`; throws a {@link LocalAwsOptionsError} naming the bad key. */
export function parseFaults<T>(schema: z.ZodType, settings: unknown, model: string): T {
  const result = schema.safeParse(settings);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new LocalAwsOptionsError(
      `Invalid ${model} model faults at ${['faults', ...issue.path].join('.')}: ${issue.message}`,
      {
        issues: result.error.issues.map((entry) => ({ path: entry.path.join('.'), message: entry.message })),
      },
    );
  }
  return result.data as T;
}

/** The counters every plan keeps. */
export interface CallFaultStats {
  throttled: number;
  serverErrors: number;
  lostResponses: number;
}

/** The seeded decisions of one fake; subclasses add their model's kinds of faults. */
export abstract class FaultPlan<
  Operation extends string,
  OperationFaults extends CallFaults,
  Settings extends FaultPlanSettings<Operation, OperationFaults>,
  Stats extends CallFaultStats,
> {
  #settings: Settings;
  #random: () => number;
  #stats: Stats;

  constructor(settings: unknown) {
    this.#settings = this.parse(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
    this.#stats = this.emptyStats();
  }

  /** Validates the model's settings. */
  protected abstract parse(settings: unknown): Settings;

  /** The model's counters, all at zero. */
  protected abstract emptyStats(): Stats;

  /** The validated settings. */
  protected get settings(): Settings {
    return this.#settings;
  }

  /** Replaces the settings, restarts the seeded sequence and resets the counts. */
  set(settings: Settings): void {
    this.#settings = this.parse(settings);
    this.#random = mulberry32(this.#settings.seed ?? 1);
    this.#stats = this.emptyStats();
  }

  /** The counts so far (a copy). */
  get stats(): Stats {
    return { ...this.#stats };
  }

  /** The effective settings of an operation: its own entry over `all`, field by field. */
  settingsFor(operation: Operation): OperationFaults {
    return {
      ...(this.#settings.all ?? {}),
      ...(this.#settings.operations?.[operation] ?? {}),
    } as OperationFaults;
  }

  /**
   * Draws one decision with `probability`, within the `maxFaults` budget; a fault drawn is counted
   * under `kind`.
   */
  protected draw(probability: number | undefined, kind: keyof Stats): boolean {
    if (!probability || probability <= 0) return false;
    const max = this.#settings.maxFaults;
    if (max !== undefined && this.#total() >= max) return false;
    if (this.#random() >= probability) return false;
    (this.#stats[kind] as number) += 1;
    return true;
  }

  #total(): number {
    return Object.values(this.#stats).reduce((sum, count) => sum + (count as number), 0);
  }

  /** Whether this call is refused before it happens, and how. */
  beforeCall(operation: Operation): 'throttle' | 'server-error' | undefined {
    const settings = this.settingsFor(operation);
    if (this.draw(settings.throttleRate, 'throttled')) return 'throttle';
    if (this.draw(settings.serverErrorRate, 'serverErrors')) return 'server-error';
    return undefined;
  }

  /** Whether this successful call loses its answer. */
  loseResponse(operation: Operation): boolean {
    return this.draw(this.settingsFor(operation).lostResponseRate, 'lostResponses');
  }
}
