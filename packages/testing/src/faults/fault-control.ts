/**
 * The fault-control API: the edge serves it at {@link FAULTS_PATH} over HTTP, so `aws.faults` works
 * the same from the process that started local AWS, from Vitest workers and from spawned processes.
 * Both sides live here: the client every handle gets and the edge's handler.
 */

import { type EdgeRequest, type EdgeResponse, readBody, sendJson } from '../edge/http-exchange';
import { FaultControlError, type LocalAwsError } from '../errors';
import type { FaultInjector } from './fault-injector';
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

/** The edge's side: GET the settings and stats, PUT new settings, DELETE them. */
export async function handleFaultControl(
  req: EdgeRequest,
  res: EdgeResponse,
  faults: FaultInjector,
): Promise<void> {
  const body = await readBody(req);
  const method = req.method ?? 'GET';
  if (method === 'GET')
    return sendJson(res, 200, 'application/json', { settings: faults.settings, stats: faults.stats() });
  if (method === 'DELETE') {
    faults.clear();
    return sendJson(res, 200, 'application/json', { settings: faults.settings });
  }
  if (method === 'PUT' || method === 'POST') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body?.toString('utf8') ?? '');
    } catch {
      return sendJson(res, 400, 'application/json', {
        code: 'BAD_JSON',
        message: 'The fault settings are not JSON',
      });
    }
    try {
      return sendJson(res, 200, 'application/json', { settings: faults.set(parsed) });
    } catch (error) {
      const { code, message, context } = error as LocalAwsError;
      return sendJson(res, 400, 'application/json', { code, message, context });
    }
  }
  return sendJson(res, 405, 'application/json', {
    code: 'METHOD_NOT_ALLOWED',
    message: `${method} not allowed`,
  });
}
