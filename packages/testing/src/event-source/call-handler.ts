/**
 * Calling a Lambda handler the way the Node.js runtime does (promise, callback or plain return).
 *
 * @internal
 */
import type { Context } from 'aws-lambda';
import { HandlerResponseIgnoredError } from '../errors';
import type { StreamHandler } from './types';

/**
 * Calls a handler the way the Node.js runtime does: a returned promise is awaited; a handler that
 * declares the callback parameter and returns no promise answers through the callback; otherwise
 * what it returned is its answer. A synchronous throw is a failure like a rejection.
 */
export function callHandler<TEvent, TResponse>(
  handler: StreamHandler<TEvent, TResponse>,
  event: TEvent,
  context: Context,
  answered: { by?: 'promise' | 'callback' | 'return' } = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error?: Error | string | null, result?: unknown) => {
      answered.by ??= 'callback';
      if (error !== undefined && error !== null) reject(typeof error === 'string' ? new Error(error) : error);
      else resolve(result);
    };
    let returned: unknown;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      reject(error);
      return;
    }
    if (isThenable(returned)) {
      answered.by ??= 'promise';
      returned.then(resolve, reject);
    } else if (handler.length < 3) {
      answered.by ??= 'return';
      // Lambda's Node.js runtime ignores what a non-async handler returns; honouring it here would
      // let a test pass that fails on Lambda, so such a handler is refused.
      if (returned === undefined) resolve(undefined);
      else reject(new HandlerResponseIgnoredError(describeValue(returned)));
    }
  });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 80)})`;
  if (typeof value === 'object') return `an object (${JSON.stringify(value).slice(0, 80)})`;
  return `a ${typeof value} (${String(value).slice(0, 80)})`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
