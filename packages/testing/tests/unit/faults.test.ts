import { LocalAwsOptionsError } from '@tidemark/testing';
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/faults/fault-injector';
import { validateFaultSettings } from '../../src/faults/fault-settings';

describe('validateFaultSettings', () => {
  it('accepts every documented setting', () => {
    const settings = {
      seed: 9,
      latencyMs: 20,
      maxFaults: 4,
      kinesis: {
        putRecordsEntryFailureRate: 0.25,
        throttleRate: 0.1,
        throttleError: 'LimitExceededException',
        operations: ['PutRecords'],
      },
      dynamodb: {
        failureRate: 1,
        operations: ['TransactWriteItems', 'UpdateItem'],
        error: 'ThrottlingException',
      },
      dynamodbStreams: { failureRate: 0.5, error: 'InternalServerError' },
    } as const;

    expect(validateFaultSettings(settings)).toEqual(settings);
  });

  it.each([
    [{ kinesis: { throttelRate: 1 } }, /Unknown option faults\.kinesis\.throttelRate/],
    [{ latency: 5 }, /Unknown option faults\.latency/],
    [{ dynamodb: { failureRate: 1.5 } }, /faults\.dynamodb\.failureRate must be a number from 0 to 1/],
    [{ dynamodb: { failureRate: Number.NaN } }, /from 0 to 1/],
    [{ latencyMs: -1 }, /faults\.latencyMs must be an integer/],
    [{ seed: 1.5 }, /faults\.seed must be an integer/],
    [{ kinesis: { throttleError: 'Nope' } }, /must be one of ProvisionedThroughputExceededException/],
    [{ dynamodb: { error: 'ValidationException' } }, /must be one of/],
    [{ dynamodb: { operations: [] } }, /non-empty array/],
    [{ kinesis: [] }, /faults\.kinesis must be an object/],
    [null, /faults must be an object/],
  ])('rejects %j', (input, message) => {
    expect(() => validateFaultSettings(input)).toThrow(LocalAwsOptionsError);
    expect(() => validateFaultSettings(input)).toThrow(message);
  });
});

