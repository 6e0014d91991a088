/**
 * A Lambda stream source simulated over the real engines: random batch cuts, a command's items
 * shuffled, PutRecords entries failing, invocations killed mid-wave, and Lambda retrying from the
 * reported record. Seeded (TIDEMARK_SEED); the seed is printed.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { newCommandId } from '@tidemark/core';
import { test } from '@tidemark/testing/vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { createPublisher } from '../../src/index';
import { memoryLogger } from '../helpers/fakes';
import { captureStream, testEventLog } from '../helpers/integration-fixture';
import { firstArrivalVersions, readStream } from '../helpers/kinesis-reader';

describe('the publisher under a simulated stream source (review)', () => {
  test('random cuts, shuffled commands, failing entries and killed invocations: every event arrives, first arrivals in version order', async ({
    aws,
    eventLogTable,
  }) => {
    const seed = Number(process.env.TIDEMARK_SEED ?? Date.now() % 100_000);
    console.log(`publisher simulation seed: ${seed}`);
    let state = seed;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
    const { streamName } = await aws.createKinesisStream({ shardCount: 2 });
    const log = testEventLog(aws, eventLogTable.tableName);
    const written = new Map<string, number>();
    const commands: { key: string; size: number }[] = [];
    for (let a = 0; a < 7; a += 1) {
      const sizes = a === 0 ? [1, 99, 2] : Array.from({ length: 4 }, () => pick([1, 1, 2, 3, 7, 20]));
      for (const size of sizes) commands.push({ key: `sim-${a}`, size });
    }
    // Aggregates written interleaved, command by command.
    for (let i = commands.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [commands[i], commands[j]] = [commands[j]!, commands[i]!];
    }
    for (const { key, size } of commands) {
      await log.append({
        aggregate: { type: 'Task', id: key },
        commandId: newCommandId(),
        events: Array.from({ length: size }, (_, k) => ({
          type: 'TaskRenamed' as const,
          data: { name: `${k}` },
        })),
      });
      written.set(`Task#${key}`, (written.get(`Task#${key}`) ?? 0) + size);
    }
    const captured = await captureStream(aws, eventLogTable.streamArn);
    const total = [...written.values()].reduce((sum, n) => sum + n, 0);
    expect(captured).toHaveLength(total);
    // The stream keeps the items of one transaction neither together in order: shuffle each command.
    const commandOf = (record: DynamoDBRecord) =>
      `${record.dynamodb!.Keys!.pk!.S}@${record.dynamodb!.NewImage!.commandFirstVersion!.N}`;
    const stream: DynamoDBRecord[] = [];
    for (let start = 0; start < captured.length; ) {
      let end = start + 1;
      while (end < captured.length && commandOf(captured[end]!) === commandOf(captured[start]!)) end += 1;
      const group = captured.slice(start, end);
      for (let i = group.length - 1; i > 0; i -= 1) {
        const j = Math.floor(random() * (i + 1));
        [group[i], group[j]] = [group[j]!, group[i]!];
      }
      stream.push(...group);
      start = end;
    }

    await aws.faults.set({
      seed,
      kinesis: { putRecordsEntryFailureRate: 0.05, throttleRate: 0.05, operations: ['PutRecords'] },
    });
    let invocations = 0;
    let kills = 0;
    try {
      let position = 0;
      while (position < stream.length) {
        invocations += 1;
        expect(invocations).toBeLessThan(400);
        const batch = stream.slice(position, position + 1 + Math.floor(random() * 60));
        // A killed invocation: after some calls, every PutRecords call of it hangs forever, as in a
        // runtime that was stopped (calls already sent still land).
        const kill = { callsLeft: random() < 0.4 ? Math.floor(random() * 4) : Number.POSITIVE_INFINITY };
        const kinesis = {
          config: aws.kinesis.config,
          send: (command: Parameters<KinesisClient['send']>[0], options?: object) => {
            kill.callsLeft -= 1;
            if (kill.callsLeft < 0) return new Promise<never>(() => {});
            return aws.kinesis.send(command, options);
          },
        } as unknown as KinesisClient;
        const publisher = createPublisher({
          kinesis,
          dynamodb: aws.dynamodb,
          streamName,
          logger: memoryLogger().logger,
        });
        const invocation = publisher.publishBatch({ Records: batch });
        const outcome = await Promise.race([
          invocation,
          new Promise<'killed'>((resolve) => {
            const check = setInterval(() => {
              if (kill.callsLeft < 0) {
                clearInterval(check);
                // Let the calls already in flight land, as a stopped runtime's sent requests do.
                setTimeout(() => resolve('killed'), 200);
              }
            }, 5);
            invocation.finally(() => clearInterval(check));
          }),
        ]);
        if (outcome === 'killed') {
          kills += 1;
          continue; // Lambda retries the whole batch
        }
        const failure = outcome.batchItemFailures[0]?.itemIdentifier;
        if (failure === undefined) position += batch.length;
        else {
          const at = stream.findIndex((record) => record.dynamodb!.SequenceNumber === failure);
          expect(at).toBeGreaterThanOrEqual(position);
          position = at;
        }
      }
    } finally {
      await aws.faults.clear();
    }
    console.log(`invocations: ${invocations}, killed: ${kills}, events: ${total}`);
    const firsts = firstArrivalVersions(await readStream(aws.kinesis, streamName));
    for (const [key, count] of written) {
      expect(firsts.get(key), key).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    }
  }, 240_000);
});
