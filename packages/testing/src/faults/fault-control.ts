/**
 * The fault-control API: the edge serves it at {@link FAULTS_PATH} over HTTP, so `aws.faults` works
 * the same from the process that started local AWS, from Vitest workers and from spawned processes.
 * This is the client every handle gets; the edge's side is `src/edge/fault-control-route.ts`.
 */

import { FaultControlError } from '../errors';
import { type FaultSettings, validateFaultSettings } from './fault-settings';
import type { FaultStats } from './fault-stats';

/** The path of the fault-control API on the edge. */
export const FAULTS_PATH = '/__tidemark/faults';

/** Controls the faults of one edge; every handle has one, including those in Vitest workers. */
export interface FaultControl {
  /** Replaces the fault settings and resets the stats. */
  set(settings: FaultSettings): Promise<void>;
  /** Stops injecting faults (stats are kept until the next `set`). */
  clear(): Promise<void>;
  /** What was injected since the last `set`. */
  stats(): Promise<FaultStats>;
}

/** A fault control that talks to the edge's control API over HTTP, so it works from any process. */
export function createFaultControl(endpoint: string): FaultControl {
  const url = new URL(FAULTS_PATH, endpoint);
  const call = async (method: 'GET' | 'PUT' | 'DELETE', body?: unknown): Promise<Record<string, unknown>> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new FaultControlError(
        `Cannot reach the fault-control API at ${url.href}`,
        { url: url.href },
        { cause },
      );
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { message: text };
    }
    if (!response.ok) {
      throw new FaultControlError(
        `The edge refused ${method} ${FAULTS_PATH} (HTTP ${response.status}): ${String(parsed.message ?? text)}`,
        { status: response.status, code: parsed.code },
      );
    }
    return parsed;
  };
  return {
    async set(settings: FaultSettings) {
      await call('PUT', validateFaultSettings(settings));
    },
    async clear() {
      await call('DELETE');
    },
    async stats() {
      return (await call('GET')).stats as FaultStats;
    },
  };
}
