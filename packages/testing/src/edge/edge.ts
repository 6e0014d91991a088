/**
 * The edge: one local HTTP port in front of the engines. It takes HTTP/1.1 (DynamoDB, DynamoDB
 * Streams clients) and HTTP/2 cleartext with prior knowledge (the Kinesis client) on the same port,
 * routes each call by its `X-Amz-Target` header, injects faults, and serves the fault-control API
 * at `/__tidemark/faults`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAwsError } from '../errors';
import { FAULTS_PATH } from '../faults/fault-control';
import { FaultInjector } from '../faults/fault-injector';
import type { EdgeService } from '../faults/injected-errors';
import { handleFaultControl } from './fault-control-route';
import {
  type EdgeAgents,
  type EdgeRequest,
  type EdgeResponse,
  forward,
  MAX_REQUEST_BYTES,
  readBody,
  sendInjected,
  sendJson,
} from './http-exchange';
import { putRecordsWithFailures } from './put-records-faults';

/** Where the edge sends the calls of one service. */
export type EdgeRoutes = Readonly<Record<EdgeService, string>>;

/** Options of {@link startEdge}. */
export interface EdgeOptions {
  /** The upstream URL (`http://host:port`) for each service. */
  readonly routes: EdgeRoutes;
  /** Where requests without a known `X-Amz-Target` go (endpoint and LocalStack modes). Default: none (404). */
  readonly fallback?: string;
  /** The interface to listen on. Default: `'127.0.0.1'`. */
  readonly host?: string;
  /** The port. Default: `0` (a free port chosen by the OS). */
  readonly port?: number;
}

/** A running edge. */
export interface Edge {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The port the OS chose. */
  readonly port: number;
  /** The edge's fault state (in this process; other processes use the HTTP control API). */
  readonly faults: FaultInjector;
  /** Where calls go; may be replaced while the edge runs (the engines may start after the edge). */
  routes: EdgeRoutes;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** The path of the edge's health check. */
export const HEALTH_PATH = '/__tidemark/health';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const TARGET_PREFIXES: readonly (readonly [string, EdgeService])[] = [
  ['DynamoDBStreams_20120810.', 'dynamodbStreams'],
  ['DynamoDB_20120810.', 'dynamodb'],
  ['Kinesis_20131202.', 'kinesis'],
];

/**
 * Starts an edge on a free port.
 *
 * @example
 * ```ts
 * const edge = await startEdge({ routes: { dynamodb: ddbUrl, dynamodbStreams: ddbUrl, kinesis: kinesisUrl } });
 * new DynamoDBClient({ endpoint: edge.endpoint });
 * await edge.close();
 * ```
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const faults = new FaultInjector();
  const state: { routes: EdgeRoutes; fallback: string | undefined } = {
    routes: options.routes,
    fallback: options.fallback,
  };
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const handler = (req: EdgeRequest, res: EdgeResponse): void => {
    // A client that goes away mid-call is not the edge's problem: end that exchange only.
    req.on('error', () => res.destroy());
    res.on('error', () => req.destroy());
    handle(req, res, state, faults, agents).catch((error: unknown) => {
      // The engine could not be reached or answered nonsense: tell the client (HTTP 502, which the
      // SDK retries), or cut the exchange if the answer had already started.
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      sendJson(res, 502, 'application/json', {
        __type: 'TidemarkEdgeError',
        message: `The Tidemark edge failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
  };
  const http1 = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  const h2 = http2.createServer({ maxSessionMemory: 64 }, handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    sniff(socket, (isHttp2) => (isHttp2 ? h2 : http1).emit('connection', socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new LocalAwsError('EDGE_START_FAILED', 'The edge has no TCP address after listen()');
  }
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    faults,
    get routes() {
      return state.routes;
    },
    set routes(routes: EdgeRoutes) {
      state.routes = routes;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        agents.http.destroy();
        agents.https.destroy();
      });
      return closed;
    },
  };
}

/** Reads the first bytes of a connection to tell HTTP/2 with prior knowledge from HTTP/1.x. */
function sniff(socket: net.Socket, decided: (isHttp2: boolean) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const compared = Math.min(buffered.length, HTTP2_PREFACE.length);
    const matches = buffered.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (matches && buffered.length < HTTP2_PREFACE.length) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(buffered);
    decided(matches);
    if (!matches) socket.resume();
  };
  socket.on('data', onData);
}

/**
 * Tells which service a call is for, from its `X-Amz-Target` header.
 *
 * @example
 * ```ts
 * import { routeTarget } from './edge';
 *
 * routeTarget('Kinesis_20131202.PutRecords'); // { service: 'kinesis', operation: 'PutRecords' }
 * ```
 */
export function routeTarget(
  target: string | undefined,
): { service: EdgeService; operation: string } | undefined {
  if (target === undefined) return undefined;
  for (const [prefix, service] of TARGET_PREFIXES) {
    if (target.startsWith(prefix)) return { service, operation: target.slice(prefix.length) };
  }
  return undefined;
}

async function handle(
  req: EdgeRequest,
  res: EdgeResponse,
  state: { readonly routes: EdgeRoutes; readonly fallback: string | undefined },
  faults: FaultInjector,
  agents: EdgeAgents,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === FAULTS_PATH) return handleFaultControl(req, res, faults);
  if (path === HEALTH_PATH) {
    await readBody(req);
    return sendJson(res, 200, 'application/json', { ok: true });
  }
  const targetHeader = req.headers['x-amz-target'];
  const route = routeTarget(Array.isArray(targetHeader) ? targetHeader[0] : targetHeader);
  const upstream = route ? state.routes[route.service] : state.fallback;
  if (upstream === undefined) {
    await readBody(req);
    return sendJson(res, 404, 'application/json', {
      __type: 'UnknownOperationException',
      message: `The Tidemark edge routes DynamoDB, DynamoDB Streams and Kinesis calls by X-Amz-Target; got ${JSON.stringify(targetHeader ?? null)}`,
    });
  }
  const body = await readBody(req);
  if (body === undefined) {
    return sendJson(res, 413, 'application/json', {
      __type: 'SerializationException',
      message: `Request body over ${MAX_REQUEST_BYTES} bytes refused by the Tidemark edge`,
    });
  }
  if (route === undefined) return forward(req, res, upstream, body, agents);

  const latency = faults.latencyFor(route.service, route.operation);
  if (latency > 0) await sleep(latency);
  const injected = faults.callError(route.service, route.operation);
  if (injected !== undefined) return sendInjected(res, injected);
  if (route.service === 'kinesis' && route.operation === 'PutRecords' && faults.putRecordsEntryFaultsActive) {
    return putRecordsWithFailures(req, res, upstream, body, faults, agents);
  }
  return forward(req, res, upstream, body, agents);
}
