/**
 * The edge's side of the fault-control API (the client is `src/faults/fault-control.ts`).
 *
 * @internal
 */
import type { LocalAwsError } from '../errors';
import type { FaultInjector } from '../faults/fault-injector';
import { type EdgeRequest, type EdgeResponse, readBody, sendJson } from './http-exchange';

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
