/**
 * Finds work a handler left running when it settled: the HTTP requests (every AWS SDK call) it
 * started, directly or through promises and callbacks, that had not finished. Requests are seen
 * through Node.js's `http.client.request.start` diagnostics channel and tied to the invocation that
 * started them by an `AsyncLocalStorage`.
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

  track(request: ClientRequest): void {
    const target = request.getHeader('x-amz-target');
    const entry = `${++this.#counter} ${request.method} ${request.protocol}//${request.host}${request.path}${
      typeof target === 'string' ? ` (${target})` : ''
    }`;
    this.#inFlight.add(entry);
    request.once('close', () => this.#inFlight.delete(entry));
  }
}

const scope = new AsyncLocalStorage<InvocationWork>();
let subscribed = false;

function onRequestStart(message: unknown): void {
  const work = scope.getStore();
  const request = (message as { request?: ClientRequest }).request;
  if (work && request) work.track(request);
}

/** Runs `fn` (a handler call) so that the requests it starts are tracked in `work`. */
export function runTracked<T>(work: InvocationWork, fn: () => T): T {
  if (!subscribed) {
    subscribed = true;
    subscribe('http.client.request.start', onRequestStart);
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
