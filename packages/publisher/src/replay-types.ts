/**
 * The public types of `replay`: its options, its progress reports and its result.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AggregateRef, AwsClientOptions } from '@tidemark/core';
import type { PublishingOptions, StreamTargetOptions } from './publisher-types';

/** Progress of a replay, reported after every page. */
export interface ReplayProgress {
  /** Pages read so far (in this run). */
  readonly pages: number;
  /** Items read so far (in this run). */
  readonly scanned: number;
  /**
   * Records put to the stream so far, counting earlier runs resumed from a token — including events
   * put again after an interruption or a mid-page stop, so it can exceed the number of events.
   */
  readonly published: number;
  /**
   * Events done for good: published, and before the resume point, so no later run puts them again;
   * each counted once, across runs resumed from a token. This is the progress figure.
   */
  readonly eventsDone: number;
  /** Items that are not events, skipped (logged) so far in this run. */
  readonly skipped: number;
  /** Where to resume if the replay stopped now. */
  readonly resumeToken: string;
}

/** The outcome of {@link replay}. */
export interface ReplayResult {
  /** `true` when every event was republished; `false` when `signal` stopped it first. */
  readonly complete: boolean;
  /** Records put to the stream, counting earlier runs resumed from a token (repeats included). */
  readonly published: number;
  /** Events done for good, each counted once across runs resumed from a token. */
  readonly eventsDone: number;
  /** Items read in this run. */
  readonly scanned: number;
  /** Pages read in this run. */
  readonly pages: number;
  /** Items skipped because they are not events. */
  readonly skipped: number;
  /** Pass it as `resumeToken` to continue; `undefined` when complete. */
  readonly resumeToken: string | undefined;
}

/** Options of `replay`. */
export type ReplayOptions = PublishingOptions &
  StreamTargetOptions & {
    /** The event-log table. Required. */
    readonly tableName: string;
    /** A DynamoDB client, or the config to make one. Default: a client from the environment. */
    readonly dynamodb?: DynamoDBClient | AwsClientOptions;
    /** Replay only this aggregate (a Query). Default: the whole log (a Scan). */
    readonly aggregate?: AggregateRef;
    /**
     * With `aggregate`: the first version to replay.
     *
     * @default 1 (`REPLAY_DEFAULTS.fromVersion`)
     */
    readonly fromVersion?: number;
    /**
     * The whole log only: this worker's segment of a parallel scan (0-based), with
     * `totalSegments`. Each segment holds whole aggregates, so run one replay per segment side by
     * side, each with its own resume token. Default: no segmentation.
     */
    readonly segment?: number;
    /** The number of segments of a parallel scan, with `segment`. Default: no segmentation. */
    readonly totalSegments?: number;
    /**
     * Items per page (Scan/Query `Limit`), read with strong consistency, 1 to 10000.
     *
     * @default 500 (`REPLAY_DEFAULTS.pageSize`)
     */
    readonly pageSize?: number;
    /** Continue an earlier replay of the same table (and aggregate or segment). Default: start at the beginning. */
    readonly resumeToken?: string;
    /** Called after every page. It may be async; replay waits for it. Default: none. */
    readonly onProgress?: (progress: ReplayProgress) => void | Promise<void>;
    /**
     * Stops the replay before its next wave (e.g. `AbortSignal.timeout(ms)` inside a Lambda); the
     * result then has `complete: false` and a resume token. Default: none.
     */
    readonly signal?: AbortSignal;
  };
