/**
 * Running the same operations against a fake and a local emulator, and reducing each answer to a
 * comparable outcome: the output without metadata, or the error's name (with cancellation reason
 * codes and items for a cancelled transaction).
 */

/** What one call came to. */
export type Outcome =
  | { readonly ok: unknown }
  | {
      readonly error: string;
      readonly reasons?: readonly { code: string; item?: unknown }[];
      readonly item?: unknown;
    };

interface Sender {
  send(command: never): Promise<unknown>;
}

/** Removes what differs between any two services' answers (metadata, capacity) and orders Scan pages. */
function normalize(output: unknown): unknown {
  if (output === null || typeof output !== 'object') return output;
  const { $metadata: _metadata, ConsumedCapacity: _capacity, ...rest } = output as Record<string, unknown>;
  return rest;
}

/** The cancellation reasons of an error, from its structured field or (for emulators) its message. */
export function reasonsOf(error: {
  CancellationReasons?: { Code?: string; Item?: unknown }[];
  message?: string;
}) {
  if (Array.isArray(error.CancellationReasons) && error.CancellationReasons.length > 0) {
    return error.CancellationReasons.map((reason) => ({
      code: reason.Code ?? 'None',
      ...(reason.Item === undefined ? {} : { item: reason.Item }),
    }));
  }
  const listed = /\[([^\]]*)\]/.exec(error.message ?? '')?.[1];
  return listed ? listed.split(',').map((code) => ({ code: code.trim() })) : [];
}

/** Sends a command and reduces the answer to an {@link Outcome} (its error message, if any, to `onMessage`). */
export async function outcomeOf(
  client: Sender,
  command: unknown,
  onMessage?: (message: string | undefined) => void,
): Promise<Outcome> {
  try {
    const output = normalize(await client.send(command as never));
    onMessage?.(undefined);
    return { ok: output };
  } catch (caught) {
    const error = caught as Error & {
      CancellationReasons?: { Code?: string; Item?: unknown }[];
      Item?: unknown;
    };
    onMessage?.(error.message);
    if (error.name === 'TransactionCanceledException')
      return { error: error.name, reasons: reasonsOf(error) };
    if (error.name === 'ConditionalCheckFailedException' && error.Item !== undefined)
      return { error: error.name, item: error.Item };
    return { error: error.name };
  }
}

/** Sends each command (built afresh per client) in order to both clients; keeps the fake's error messages. */
export async function runBoth(
  fake: Sender,
  local: Sender,
  steps: readonly (() => unknown)[],
): Promise<{ fake: Outcome[]; local: Outcome[]; fakeMessages: (string | undefined)[] }> {
  const fakeOutcomes: Outcome[] = [];
  const localOutcomes: Outcome[] = [];
  const fakeMessages: (string | undefined)[] = [];
  for (const step of steps) {
    fakeOutcomes.push(await outcomeOf(fake, step(), (message) => fakeMessages.push(message)));
    localOutcomes.push(await outcomeOf(local, step()));
  }
  return { fake: fakeOutcomes, local: localOutcomes, fakeMessages };
}

/** A short description of outcomes for failure messages. */
export function describeOutcomes(outcomes: readonly Outcome[]): string[] {
  return outcomes.map((outcome) =>
    'ok' in outcome
      ? 'ok'
      : `${outcome.error}${outcome.reasons ? ` [${outcome.reasons.map((reason) => reason.code).join(', ')}]` : ''}`,
  );
}
