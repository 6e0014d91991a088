/**
 * The life of one call to a fake, shared by the DynamoDB and Kinesis models: the `onBeforeSend`
 * hook, a seeded refusal (throttle or server error), the operation itself (atomic: it runs without
 * an await), a seeded lost answer, the `onAfterSend` hook, and the caller's `abortSignal`.
 */
import { FakeUnsupportedError } from '../errors';

/** One call as the hooks see it. */
export interface FakeCall<Operation extends string> {
  /** The operation, e.g. `'TransactWriteItems'` or `'PutRecords'`. */
  readonly operation: Operation;
  /** The command's input, as sent. */
  readonly input: Readonly<Record<string, unknown>>;
  /** The position of this call among all calls to this fake (from 1). */
  readonly callIndex: number;
}

/** One finished call as `onAfterSend` sees it: either `output` or `error`. */
export interface FakeCallOutcome<Operation extends string> extends FakeCall<Operation> {
  /** The answer the caller will get (when the call succeeded). */
  readonly output?: Readonly<Record<string, unknown>>;
  /** The error the caller will get (when the call failed, or its answer was lost). */
  readonly error?: unknown;
  /** Whether the operation was carried out (its writes are stored), whatever the caller gets. */
  readonly applied: boolean;
}

/** The hooks around every call. */
export interface FakeHooks<Operation extends string> {
  readonly onBeforeSend?: ((call: FakeCall<Operation>) => void | Promise<void>) | undefined;
  readonly onAfterSend?: ((outcome: FakeCallOutcome<Operation>) => void | Promise<void>) | undefined;
}

/** What the pipeline needs from a model for one call. */
export interface CallSteps<Operation extends string> {
  readonly call: FakeCall<Operation>;
  readonly hooks: FakeHooks<Operation>;
  readonly abortSignal: AbortSignal | undefined;
  /** The seeded refusal of this call, if any (thrown before anything happens). */
  readonly refuse: () => unknown;
  /** Carries the operation out, or throws the service's error. */
  readonly execute: () => Record<string, unknown>;
  /** Maps an internal signal to the SDK error the caller sees. */
  readonly toServiceError: (error: unknown) => unknown;
  /** The error that replaces the answer when the seeded plan loses it, if any. */
  readonly loseAnswer: () => unknown;
  /** Response metadata of a successful call. */
  readonly metadata: () => Record<string, unknown>;
}

function abortError(signal: AbortSignal): Error {
  const error = new Error(
    `Request aborted${signal.reason === undefined ? '' : `: ${String(signal.reason)}`}`,
  );
  error.name = 'AbortError';
  return error;
}

/** Runs one call through its steps. */
export async function runCall<Operation extends string>(
  steps: CallSteps<Operation>,
): Promise<Record<string, unknown>> {
  const { call, hooks, abortSignal } = steps;
  if (abortSignal?.aborted) throw abortError(abortSignal);
  await hooks.onBeforeSend?.(call);
  if (abortSignal?.aborted) throw abortError(abortSignal);
  const refusal = steps.refuse();
  if (refusal !== undefined) {
    await hooks.onAfterSend?.({ ...call, error: refusal, applied: false });
    throw refusal;
  }
  let output: Record<string, unknown>;
  try {
    output = steps.execute();
  } catch (caught) {
    const error = steps.toServiceError(caught);
    await hooks.onAfterSend?.({ ...call, error, applied: false });
    throw error;
  }
  const lost = steps.loseAnswer();
  if (lost !== undefined) {
    await hooks.onAfterSend?.({ ...call, error: lost, applied: true });
    throw lost;
  }
  const answer = { ...output, $metadata: steps.metadata() };
  await hooks.onAfterSend?.({ ...call, output: answer, applied: true });
  return answer;
}

/** The operation of an SDK v3 command, from its class name (`PutItemCommand` → `PutItem`). */
export function commandOperation(command: unknown): string {
  const name = (command as { constructor?: { name?: string } } | null)?.constructor?.name ?? '';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

/** The operation of an SDK command a fake implements, or a `FakeUnsupportedError` naming what it does. */
export function supportedOperation<Operation extends string>(
  fake: string,
  command: unknown,
  supported: readonly Operation[],
): Operation {
  const operation = commandOperation(command);
  if (!(supported as readonly string[]).includes(operation)) {
    throw new FakeUnsupportedError(`${fake} does not implement ${operation || 'this'}Command`, {
      command: operation,
      supported: [...supported],
    });
  }
  return operation as Operation;
}
