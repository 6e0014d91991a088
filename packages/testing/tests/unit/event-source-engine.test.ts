import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { ConfigurationError } from '@tidemark/core';
import type { KinesisStreamEvent, KinesisStreamHandler } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EventSourceConfigurationError,
  EventSourceDrainTimeoutError,
  EventSourceFailedError,
  EventSourceStateError,
  FunctionTimeoutError,
  HandlerResponseIgnoredError,
  PendingWorkError,
} from '../../src/errors';
import {
  createKinesisEventSource,
  type KinesisEventSource,
  type KinesisEventSourceOptions,
} from '../../src/event-source/kinesis-event-source';
import { EVENT_SOURCE_DEFAULTS } from '../../src/event-source/options';

interface FakeRecord {
  readonly sequenceNumber: string;
  readonly data: string;
  readonly arrival: Date;
}

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly records: FakeRecord[];
  closed: boolean;
}

/** An in-memory Kinesis with the calls the event source makes. Iterators are `shardId|index`. */
class FakeKinesis {
  readonly config = { region: async () => 'eu-west-1' };
  readonly shards: FakeShard[] = [];
  readonly failures: Error[] = [];
  getRecordsCalls = 0;
  #sequence = 1000n;

  shard(shardId: string, parentShardId?: string): FakeShard {
    const shard: FakeShard = {
      shardId,
      records: [],
      closed: false,
      ...(parentShardId ? { parentShardId } : {}),
    };
    this.shards.push(shard);
    return shard;
  }

