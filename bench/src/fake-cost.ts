/**
 * The CPU benchmarks run Tidemark against the strict in-memory fakes of `@tidemark/testing/fakes`
 * (as strict as the services: limits, conditions, sizes), but the fakes' own work is not
 * Tidemark's. A recorder keeps every command a fake received; after a measured round the commands
 * are replayed, one after the other, on a copy of the fake as it was before the round, and the CPU
 * of that replay is what the round's figure is cleared of.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { FakeDynamoDB, FakeKinesis } from '@tidemark/testing/fakes';

type Fake = FakeDynamoDB | FakeKinesis;

/** A client in front of a fake that records every command it passes on. */
export class RecordingClient<TFake extends Fake> {
  /** The commands sent since the last {@link RecordingClient.take}. */
  #commands: unknown[] = [];

  constructor(readonly fake: TFake) {}

  /** What Tidemark is given: `send` records, then hands the command to the fake. */
  get client(): TFake extends FakeDynamoDB ? DynamoDBClient : KinesisClient {
    const fake = this.fake;
    const commands = this.#commands;
    return {
      config: fake.config,
      send: (command: unknown, options?: { abortSignal?: AbortSignal }) => {
        commands.push(command);
        return fake.send(command, options);
      },
      destroy: () => {},
    } as never;
  }

  /** The commands recorded so far; forgets them. */
  take(): unknown[] {
    return this.#commands.splice(0, this.#commands.length);
  }
}

/**
 * CPU (user + system, µs) `fake` spends answering `commands` one after the other. Give it a fake in
 * the state the recorded one had before the round (`restore(snapshot)`). A call the fake refuses
 * (a conditional write that failed in the round fails again) is work of the fake too: it is
 * counted in `refused`, so the caller can check the replay met what the round met.
 */
export async function replayCpu(
  fake: Fake,
  commands: readonly unknown[],
): Promise<{ cpuMicros: number; refused: number }> {
  let refused = 0;
  const start = process.cpuUsage();
  for (const command of commands) {
    try {
      await fake.send(command);
    } catch {
      refused += 1;
    }
  }
  const used = process.cpuUsage(start);
  return { cpuMicros: used.user + used.system, refused };
}
