import { describe, expect, it } from 'vitest';
import { cancellationReasons, TransientAppendFailure, transientFailure } from '../../src/transient-errors';
import { awsError } from '../helpers/fakes';

const canceled = (fields: { CancellationReasons?: { Code?: string }[]; message?: string }) =>
  Object.assign(awsError('TransactionCanceledException'), fields);

describe('cancellationReasons', () => {
  it('reads the reason codes of a TransactionCanceledException, None for a reason without a code', () => {
    const error = canceled({
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, {}],
    });
    expect(cancellationReasons(error)).toEqual(['None', 'ConditionalCheckFailed', 'None']);
  });

  it('falls back to the reasons an emulator lists only in the message', () => {
    const error = canceled({
      message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
    });
    expect(cancellationReasons(error)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(cancellationReasons(canceled({ message: 'no list here' }))).toEqual([]);
  });

  it('is undefined for any other error', () => {
    expect(cancellationReasons(awsError('ThrottlingException'))).toBeUndefined();
    expect(cancellationReasons('a string')).toBeUndefined();
  });
});

describe('transientFailure', () => {
  it('keeps only the transient reasons of a cancellation; the outcome is known (nothing committed)', () => {
    const error = canceled({ CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
    const failure = transientFailure(error, cancellationReasons(error));
    expect(failure).toBeInstanceOf(TransientAppendFailure);
    expect(failure).toMatchObject({
      reasons: ['TransactionConflict'],
      outcomeUnknown: false,
      original: error,
    });
  });

  it('is undefined for a cancellation without a transient reason', () => {
    const error = canceled({ CancellationReasons: [{ Code: 'ValidationError' }] });
    expect(transientFailure(error, cancellationReasons(error))).toBeUndefined();
  });

  it('retries throttling with a known outcome, and server errors with an unknown one', () => {
    expect(transientFailure(awsError('ThrottlingException'), undefined)).toMatchObject({
      reasons: ['ThrottlingException'],
      outcomeUnknown: false,
    });
    for (const name of ['InternalServerError', 'ServiceUnavailable']) {
      expect(transientFailure(awsError(name), undefined)).toMatchObject({
        reasons: [name],
        outcomeUnknown: true,
      });
    }
  });

  it('is undefined for an error that is not transient', () => {
    expect(transientFailure(awsError('ValidationException'), undefined)).toBeUndefined();
    expect(transientFailure(new Error('socket hang up'), undefined)).toBeUndefined();
  });
});
