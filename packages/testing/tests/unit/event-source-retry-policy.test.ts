import { describe, expect, it } from 'vitest';
import {
  decideAfterInvocation,
  expiredPrefix,
  interpretResponse,
  retryDelayMs,
} from '../../src/event-source/retry-policy';

const batch = ['100', '200', '300', '400'];

describe('interpretResponse', () => {
  it('ignores the response without reportBatchItemFailures', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '200' }] }, batch, false)).toEqual({
      kind: 'success',
    });
    expect(interpretResponse('garbage', batch, false)).toEqual({ kind: 'success' });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as success', (_, response) => {
    expect(interpretResponse(response, batch, true)).toEqual({ kind: 'success' });
  });

  it('checkpoints before the lowest reported sequence number, whatever the order of the list', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '400' }, { itemIdentifier: '200' }] };
    expect(interpretResponse(response, batch, true)).toEqual({ kind: 'partial-failure', failedIndex: 1 });
  });

  it('compares sequence numbers as numbers, not text', () => {
    const long = ['9', '10', '11'];
    const response = { batchItemFailures: [{ itemIdentifier: '11' }, { itemIdentifier: '10' }] };
    expect(interpretResponse(response, long, true)).toEqual({ kind: 'partial-failure', failedIndex: 1 });
  });

  it('treats an empty array response as a success, as Lambda does', () => {
    expect(interpretResponse([], batch, true)).toEqual({ kind: 'success' });
  });

  it.each([
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['an identifier under a wrong key', { batchItemFailures: [{ itemId: '200' }] }],
    ['an unknown identifier', { batchItemFailures: [{ itemIdentifier: '999' }] }],
    ['a numeric identifier', { batchItemFailures: [{ itemIdentifier: 200 }] }],
    [
      'one bad item among good ones',
      { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '' }] },
    ],
    ['a list that is not a list', { batchItemFailures: { itemIdentifier: '200' } }],
    ['a string response', 'ok'],
    ['an array response', [{ itemIdentifier: '200' }]],
  ])('treats %s as a whole-batch failure', (_, response) => {
    expect(interpretResponse(response, batch, true)).toEqual({ kind: 'failure', reason: 'invalid-response' });
  });
});

describe('decideAfterInvocation', () => {
  const noBisect = { bisectBatchOnFunctionError: false, maximumRetryAttempts: -1 };

  it('checkpoints the whole batch on success', () => {
    expect(
      decideAfterInvocation({ size: 4, retries: 2, invocations: 3 }, { kind: 'success' }, noBisect),
    ).toEqual({
      type: 'checkpoint',
      checkpoint: 4,
    });
  });

  it('retries from the failed record after a partial failure, using a retry', () => {
    const decision = decideAfterInvocation(
      { size: 4, retries: 0, invocations: 1 },
      { kind: 'partial-failure', failedIndex: 2 },
      noBisect,
    );
    expect(decision).toEqual({ type: 'retry', checkpoint: 2, work: { size: 2, retries: 1, invocations: 1 } });
  });

  it('retries the whole batch after an error until the retries are used up, then discards it', () => {
    const settings = { bisectBatchOnFunctionError: false, maximumRetryAttempts: 2 };
    const failure = { kind: 'failure', reason: 'error' } as const;
    expect(decideAfterInvocation({ size: 3, retries: 1, invocations: 2 }, failure, settings)).toEqual({
      type: 'retry',
      checkpoint: 0,
      work: { size: 3, retries: 2, invocations: 2 },
    });
    expect(decideAfterInvocation({ size: 3, retries: 2, invocations: 3 }, failure, settings)).toEqual({
      type: 'discard',
      checkpoint: 0,
      discard: 3,
      work: { size: 3, retries: 3, invocations: 3 },
    });
  });

  it('discards at once with maximumRetryAttempts 0', () => {
    const settings = { bisectBatchOnFunctionError: false, maximumRetryAttempts: 0 };
    expect(
      decideAfterInvocation(
        { size: 1, retries: 0, invocations: 1 },
        { kind: 'failure', reason: 'timeout' },
        settings,
      ),
    ).toMatchObject({ type: 'discard', discard: 1 });
  });

  it('discards only the records from the failed one when retries run out after a partial failure', () => {
    const settings = { bisectBatchOnFunctionError: false, maximumRetryAttempts: 0 };
    expect(
      decideAfterInvocation(
        { size: 4, retries: 0, invocations: 1 },
        { kind: 'partial-failure', failedIndex: 3 },
        settings,
      ),
    ).toEqual({ type: 'discard', checkpoint: 3, discard: 1, work: { size: 1, retries: 1, invocations: 1 } });
  });

  it('splits a failed batch in two halves without using a retry when bisecting', () => {
    const settings = { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 };
    expect(
      decideAfterInvocation(
        { size: 5, retries: 0, invocations: 1 },
        { kind: 'failure', reason: 'error' },
        settings,
      ),
    ).toEqual({
      type: 'split',
      halves: [
        { size: 3, retries: 0, invocations: 1 },
        { size: 2, retries: 0, invocations: 1 },
      ],
    });
  });

  it('treats an invalid response like an error when bisecting', () => {
    const settings = { bisectBatchOnFunctionError: true, maximumRetryAttempts: -1 };
    expect(
      decideAfterInvocation(
        { size: 2, retries: 0, invocations: 1 },
        { kind: 'failure', reason: 'invalid-response' },
        settings,
      ),
    ).toMatchObject({ type: 'split' });
  });

  it('retries a single record that cannot be split any more', () => {
    const settings = { bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 };
    const failure = { kind: 'failure', reason: 'error' } as const;
    expect(decideAfterInvocation({ size: 1, retries: 0, invocations: 3 }, failure, settings)).toMatchObject({
      type: 'retry',
    });
    expect(decideAfterInvocation({ size: 1, retries: 1, invocations: 4 }, failure, settings)).toMatchObject({
      type: 'discard',
      discard: 1,
    });
  });

  it('does not split on a partial failure, it resumes from the failed record', () => {
    const settings = { bisectBatchOnFunctionError: true, maximumRetryAttempts: -1 };
    expect(
      decideAfterInvocation(
        { size: 4, retries: 0, invocations: 1 },
        { kind: 'partial-failure', failedIndex: 1 },
        settings,
      ),
    ).toEqual({ type: 'retry', checkpoint: 1, work: { size: 3, retries: 1, invocations: 1 } });
  });
});

describe('expiredPrefix', () => {
  it('counts the records at the head older than the maximum age', () => {
    const now = 1_000_000;
    expect(expiredPrefix([now - 70_000, now - 61_000, now - 59_000, now - 70_000], now, 60)).toBe(2);
  });

  it('never expires with -1', () => {
    expect(expiredPrefix([0, 1], 10 ** 12, -1)).toBe(0);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 50 ms and stops at 1 s', () => {
    expect([1, 2, 3, 10].map(retryDelayMs)).toEqual([50, 100, 200, 1000]);
  });
});