describe('FaultInjector', () => {
  it('injects nothing by default and counts calls', () => {
    const injector = new FaultInjector();

    expect(injector.latencyFor('dynamodb', 'PutItem')).toBe(0);
    expect(injector.callError('dynamodb', 'PutItem')).toBeUndefined();
    expect(injector.putRecordsEntryFaultsActive).toBe(false);
    expect(injector.stats()).toMatchObject({
      requests: 1,
      injected: 0,
      byOperation: {},
      requestsByOperation: { 'DynamoDB.PutItem': 1 },
    });
  });

  it('counts every request per operation, faulted or not, and resets on set', () => {
    const injector = new FaultInjector();
    injector.set({ seed: 5, dynamodb: { failureRate: 0.5, operations: ['UpdateItem'] } });
    let injected = 0;
    for (let call = 0; call < 40; call += 1) {
      injector.latencyFor('dynamodb', 'UpdateItem');
      if (injector.callError('dynamodb', 'UpdateItem')) injected += 1;
      injector.latencyFor('kinesis', 'GetRecords');
      injector.callError('kinesis', 'GetRecords');
    }
    injector.latencyFor('dynamodbStreams', 'GetRecords');

    expect(injected).toBeGreaterThan(0);
    expect(injected).toBeLessThan(40);
    expect(injector.stats()).toMatchObject({
      requests: 81,
      injected,
      byOperation: { 'DynamoDB.UpdateItem': injected },
      requestsByOperation: {
        'DynamoDB.UpdateItem': 40,
        'Kinesis.GetRecords': 40,
        'DynamoDBStreams.GetRecords': 1,
      },
    });
    injector.set({});
    expect(injector.stats().requestsByOperation).toEqual({});
  });

  it('takes the same decisions for the same seed', () => {
    const decide = (seed: number) => {
      const injector = new FaultInjector();
      injector.set({ seed, kinesis: { putRecordsEntryFailureRate: 0.5 } });
      return injector.putRecordsEntryFailures(64);
    };

    expect(decide(5)).toEqual(decide(5));
    expect(decide(5)).not.toEqual(decide(6));
  });

  it('fails roughly the chosen fraction', () => {
    const injector = new FaultInjector();
    injector.set({ seed: 1, kinesis: { putRecordsEntryFailureRate: 0.3 } });

    const failed = injector.putRecordsEntryFailures(10_000).filter(Boolean).length;

    expect(failed).toBeGreaterThan(2700);
    expect(failed).toBeLessThan(3300);
  });

  it('applies only to the listed operations', () => {
    const injector = new FaultInjector();
    injector.set({ dynamodb: { failureRate: 1, operations: ['UpdateItem'] } });

    expect(injector.callError('dynamodb', 'GetItem')).toBeUndefined();
    expect(injector.callError('dynamodbStreams', 'UpdateItem')).toBeUndefined();
    expect(injector.callError('dynamodb', 'UpdateItem')).toMatchObject({ status: 400 });
    expect(injector.stats().byOperation).toEqual({ 'DynamoDB.UpdateItem': 1 });
  });

  it('stops at maxFaults, counting failed entries one by one', () => {
    const injector = new FaultInjector();
    injector.set({ maxFaults: 3, kinesis: { putRecordsEntryFailureRate: 1, throttleRate: 1 } });

    const failures = injector.putRecordsEntryFailures(5);
    injector.recordEntryFailures(failures.filter(Boolean).length);

    expect(failures).toEqual([true, true, true, false, false]);
    expect(injector.putRecordsEntryFaultsActive).toBe(false);
    expect(injector.callError('kinesis', 'PutRecords')).toBeUndefined();
    expect(injector.stats()).toMatchObject({
      injected: 3,
      putRecordsEntriesFailed: 3,
      putRecordsCallsWithFailures: 1,
    });
  });

  it('writes the error bodies the SDK parses', () => {
    const injector = new FaultInjector();
    injector.set({
      kinesis: { throttleRate: 1 },
      dynamodb: { failureRate: 1, error: 'ThrottlingException' },
      dynamodbStreams: { failureRate: 1, error: 'InternalServerError' },
    });

    const kinesis = injector.callError('kinesis', 'GetRecords');
    const dynamodb = injector.callError('dynamodb', 'Query');
    const streams = injector.callError('dynamodbStreams', 'GetRecords');

    expect(kinesis).toMatchObject({ status: 400, contentType: 'application/x-amz-json-1.1' });
    expect(JSON.parse(kinesis?.body ?? '')).toMatchObject({
      __type: 'ProvisionedThroughputExceededException',
    });
    expect(dynamodb).toMatchObject({ status: 400, contentType: 'application/x-amz-json-1.0' });
    expect(JSON.parse(dynamodb?.body ?? '')).toMatchObject({
      __type: 'com.amazon.coral.availability#ThrottlingException',
    });
    expect(streams).toMatchObject({ status: 500 });
    expect(JSON.parse(streams?.body ?? '').__type).toBe(
      'com.amazonaws.dynamodb.v20120810#InternalServerError',
    );
    expect(injector.stats()).toMatchObject({
      kinesisThrottled: 1,
      dynamodbFailed: 1,
      dynamodbStreamsFailed: 1,
    });
  });

  it('clear stops injecting and keeps stats; set resets them', () => {
    const injector = new FaultInjector();
    injector.set({ dynamodb: { failureRate: 1 } });
    injector.callError('dynamodb', 'PutItem');

    injector.clear();

    expect(injector.callError('dynamodb', 'PutItem')).toBeUndefined();
    expect(injector.stats().dynamodbFailed).toBe(1);
    injector.set({});
    expect(injector.stats().dynamodbFailed).toBe(0);
  });
});
