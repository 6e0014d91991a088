import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  AccessDeniedException,
  InvalidArgumentException,
  ProvisionedThroughputExceededException as KinesisThroughputExceeded,
  KMSAccessDeniedException,
  KMSThrottlingException,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { awsErrorName, cancellationReasons, classifyAwsError } from '../../src/internal';

const $metadata = { httpStatusCode: 400 };
const CANCELLED = 'Transaction cancelled, please refer cancellation reasons for specific reasons';

function cancelled(codes: (string | undefined)[], options: { inMessageOnly?: boolean } = {}) {
  return new TransactionCanceledException({
    message: `${CANCELLED} [${codes.map((code) => code ?? 'None').join(', ')}]`,
    $metadata,
    ...(options.inMessageOnly ? {} : { CancellationReasons: codes.map((Code) => (Code ? { Code } : {})) }),
  });
}

describe('classifyAwsError on the SDK v3 exceptions', () => {
  it.each([
    [
      'DynamoDB throughput',
      new ProvisionedThroughputExceededException({ message: 'x', $metadata }),
      'throttling',
    ],
    ['DynamoDB request limit', new RequestLimitExceeded({ message: 'x', $metadata }), 'throttling'],
    ['Kinesis throughput', new KinesisThroughputExceeded({ message: 'x', $metadata }), 'throttling'],
    ['KMS throttling', new KMSThrottlingException({ message: 'x', $metadata }), 'throttling'],
    ['a transaction conflict', new TransactionConflictException({ message: 'x', $metadata }), 'transient'],
    [
      'a server error',
      new InternalServerError({ message: 'x', $metadata: { httpStatusCode: 500 } }),
      'transient',
    ],
    ['a condition', new ConditionalCheckFailedException({ message: 'x', $metadata }), 'conditional'],
    ['a missing table', new ResourceNotFoundException({ message: 'x', $metadata }), 'not-found'],
    ['a denied action', new AccessDeniedException({ message: 'x', $metadata }), 'access-denied'],
    ['a denied key', new KMSAccessDeniedException({ message: 'x', $metadata }), 'access-denied'],
    ['an invalid argument', new InvalidArgumentException({ message: 'x', $metadata }), 'validation'],
  ])('%s', (_what, error, kind) => {
    const classification = classifyAwsError(error);
    expect(classification.kind).toBe(kind);
    expect(classification.name).toBe(error.name);
    expect(classification.retryable).toBe(kind === 'throttling' || kind === 'transient');
  });

  it('tells a refusal from a failure whose outcome is unknown', () => {
    expect(
      classifyAwsError(new TransactionConflictException({ message: 'x', $metadata })).outcomeUnknown,
    ).toBe(false);
    expect(
      classifyAwsError(new ProvisionedThroughputExceededException({ message: 'x', $metadata }))
        .outcomeUnknown,
    ).toBe(false);
    expect(
      classifyAwsError(new InternalServerError({ message: 'x', $metadata: { httpStatusCode: 500 } }))
        .outcomeUnknown,
    ).toBe(true);
  });

  it('classifies unmodelled service errors by their HTTP status, network errors by their code', () => {
    const unavailable = new DynamoDBServiceException({
      name: 'SomethingNew',
      $fault: 'server',
      message: 'x',
      $metadata: { httpStatusCode: 503 },
    });
    expect(classifyAwsError(unavailable)).toMatchObject({
      kind: 'transient',
      retryable: true,
      outcomeUnknown: true,
    });
    const tooMany = new DynamoDBServiceException({
      name: 'SomethingNew',
      $fault: 'client',
      message: 'x',
      $metadata: { httpStatusCode: 429 },
    });
    expect(classifyAwsError(tooMany).kind).toBe('throttling');
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAwsError(reset)).toMatchObject({
      kind: 'transient',
      name: 'ECONNRESET',
      outcomeUnknown: true,
    });
    expect(classifyAwsError(Object.assign(new Error('slow'), { name: 'TimeoutError' })).kind).toBe(
      'transient',
    );
    expect(classifyAwsError(new TypeError('bug'))).toMatchObject({ kind: 'other', retryable: false });
    expect(classifyAwsError('a string')).toMatchObject({ kind: 'other', name: 'string' });
    expect(classifyAwsError(null)).toMatchObject({ kind: 'other', name: 'null' });
  });
});

describe('cancellation reasons', () => {
  it('reads CancellationReasons, with messages and returned items', () => {
    const error = new TransactionCanceledException({
      message: `${CANCELLED} [ConditionalCheckFailed, None]`,
      $metadata,
      CancellationReasons: [
        {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          Item: { revision: { N: '7' } },
        },
        { Code: 'None' },
      ],
    });
    expect(cancellationReasons(error)).toEqual([
      {
        code: 'ConditionalCheckFailed',
        message: 'The conditional request failed',
        item: { revision: { N: '7' } },
      },
      { code: 'None' },
    ]);
    expect(classifyAwsError(error)).toMatchObject({
      kind: 'cancelled',
      retryable: false,
      outcomeUnknown: false,
    });
  });

  it('reads the reasons from the message when the engine sends only that', () => {
    const error = cancelled(['None', 'ConditionalCheckFailed'], { inMessageOnly: true });
    expect(cancellationReasons(error)).toEqual([{ code: 'None' }, { code: 'ConditionalCheckFailed' }]);
  });

  it('is retryable only when every refused item passes by waiting', () => {
    expect(classifyAwsError(cancelled(['None', 'TransactionConflict'])).retryable).toBe(true);
    expect(classifyAwsError(cancelled(['ThrottlingError', 'ProvisionedThroughputExceeded'])).retryable).toBe(
      true,
    );
    expect(classifyAwsError(cancelled(['TransactionConflict', 'ConditionalCheckFailed'])).retryable).toBe(
      false,
    );
    expect(classifyAwsError(cancelled(['ValidationError', 'None'])).retryable).toBe(false);
    expect(classifyAwsError(cancelled(['TransactionConflict'], { inMessageOnly: true })).retryable).toBe(
      true,
    );
    expect(classifyAwsError(cancelled([undefined, undefined])).retryable).toBe(false);
  });

  it('gives no reasons for other errors, and none that are not there', () => {
    expect(
      cancellationReasons(new ConditionalCheckFailedException({ message: 'x', $metadata })),
    ).toBeUndefined();
    const bare = new TransactionCanceledException({ message: 'Transaction cancelled', $metadata });
    expect(cancellationReasons(bare)).toEqual([]);
    expect(classifyAwsError(bare)).toMatchObject({ kind: 'cancelled', retryable: false });
  });

  it('names errors by name, then code', () => {
    expect(awsErrorName(new ResourceNotFoundException({ message: 'x', $metadata }))).toBe(
      'ResourceNotFoundException',
    );
    expect(awsErrorName(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe('EPIPE');
    expect(awsErrorName(new Error('x'))).toBe('Error');
    expect(awsErrorName(undefined)).toBe('undefined');
  });
});
