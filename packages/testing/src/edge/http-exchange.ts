/**
 * The edge's HTTP plumbing, the same for HTTP/1.1 and HTTP/2 requests: reading a bounded body,
 * forwarding a call upstream, and answering with JSON, raw bytes or an injected error.
 *
 * @internal
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type http2 from 'node:http2';
import https from 'node:https';
import { LocalAwsError } from '../errors';
import type { InjectedError } from '../faults/injected-errors';

/** The keep-alive agents the edge forwards with. */
export interface EdgeAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/** A request the edge serves (HTTP/1.1 or HTTP/2). */
export type EdgeRequest = IncomingMessage | http2.Http2ServerRequest;
/** A response the edge writes (HTTP/1.1 or HTTP/2). */
export type EdgeResponse = http.ServerResponse | http2.Http2ServerResponse;

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
/** The largest request body the edge takes. */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

export async function forward(
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

export function send(
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

export function sendInjected(res: EdgeResponse, error: InjectedError): void {
  const body = Buffer.from(error.body, 'utf8');
  res.writeHead(error.status, {
    'content-type': error.contentType,
    'content-length': body.length,
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': `tidemark-edge-${Date.now().toString(36)}`,
  });
  res.end(body);
}

export function sendJson(res: EdgeResponse, status: number, contentType: string, value: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

export function sendRaw(res: EdgeResponse, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  const out = responseHeaders(headers);
  out['content-length'] = body.length;
  res.writeHead(status, out);
  res.end(body);
}

/** Reads a request body; `undefined` when it is over the size limit. */
export async function readBody(req: EdgeRequest): Promise<Buffer | undefined> {
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

export async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
