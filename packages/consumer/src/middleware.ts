/**
 * The consumer as middy middleware: `middy().use(consumerMiddleware({...}))`. The same engine as
 * `createConsumer`; typed with local middy-like types, so `@middy/core` stays an optional peer and
 * is never imported here.
 */
import type { AnyEventCatalog } from '@tidemark/core';
import { type Consumer, consumerFromEngine, engineOf } from './consumer';
import { ConsumerEngine } from './engine';
import { resolveConsumerOptions } from './options';
import type { ConsumerOptions, KinesisEvent, LambdaContextLike } from './types';

/** The part of a middy request the middleware reads and writes. */
export interface MiddyLikeRequest {
  event: unknown;
  context: unknown;
  response: unknown;
}

/** A middy middleware object. */
export interface MiddyLikeMiddleware {
  readonly after: (request: MiddyLikeRequest) => Promise<void>;
}

/**
 * Middy middleware that processes the Kinesis batch with a Tidemark consumer and sets the response
 * to `{ batchItemFailures }`. It runs in the `after` phase, so `before` middlewares (logger context,
 * tracing, …) run first and `after` middlewares registered before it see the response. Use it with a
 * handler that returns nothing, usually `middy()`. Takes the options of `createConsumer`, or a
 * consumer made by it (then both entry points share one engine).
 *
 * @example
 * ```ts
 * import middy from '@middy/core';
 * import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
 * import { consumerMiddleware } from '@tidemark/consumer/middleware';
 *
 * export const handler = middy()
 *   .use(injectLambdaContext(logger))
 *   .use(consumerMiddleware({
 *     name: 'task-read-model',
 *     events: taskEvents,
 *     handlers: { TaskCreated: async (event) => save(event.data) },
 *     checkpoints: { tableName: 'consumer-state' },
 *     logger,
 *   }));
 * ```
 */
export function consumerMiddleware<C extends AnyEventCatalog, const TTransactional extends boolean = false>(
  optionsOrConsumer: ConsumerOptions<C, TTransactional> | Consumer,
): MiddyLikeMiddleware {
  const engine =
    engineOf(optionsOrConsumer) ??
    new ConsumerEngine(
      resolveConsumerOptions(
        optionsOrConsumer as ConsumerOptions<AnyEventCatalog, boolean>,
        'consumerMiddleware',
      ),
    );
  const consumer = consumerFromEngine(engine);
  const tidemarkConsumerAfter = async (request: MiddyLikeRequest): Promise<void> => {
    request.response = await consumer(request.event as KinesisEvent, request.context as LambdaContextLike);
  };
  return { after: tidemarkConsumerAfter };
}
