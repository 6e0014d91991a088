import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyEncodingError, BodyTooLargeError } from '../errors';
import { errorResponse } from './responses';
import { type HttpHandler, type HttpRequest, MAX_BODY_BYTES } from './types';

export { MAX_BODY_BYTES } from './types';

/** Strict UTF-8: invalid bytes are refused, never replaced with U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A running Node HTTP server. */
export interface RunningServer {
  /** The base URL, e.g. `http://127.0.0.1:51234`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /** Stops the server (open connections are closed). */
  close(): Promise<void>;
}

/**
 * Serves the route code with Node's `http` module (the local mode of the API). Reads at most
 * {@link MAX_BODY_BYTES} of a body (413 beyond) and decodes it as strict UTF-8 (400 for invalid
 * bytes) before the routes see it.
 *
 * @example
 * ```ts
 * const server = await startNodeServer(createRoutes({ tasks, reader }), { port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function startNodeServer(
  handler: HttpHandler,
  options: {
    /**
     * The port; `0` picks a free one.
     * @default 0
     */
    readonly port?: number;
    /**
     * The address to listen on.
     * @default '127.0.0.1'
     */
    readonly host?: string;
  } = {},
): Promise<RunningServer> {
  const server: Server = createServer((incoming, outgoing) => {
    readRequest(incoming)
      .then((request) =>
        request instanceof Error ? errorResponse(request, requestLine(incoming), console) : handler(request),
      )
      .then((response) => {
        outgoing.writeHead(response.status, response.headers);
        outgoing.end(response.body);
      })
      .catch((error: unknown) => {
        console.error('HTTP server error', error);
        if (!outgoing.headersSent)
          outgoing.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        outgoing.end(
          JSON.stringify({ error: { code: 'INTERNAL', message: 'The request failed; it was logged' } }),
        );
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The request without its body, for answering a body the server would not read. */
function requestLine(incoming: IncomingMessage): HttpRequest {
  return { method: (incoming.method ?? 'GET').toUpperCase(), path: incoming.url ?? '/', headers: {} };
}

/**
 * Reads a request; a body over {@link MAX_BODY_BYTES} (reading stops there) or not valid UTF-8
 * comes back as the error the client is answered with.
 */
async function readRequest(
  incoming: IncomingMessage,
): Promise<HttpRequest | BodyTooLargeError | BodyEncodingError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return new BodyTooLargeError(MAX_BODY_BYTES);
    chunks.push(buffer);
  }
  const url = new URL(incoming.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  let body: string;
  try {
    body = UTF8.decode(Buffer.concat(chunks));
  } catch (error) {
    return new BodyEncodingError(error);
  }
  return {
    method: (incoming.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    headers,
    ...(chunks.length === 0 ? {} : { body }),
  };
}