  put(shard: FakeShard, ...data: string[]): string[] {
    return data.map((item) => {
      this.#sequence += 7n;
      const record = { sequenceNumber: this.#sequence.toString(), data: item, arrival: new Date() };
      shard.records.push(record);
      return record.sequenceNumber;
    });
  }

  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof DescribeStreamSummaryCommand) {
      return {
        StreamDescriptionSummary: {
          StreamARN: `arn:aws:kinesis:eu-west-1:111122223333:stream/${command.input.StreamName}`,
        },
      };
    }
    if (command instanceof ListShardsCommand) {
      return {
        Shards: this.shards.map((shard) => ({
          ShardId: shard.shardId,
          ParentShardId: shard.parentShardId,
          SequenceNumberRange: {
            StartingSequenceNumber: '0',
            EndingSequenceNumber: shard.closed ? '9' : undefined,
          },
        })),
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const shard = this.#find(command.input.ShardId!);
      const { ShardIteratorType: type } = command.input;
      let index = 0;
      if (type === 'LATEST') index = shard.records.length;
      if (type === 'AFTER_SEQUENCE_NUMBER') {
        index =
          shard.records.findIndex(
            (record) => record.sequenceNumber === command.input.StartingSequenceNumber,
          ) + 1;
      }
      if (type === 'AT_TIMESTAMP') {
        const at = command.input.Timestamp!.getTime();
        index = shard.records.findIndex((record) => record.arrival.getTime() >= at);
        if (index === -1) index = shard.records.length;
      }
      return { ShardIterator: `${shard.shardId}|${index}` };
    }
    if (command instanceof GetRecordsCommand) {
      this.getRecordsCalls += 1;
      const failure = this.failures.shift();
      if (failure) throw failure;
      const [shardId, start] = command.input.ShardIterator!.split('|') as [string, string];
      const shard = this.#find(shardId);
      const from = Number(start);
      const records = shard.records.slice(from, from + (command.input.Limit ?? 10_000));
      const next = from + records.length;
      return {
        Records: records.map((record) => ({
          SequenceNumber: record.sequenceNumber,
          Data: Buffer.from(record.data),
          PartitionKey: `pk-${record.data.slice(0, 16)}`,
          ApproximateArrivalTimestamp: record.arrival,
        })),
        NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${shardId}|${next}`,
        MillisBehindLatest: 0,
      };
    }
    throw new Error(`unexpected command ${String(command)}`);
  }

  #find(shardId: string): FakeShard {
    const shard = this.shards.find((candidate) => candidate.shardId === shardId);
    if (!shard) throw Object.assign(new Error(`no shard ${shardId}`), { name: 'ResourceNotFoundException' });
    return shard;
  }
}

const sources: KinesisEventSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function source(
  kinesis: FakeKinesis,
  options: Partial<KinesisEventSourceOptions> & Pick<KinesisEventSourceOptions, 'handler'>,
): KinesisEventSource {
  const created = createKinesisEventSource({
    kinesis: kinesis as unknown as KinesisClient,
    streamName: 'orders',
    pollIntervalMs: 5,
    ...options,
  } as KinesisEventSourceOptions);
  sources.push(created);
  return created;
}

const dataOf = (event: KinesisStreamEvent) =>
  event.Records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString());

describe('createKinesisEventSource', () => {
  it('delivers the records of a shard in order, in batches of batchSize, in the shape Lambda sends', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    const [first] = kinesis.put(shard, 'a', 'b', 'c', 'd', 'e');
    const seen: string[][] = [];
    const events = source(kinesis, { batchSize: 2, handler: async (event) => void seen.push(dataOf(event)) });

    await events.start();
    await events.drain({ timeoutMs: 5000 });

    expect(seen).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(events.streamArn).toBe('arn:aws:kinesis:eu-west-1:111122223333:stream/orders');
    expect(events.invocations[0]!.event.Records[0]).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk-a',
        sequenceNumber: first,
        data: Buffer.from('a').toString('base64'),
        approximateArrivalTimestamp: shard.records[0]!.arrival.getTime() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${first}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::111122223333:role/tidemark-local-function-role',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:111122223333:stream/orders',
    });
    expect(events.invocations.map((invocation) => invocation.outcome)).toEqual([
      'success',
      'success',
      'success',
    ]);
  });

  it('keeps every invocation under the 6 MB payload limit', async () => {
    const kinesis = new FakeKinesis();
    const big = 'x'.repeat(1_000_000);
    kinesis.put(kinesis.shard('shardId-000000000000'), big, big, big, big, big, big);
    const events = source(kinesis, { handler: async () => undefined });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    const sizes = events.invocations.map((invocation) => Buffer.byteLength(JSON.stringify(invocation.event)));
    expect(events.invocations.map((invocation) => invocation.event.Records.length)).toEqual([4, 2]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(6 * 1024 * 1024);
  });

  it('passes a Lambda context whose remaining time counts down from the function timeout', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    const remaining: number[] = [];
    let functionArn = '';
    const events = source(kinesis, {
      functionTimeoutSeconds: 30,
      functionName: 'orders-listener',
      handler: async (_event, context) => {
        remaining.push(context.getRemainingTimeInMillis());
        functionArn = context.invokedFunctionArn;
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(remaining[0]).toBeGreaterThan(25_000);
    expect(remaining[0]).toBeLessThanOrEqual(30_000);
    expect(functionArn).toBe('arn:aws:lambda:eu-west-1:111122223333:function:orders-listener');
  });

  it('resumes from the lowest reported failure with reportBatchItemFailures', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    const sequenceNumbers = kinesis.put(shard, 'a', 'b', 'c', 'd');
    let calls = 0;
    const events = source(kinesis, {
      reportBatchItemFailures: true,
      handler: async () => {
        calls += 1;
        return calls === 1
          ? {
              batchItemFailures: [
                { itemIdentifier: sequenceNumbers[3]! },
                { itemIdentifier: sequenceNumbers[1]! },
              ],
            }
          : { batchItemFailures: [] };
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations.map((invocation) => dataOf(invocation.event))).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'c', 'd'],
    ]);
    expect(events.invocations.map((invocation) => [invocation.outcome, invocation.attempt])).toEqual([
      ['partial-failure', 1],
      ['success', 2],
    ]);
  });

  it('ignores batchItemFailures without reportBatchItemFailures', async () => {
    const kinesis = new FakeKinesis();
    const [first] = kinesis.put(kinesis.shard('shardId-000000000000'), 'a', 'b');
    const events = source(kinesis, {
      handler: async () => ({ batchItemFailures: [{ itemIdentifier: first! }] }),
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toHaveLength(1);
    expect(events.invocations[0]!.outcome).toBe('success');
  });

  it('bisects a failing batch down to the poison record, discards it after its retries and goes on', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    const sequenceNumbers = kinesis.put(shard, 'a', 'b', 'poison', 'd');
    const failures: unknown[] = [];
    const events = source(kinesis, {
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 1,
      onFailure: (failure, records) => void failures.push({ failure, records: records.length }),
      handler: async (event) => {
        if (dataOf(event).includes('poison')) throw new Error('cannot handle poison');
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });

    expect(events.invocations.map((invocation) => dataOf(invocation.event))).toEqual([
      ['a', 'b', 'poison', 'd'],
      ['a', 'b'],
      ['poison', 'd'],
      ['poison'],
      ['poison'],
      ['d'],
    ]);
    expect(events.onFailure).toHaveLength(1);
    const [failure] = events.onFailure;
    expect(failure).toEqual({
      requestContext: {
        requestId: events.invocations[4]!.awsRequestId,
        functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:tidemark-local-function',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 4,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: sequenceNumbers[2],
        endSequenceNumber: sequenceNumbers[2],
        approximateArrivalOfFirstRecord: shard.records[2]!.arrival.toISOString(),
        approximateArrivalOfLastRecord: shard.records[2]!.arrival.toISOString(),
        batchSize: 1,
        streamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/orders',
      },
    });
    expect(failures).toEqual([{ failure, records: 1 }]);
  });

  it('retries a failing batch maximumRetryAttempts times, then sends it to the on-failure destination', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a', 'b');
    const events = source(kinesis, {
      maximumRetryAttempts: 2,
      handler: async () => {
        throw new Error('down');
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations.map((invocation) => invocation.attempt)).toEqual([1, 2, 3]);
    expect(events.onFailure).toHaveLength(1);
    expect(events.onFailure[0]!.KinesisBatchInfo.batchSize).toBe(2);
    expect(events.onFailure[0]!.requestContext.approximateInvokeCount).toBe(3);
  });

  it('sends records older than maximumRecordAgeInSeconds to the on-failure destination without invoking', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'old');
    const events = source(kinesis, {
      maximumRecordAgeInSeconds: 60,
      clock: () => Date.now() + 61_000,
      handler: async () => undefined,
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toEqual([]);
    expect(events.onFailure).toHaveLength(1);
    expect(events.onFailure[0]!.requestContext).toMatchObject({
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 0,
    });
    expect(events.onFailure[0]!.responseContext).toEqual({
      statusCode: 0,
      executedVersion: '$LATEST',
      functionError: null,
    });
  });

  it('counts an invocation that runs past the function timeout as failed', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'slow');
    const events = source(kinesis, {
      functionTimeoutSeconds: 0.05,
      maximumRetryAttempts: 0,
      handler: () => new Promise<void>((resolve) => setTimeout(resolve, 400)),
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toHaveLength(1);
    expect(events.invocations[0]!.timedOut).toBe(true);
    expect(events.invocations[0]!.error).toBeInstanceOf(FunctionTimeoutError);
    expect(events.onFailure[0]!.responseContext.functionError).toBe('Unhandled');
  });

  it('ends a handler that never settles at the deadline and retries at once: drain is never blocked', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    let calls = 0;
    const events = source(kinesis, {
      functionTimeoutSeconds: 0.05,
      handler: async () => {
        calls += 1;
        if (calls === 1) await new Promise(() => undefined); // never settles
      },
    });
    await events.start();
    const started = Date.now();
    await events.drain({ timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events.invocations.map((invocation) => [invocation.timedOut, invocation.outcome])).toEqual([
      [true, 'failure'],
      [false, 'success'],
    ]);
    expect(events.invocations[0]!.error).toBeInstanceOf(FunctionTimeoutError);
  });

  it('with handlerModule, retries a timed-out batch in a freshly imported module (module state reset)', async () => {
    const seen: number[] = [];
    (globalThis as { statefulHandlerSeen?: number[] }).statefulHandlerSeen = seen;
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a', 'b');
    const instances: number[] = [];
    const events = createKinesisEventSource({
      kinesis: kinesis as unknown as KinesisClient,
      streamName: 'orders',
      pollIntervalMs: 5,
      batchSize: 1,
      functionTimeoutSeconds: 0.05,
      handlerModule: async (instance) => {
        instances.push(instance);
        vi.resetModules();
        return import('./fixtures/stateful-handler');
      },
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    delete (globalThis as { statefulHandlerSeen?: number[] }).statefulHandlerSeen;

    expect(events.invocations.filter((invocation) => invocation.timedOut)).toHaveLength(1);
    expect(events.invocations.filter((invocation) => invocation.outcome === 'success')).toHaveLength(2);
    // The first instance hung on its first call; the next invocation ran in a new instance (its
    // own first call), and the third reused that instance (its second call).
    expect(instances).toEqual([1, 2]);
    expect(seen).toEqual([1, 1, 2]);
  });

  it('fails an invocation when handlerModule has no such export, and imports again for the retry', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    let instance = 0;
    const events = createKinesisEventSource({
      kinesis: kinesis as unknown as KinesisClient,
      streamName: 'orders',
      pollIntervalMs: 5,
      handlerModule: async (n) => {
        instance = n;
        return n === 1 ? { default: async () => undefined } : { handler: async () => undefined };
      },
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations.map((invocation) => invocation.outcome)).toEqual(['failure', 'success']);
    expect(events.invocations[0]!.error).toBeInstanceOf(EventSourceConfigurationError);
    expect(String(events.invocations[0]!.error)).toContain('no function export "handler" (exports: default)');
    expect(instance).toBe(2);
  });

  it('refuses a non-async handler that returns its response instead of answering (Lambda ignores it)', async () => {
    const kinesis = new FakeKinesis();
    const [first] = kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    const events = source(kinesis, {
      reportBatchItemFailures: true,
      // Not async, no callback: Lambda's Node.js runtime would drop this response.
      handler: (() => ({
        batchItemFailures: [{ itemIdentifier: first! }],
      })) as unknown as KinesisStreamHandler,
    });
    await events.start();
    const failed = await events.drain({ timeoutMs: 5000 }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(EventSourceFailedError);
    const cause = (failed as EventSourceFailedError).cause;
    expect(cause).toBeInstanceOf(HandlerResponseIgnoredError);
    expect((cause as Error).message).toContain('make the handler async');
    expect((cause as HandlerResponseIgnoredError).code).toBe('LAMBDA_HANDLER_RESPONSE_IGNORED');
  });

  describe('work left running after the handler settles', () => {
    let server: Server;
    let url: string;
    const slowMs = 300;
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    async function slowServer(): Promise<void> {
      server = createServer((_request, response) => {
        setTimeout(() => response.end('done'), slowMs);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it.each([
      // The forgotten calls fail when the server closes after the test; that is expected.
      [
        'node:http',
        (target: string) =>
          void get(`${target}/forgotten`, (response) => response.resume()).on('error', () => undefined),
      ],
      [
        'fetch',
        (target: string) =>
          void fetch(`${target}/forgotten`)
            .then((response) => response.text())
            .catch(() => undefined),
      ],
    ])(
      'fails the invocation when a %s request it started is still in flight (a missing await)',
      async (_, call) => {
        await slowServer();
        const kinesis = new FakeKinesis();
        kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
        const events = source(kinesis, {
          maximumRetryAttempts: 0,
          handler: async () => {
            call(url);
          },
        });
        await events.start();
        await events.drain({ timeoutMs: 5000 });
        expect(events.invocations.map((invocation) => invocation.outcome)).toEqual(['failure']);
        const error = events.invocations[0]!.error as PendingWorkError;
        expect(error).toBeInstanceOf(PendingWorkError);
        expect(error.code).toBe('LAMBDA_PENDING_WORK');
        expect(error.pending).toEqual([`GET ${url}/forgotten`]);
        expect(error.message).toContain('A missing await?');
        expect(events.onFailure[0]!.responseContext.functionError).toBe('Unhandled');
      },
    );

    it('lets a callback handler finish its work after answering, as Lambda waits for the event loop', async () => {
      await slowServer();
      const kinesis = new FakeKinesis();
      kinesis.put(kinesis.shard('shardId-000000000000'), 'a', 'b');
      const finished: string[] = [];
      let calls = 0;
      const events = source(kinesis, {
        batchSize: 1,
        maximumRetryAttempts: 0,
        handler: (_event, context, callback) => {
          calls += 1;
          // The second invocation opts out, as `context.callbackWaitsForEmptyEventLoop = false` does on Lambda.
          if (calls === 2) context.callbackWaitsForEmptyEventLoop = false;
          get(`${url}/after-callback-${calls}`, (response) =>
            response.resume().on('end', () => finished.push(`call ${calls}`)),
          ).on('error', () => undefined);
          callback(null);
        },
      });
      await events.start();
      await events.drain({ timeoutMs: 5000 });
      expect(events.invocations.map((invocation) => invocation.outcome)).toEqual(['success', 'failure']);
      expect(events.invocations[0]!.durationMs).toBeGreaterThanOrEqual(slowMs - 50);
      expect(events.invocations[1]!.error).toBeInstanceOf(PendingWorkError);
      expect(finished[0]).toBe('call 1');
    });

    it('does not blame a handler that awaited its requests, or a request another invocation started', async () => {
      await slowServer();
      const kinesis = new FakeKinesis();
      kinesis.put(kinesis.shard('shardId-000000000000'), 'a', 'b');
      // Started outside any invocation: not the handler's work.
      const outside = fetch(`${url}/outside`).then((response) => response.text());
      const events = source(kinesis, {
        batchSize: 1,
        handler: async () => {
          await new Promise<void>((resolve, reject) =>
            get(`${url}/awaited`, (response) => response.resume().on('end', resolve)).on('error', reject),
          );
          await (await fetch(`${url}/awaited-fetch`)).text();
        },
      });
      await events.start();
      await events.drain({ timeoutMs: 5000 });
      await outside;
      expect(events.invocations.map((invocation) => invocation.outcome)).toEqual(['success', 'success']);
    });
  });

  it('rejects drain with the pending work when a batch keeps failing', async () => {
    const kinesis = new FakeKinesis();
    const [first] = kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    const events = source(kinesis, {
      handler: async () => {
        throw new Error('always');
      },
    });
    await events.start();
    const error = await events.drain({ timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventSourceDrainTimeoutError);
    const pending = (error as EventSourceDrainTimeoutError).pending;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      shardId: 'shardId-000000000000',
      bufferedRecords: 1,
      firstPendingSequenceNumber: first,
    });
    expect(pending[0]!.retryingBatchInvocations).toBeGreaterThan(0);
    expect((error as Error).message).toContain('shardId-000000000000');
  });

  it('reads a parent shard to its end before its child', async () => {
    const kinesis = new FakeKinesis();
    const parent = kinesis.shard('shardId-000000000000');
    const child = kinesis.shard('shardId-000000000001', 'shardId-000000000000');
    kinesis.put(parent, 'p1', 'p2');
    parent.closed = true;
    kinesis.put(child, 'c1');
    const order: string[] = [];
    const events = source(kinesis, {
      batchSize: 1,
      handler: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        order.push(...dataOf(event));
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(order).toEqual(['p1', 'p2', 'c1']);
  });

  it('with LATEST delivers only records written after start()', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    kinesis.put(shard, 'before');
    const seen: string[] = [];
    const events = source(kinesis, {
      startingPosition: 'LATEST',
      handler: async (event) => void seen.push(...dataOf(event)),
    });
    await events.start();
    kinesis.put(shard, 'after');
    await events.drain({ timeoutMs: 5000 });
    expect(seen).toEqual(['after']);
  });

  it('retries throttled reads and delivers everything', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    kinesis.failures.push(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
      }),
    );
    const seen: string[] = [];
    const events = source(kinesis, { handler: async (event) => void seen.push(...dataOf(event)) });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(seen).toEqual(['a']);
  });

  it('stops and rejects drain when reading fails for good', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    kinesis.failures.push(
      Object.assign(new Error('Stream orders not found'), {
        name: 'ResourceNotFoundException',
        $fault: 'client',
      }),
    );
    const events = source(kinesis, { handler: async () => undefined });
    await events.start();
    await expect(events.drain({ timeoutMs: 5000 })).rejects.toBeInstanceOf(EventSourceFailedError);
  });

  it('stops and rejects drain when the onFailure callback throws', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    const events = source(kinesis, {
      maximumRetryAttempts: 0,
      onFailure: () => {
        throw new Error('destination down');
      },
      handler: async () => {
        throw new Error('handler down');
      },
    });
    await events.start();
    const error = await events.drain({ timeoutMs: 5000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventSourceFailedError);
    expect((error as Error).message).toContain('destination down');
  });

  it('waits for the invocation in flight on stop, and stops polling', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    let finished = false;
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const events = source(kinesis, {
      handler: async () => {
        started();
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished = true;
      },
    });
    await events.start();
    await running;
    await events.stop();
    expect(finished).toBe(true);
    const calls = kinesis.getRecordsCalls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(kinesis.getRecordsCalls).toBe(calls);
    await expect(events.drain()).rejects.toBeInstanceOf(EventSourceStateError);
  });

  it('reads an idle shard less and less often, and at once again on drain', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    const events = source(kinesis, { pollIntervalMs: 5, handler: async () => undefined });
    await events.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // At a fixed 5 ms interval this would be about 200 reads; backing off to 500 ms it is about 10.
    expect(kinesis.getRecordsCalls).toBeLessThan(30);
    kinesis.put(shard, 'late');
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toHaveLength(1);
  });

  it('refuses to start after stop', async () => {
    const events = source(new FakeKinesis(), { handler: async () => undefined });
    await events.stop();
    await expect(events.start()).rejects.toBeInstanceOf(EventSourceStateError);
  });

  it('accepts handlers typed with @types/aws-lambda, answering by promise, callback or plain return', async () => {
    const kinesis = new FakeKinesis();
    const shard = kinesis.shard('shardId-000000000000');
    const [first] = kinesis.put(shard, 'a', 'b');
    const byCallback: KinesisStreamHandler = (_event, _context, callback) => {
      setTimeout(() => callback(null, { batchItemFailures: [{ itemIdentifier: first! }] }), 5);
    };
    let calls = 0;
    const events = source(kinesis, {
      reportBatchItemFailures: true,
      handler: (event, context, callback) => {
        calls += 1;
        if (calls === 1) return byCallback(event, context, callback);
        if (calls === 2) return callback(new Error('failed through the callback'));
        return callback(null);
      },
    });
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations.map((invocation) => invocation.outcome)).toEqual([
      'partial-failure',
      'failure',
      'success',
    ]);
    expect(events.invocations[1]!.error).toEqual(new Error('failed through the callback'));

    const plain = new FakeKinesis();
    plain.put(plain.shard('shardId-000000000000'), 'c');
    const seen: string[] = [];
    const syncHandler: KinesisStreamHandler = (event) => {
      seen.push(...dataOf(event));
    };
    const syncSource = source(plain, {
      handler: (event, context) => syncHandler(event, context, () => undefined),
    });
    await syncSource.start();
    await syncSource.drain({ timeoutMs: 5000 });
    expect(seen).toEqual(['c']);
    expect(syncSource.invocations[0]!.outcome).toBe('success');
  });

  it('supports await using', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    let stoppedSource: KinesisEventSource | undefined;
    {
      await using events = createKinesisEventSource({
        kinesis: kinesis as unknown as KinesisClient,
        streamName: 'orders',
        handler: async () => undefined,
      });
      await events.start();
      await events.drain({ timeoutMs: 5000 });
      stoppedSource = events;
    }
    await expect(stoppedSource.drain()).rejects.toBeInstanceOf(EventSourceStateError);
  });

  it('refuses to drain before start', async () => {
    const events = source(new FakeKinesis(), { handler: async () => undefined });
    await expect(events.drain()).rejects.toBeInstanceOf(EventSourceStateError);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown option', { batchsize: 10 }, 'batchsize'],
    ['a batch size of 0', { batchSize: 0 }, 'batchSize'],
    ['a batch size over 10,000', { batchSize: 10_001 }, 'batchSize'],
    [
      'a batching window over 300 s',
      { maximumBatchingWindowInSeconds: 301 },
      'maximumBatchingWindowInSeconds',
    ],
    ['a maximum record age under 60 s', { maximumRecordAgeInSeconds: 30 }, 'maximumRecordAgeInSeconds'],
    ['maximum retry attempts under -1', { maximumRetryAttempts: -2 }, 'maximumRetryAttempts'],
    ['AT_TIMESTAMP without a timestamp', { startingPosition: 'AT_TIMESTAMP' }, 'startingPositionTimestamp'],
    [
      'a timestamp without AT_TIMESTAMP',
      { startingPositionTimestamp: new Date() },
      'startingPositionTimestamp',
    ],
    [
      'an invalid timestamp',
      { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: new Date(Number.NaN) },
      'startingPositionTimestamp',
    ],
    [
      'both streamName and streamArn',
      { streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' },
      'streamArn',
    ],
    [
      'a stream ARN of another service',
      { streamName: undefined, streamArn: 'arn:aws:sqs:us-east-1:123456789012:q' },
      'streamArn',
    ],
    ['a function timeout over 900 s', { functionTimeoutSeconds: 901 }, 'functionTimeoutSeconds'],
    ['a function timeout of 0', { functionTimeoutSeconds: 0 }, 'functionTimeoutSeconds'],
    ['a memory size under 128 MB', { memoryLimitInMB: 64 }, 'memoryLimitInMB'],
    ['a function name with a space', { functionName: 'my function' }, 'functionName'],
    ['a non-boolean reportBatchItemFailures', { reportBatchItemFailures: 'yes' }, 'reportBatchItemFailures'],
    ['both handler and handlerModule', { handlerModule: async () => ({}) }, 'handlerModule'],
    ['neither handler nor handlerModule', { handler: undefined }, 'handler'],
    [
      'an empty handlerExport',
      { handler: undefined, handlerModule: async () => ({}), handlerExport: '' },
      'handlerExport',
    ],
    ['a client config with an unknown key', { kinesis: { regoin: 'eu-west-1' } }, 'kinesis.regoin'],
  ])('refuses %s with a ConfigurationError naming the option', (_, options, option) => {
    const invalid = { handler: async () => undefined, ...options } as unknown as KinesisEventSourceOptions;
    expect(() => source(new FakeKinesis(), invalid)).toThrow(ConfigurationError);
    expect(() => source(new FakeKinesis(), invalid)).toThrow(
      expect.objectContaining({ factory: 'createKinesisEventSource', option }),
    );
  });

  it('applies EVENT_SOURCE_DEFAULTS, which is frozen', () => {
    expect(Object.isFrozen(EVENT_SOURCE_DEFAULTS)).toBe(true);
    const { startingPosition: _, ...shared } = EVENT_SOURCE_DEFAULTS;
    expect(() => source(new FakeKinesis(), { handler: async () => undefined, ...shared })).not.toThrow();
  });

  it('accepts a stream ARN instead of a name', async () => {
    const kinesis = new FakeKinesis();
    kinesis.put(kinesis.shard('shardId-000000000000'), 'a');
    const events = createKinesisEventSource({
      kinesis: kinesis as unknown as KinesisClient,
      streamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/orders',
      handler: async () => undefined,
    });
    sources.push(events);
    await events.start();
    await events.drain({ timeoutMs: 5000 });
    expect(events.invocations).toHaveLength(1);
  });
});
