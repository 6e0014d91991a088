/**
 * The edge: one local HTTP port in front of the engines. It takes HTTP/1.1 (DynamoDB, DynamoDB
 * Streams clients) and HTTP/2 cleartext with prior knowledge (the Kinesis client) on the same port,
 * routes each call by its `X-Amz-Target` header, injects faults, and serves the fault-control API
 * at `/__tidemark/faults`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAwsError } from './errors';
import { type EdgeService, FaultInjector, type InjectedError } from './faults';

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

/** The path of the fault-control API on the edge port. */
export const FAULTS_PATH = '/__tidemark/faults';
/** The path of the edge's health check. */
export const HEALTH_PATH = '/__tidemark/health';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const TARGET_PREFIXES: readonly (readonly [string, EdgeService])[] = [
  ['DynamoDBStreams_20120810.', 'dynamodbStreams'],
  ['DynamoDB_20120810.', 'dynamodb'],
  ['Kinesis_20131202.', 'kinesis'],
];
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'http2-settings',
  'content-length',
]);
/** PutRecords takes at most 5 MiB; other calls are far smaller. Anything above this is refused. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

type EdgeRequest = IncomingMessage | http2.Http2ServerRequest;
type EdgeResponse = http.ServerResponse | http2.Http2ServerResponse;

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
 * import { routeTarget } from '@tidemark/testing';
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
  agents: { http: http.Agent; https: https.Agent },
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

async function handleFaultControl(req: EdgeRequest, res: EdgeResponse, faults: FaultInjector): Promise<void> {
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

interface PutRecordsRequest {
  Records?: unknown[];
  [key: string]: unknown;
}
interface PutRecordsResultEntry {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/**
 * Fails a seeded fraction of the entries: only the others go upstream, and the failed ones are
 * spliced back into the response at their positions, as Kinesis reports partial failures.
 */
async function putRecordsWithFailures(
  req: EdgeRequest,
  res: EdgeResponse,
  upstream: string,
  body: Buffer,
  faults: FaultInjector,
  agents: { http: http.Agent; https: https.Agent },
): Promise<void> {
  const contentType = String(req.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/x-amz-json-1.1') && !contentType.startsWith('application/json')) {
    return sendJson(res, 400, 'application/x-amz-json-1.1', {
      __type: 'SerializationException',
      message: `The Tidemark edge injects PutRecords entry failures only into JSON bodies (application/x-amz-json-1.1), not ${contentType || 'bodies without a content type'}; disable CBOR (AWS_CBOR_DISABLE=1) or clear the PutRecords fault`,
    });
  }
  let request: PutRecordsRequest;
  try {
    request = JSON.parse(body.toString('utf8')) as PutRecordsRequest;
  } catch {
    return forward(req, res, upstream, body, agents);
  }
  if (!Array.isArray(request.Records) || request.Records.length === 0) {
    return forward(req, res, upstream, body, agents);
  }
  const records = request.Records;
  const failures = faults.putRecordsEntryFailures(records.length);
  const surviving = records.filter((_, index) => !failures[index]);
  const failedCount = records.length - surviving.length;
  if (failedCount === 0) return forward(req, res, upstream, body, agents);

  let upstreamEntries: PutRecordsResultEntry[] = [];
  let upstreamFailed = 0;
  let extra: Record<string, unknown> = {};
  if (surviving.length > 0) {
    const forwarded = Buffer.from(JSON.stringify({ ...request, Records: surviving }), 'utf8');
    const response = await send(req, upstream, forwarded, agents);
    const responseBody = await readAll(response);
    if (response.statusCode !== 200) {
      // The whole call failed upstream (e.g. ResourceNotFoundException): pass that through as is.
      return sendRaw(res, response.statusCode ?? 502, response.headers, responseBody);
    }
    const parsed = JSON.parse(responseBody.toString('utf8')) as {
      Records?: PutRecordsResultEntry[];
      FailedRecordCount?: number;
      [key: string]: unknown;
    };
    const { Records: entries = [], FailedRecordCount = 0, ...rest } = parsed;
    if (entries.length !== surviving.length) {
      throw new LocalAwsError(
        'EDGE_PUT_RECORDS_MISMATCH',
        `Upstream answered PutRecords with ${entries.length} entries for ${surviving.length} records`,
      );
    }
    upstreamEntries = entries;
    upstreamFailed = FailedRecordCount;
    extra = rest;
  }
  faults.recordEntryFailures(failedCount);
  let next = 0;
  const merged = failures.map((failed): PutRecordsResultEntry => {
    if (failed) {
      return {
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: 'Rate exceeded for shard (injected by the Tidemark edge)',
      };
    }
    const entry = upstreamEntries[next];
    next += 1;
    return entry as PutRecordsResultEntry;
  });
  return sendJson(res, 200, 'application/x-amz-json-1.1', {
    ...extra,
    FailedRecordCount: upstreamFailed + failedCount,
    Records: merged,
  });
}

async function forward(
  req: EdgeRequest,
  res: EdgeResponse,
  upstream: string,
  body: Buffer,
  agents: { http: http.Agent; https: https.Agent },
): Promise<void> {
  const response = await send(req, upstream, body, agents);
  res.writeHead(response.statusCode ?? 502, responseHeaders(response.headers));
  await new Promise<void>((resolve, reject) => {
    response.on('error', reject);
    response.on('end', resolve);
    response.pipe(res as NodeJS.WritableStream);
  });
}

function send(
  req: EdgeRequest,
  upstream: string,
  body: Buffer,
  agents: { http: http.Agent; https: https.Agent },
): Promise<IncomingMessage> {
  const url = new URL(req.url ?? '/', upstream);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || value === undefined) continue;
    headers[name] = value;
  }
  headers.host = url.host;
  headers['content-length'] = body.length;
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(url, {
      method: req.method ?? 'POST',
      headers,
      agent: secure ? agents.https : agents.http,
    });
    request.on('response', resolve);
    request.on('error', (cause) =>
      reject(
        new LocalAwsError('EDGE_UPSTREAM_FAILED', `The edge could not reach ${upstream}: ${cause.message}`, {
          cause,
        }),
      ),
    );
    request.end(body);
  });
}

function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || (HOP_BY_HOP.has(name) && name !== 'content-length'))
      continue;
    out[name] = value;
  }
  return out;
}

function sendInjected(res: EdgeResponse, error: InjectedError): void {
  const body = Buffer.from(error.body, 'utf8');
  res.writeHead(error.status, {
    'content-type': error.contentType,
    'content-length': body.length,
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': `tidemark-edge-${Date.now().toString(36)}`,
  });
  res.end(body);
}

function sendJson(res: EdgeResponse, status: number, contentType: string, value: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

function sendRaw(res: EdgeResponse, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  const out = responseHeaders(headers);
  out['content-length'] = body.length;
  res.writeHead(status, out);
  res.end(body);
}

/** Reads a request body; `undefined` when it is over the size limit. */
async function readBody(req: EdgeRequest): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
