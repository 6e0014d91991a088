import { classifyAwsError } from '@tidemark/core/internal';
import { describe, expect, it } from 'vitest';
import { TransientAppendFailure, transientFailure } from '../../src/transient-errors';
import { awsError } from '../helpers/fakes';

const canceled = (fields: { CancellationReasons?: { Code?: string }[]; message?: string }) =>
  Object.assign(awsError('TransactionCanceledException'), fields);

describe('transientFailure', () => {
  it('keeps only the transient reasons of a cancellation; the outcome is known (nothing committed)', () => {
    const error = canceled({ CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
    const failure = transientFailure(error, classifyAwsError(error));
    expect(failure).toBeInstanceOf(TransientAppendFailure);
    expect(failure).toMatchObject({
      reasons: ['TransactionConflict'],
      outcomeUnknown: false,
      original: error,
    });
  });

  it('is undefined for a cancellation without a transient reason', () => {
    const error = canceled({ CancellationReasons: [{ Code: 'ValidationError' }] });
    expect(transientFailure(error, classifyAwsError(error))).toBeUndefined();
  });

  it('retries throttling with a known outcome, and server errors with an unknown one', () => {
    expect(
      transientFailure(awsError('ThrottlingException'), classifyAwsError(awsError('ThrottlingException'))),
    ).toMatchObject({
      reasons: ['ThrottlingException'],
      outcomeUnknown: false,
    });
    for (const name of ['InternalServerError', 'ServiceUnavailable']) {
      expect(transientFailure(awsError(name), classifyAwsError(awsError(name)))).toMatchObject({
        reasons: [name],
        outcomeUnknown: true,
      });
    }
  });

  it('is undefined for an error that is not transient', () => {
    expect(
      transientFailure(awsError('ValidationException'), classifyAwsError(awsError('ValidationException'))),
    ).toBeUndefined();
    expect(
      transientFailure(new Error('socket hang up'), classifyAwsError(new Error('socket hang up'))),
    ).toBeUndefined();
  });
});
