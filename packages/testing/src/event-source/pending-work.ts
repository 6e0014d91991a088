/**
 * Finds work a handler left running when it settled: the HTTP requests (every AWS SDK call, and
 * `fetch`) it started, directly or through promises and callbacks, that had not finished. Requests
 * are seen through Node.js's diagnostics channels (`http.client.request.start`, undici's
 * `undici:request:*`) and tied to the invocation that started them by an `AsyncLocalStorage`.
 * Timers and other work are not seen.
 *
 * @internal
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** The requests one invocation started that are still in flight. */
export class InvocationWork {
  readonly #inFlight = new Set<string>();
  #counter = 0;

  /** Descriptions of the requests still in flight. */
  get pending(): string[] {
    return [...this.#inFlight].map((entry) => entry.slice(entry.indexOf(' ') + 1));
  }

  /** Starts tracking a request; returns the function that marks it finished. */
  add(description: string): () => void {
    const entry = `${++this.#counter} ${description}`;
    this.#inFlight.add(entry);
    return () => this.#inFlight.delete(entry);
  }
}

interface UndiciRequest {
  readonly method: string;
  readonly origin: string;
  readonly path: string;
}

const scope = new AsyncLocalStorage<InvocationWork>();
let subscribed = false;

/** `node:http` requests: the AWS SDK's default request handler. */
function onHttpRequestStart(message: unknown): void {
  const work = scope.getStore();
  const request = (message as { request?: ClientRequest }).request;
  if (!work || !request) return;
  const target = request.getHeader('x-amz-target');
  const host = request.getHeader('host') ?? request.host;
  const done = work.add(
    `${request.method} ${request.protocol}//${String(host)}${request.path}${typeof target === 'string' ? ` (${target})` : ''}`,
  );
  request.once('close', done);
}

/** `fetch` requests (undici): done when the response is complete or the request failed. */
const undiciInFlight = new WeakMap<object, () => void>();
function onUndiciCreate(message: unknown): void {
  const work = scope.getStore();
  const request = (message as { request?: UndiciRequest }).request;
  if (!work || !request) return;
  undiciInFlight.set(request, work.add(`${request.method} ${request.origin}${request.path}`));
}
function onUndiciDone(message: unknown): void {
  const request = (message as { request?: object }).request;
  if (!request) return;
  undiciInFlight.get(request)?.();
  undiciInFlight.delete(request);
}

/** Runs `fn` (a handler call) so that the requests it starts are tracked in `work`. */
export function runTracked<T>(work: InvocationWork, fn: () => T): T {
  if (!subscribed) {
    subscribed = true;
    subscribe('http.client.request.start', onHttpRequestStart);
    subscribe('undici:request:create', onUndiciCreate);
    subscribe('undici:request:trailers', onUndiciDone);
    subscribe('undici:request:error', onUndiciDone);
  }
  return scope.run(work, fn);
}

/**
 * What is still in flight once the event loop had two turns after the handler settled (so a
 * request started from a callback of its last await is seen too).
 */
export async function pendingAfterSettle(work: InvocationWork): Promise<string[]> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  return work.pending;
}

/**
 * Resolves once the invocation has no request in flight (checked every 10 ms), or at `deadlineMs`
 * (epoch ms; the invocation has timed out by then).
 */
export async function idle(work: InvocationWork, deadlineMs: number): Promise<void> {
  while ((await pendingAfterSettle(work)).length > 0 && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
