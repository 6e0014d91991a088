import { describe, expect, it } from 'vitest';
import {
  CONSUMER_EVENT_SOURCE_SETTINGS,
  PUBLISHER_EVENT_SOURCE_SETTINGS,
  TIDEMARK_METRICS,
} from '../../src/index';

describe('event source settings', () => {
  it.each([
    ['publisher', PUBLISHER_EVENT_SOURCE_SETTINGS],
    ['consumer', CONSUMER_EVENT_SOURCE_SETTINGS],
  ] as const)(
    'never lets Lambda give up on a %s record and always reads the batch answer',
    (_name, settings) => {
      expect(settings).toMatchObject({
        startingPosition: 'TRIM_HORIZON',
        reportBatchItemFailures: true,
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
      });
    },
  );

  it('bisects publisher batches, keeps one publisher batch per shard, and never bisects consumer batches', () => {
    expect(PUBLISHER_EVENT_SOURCE_SETTINGS.bisectBatchOnFunctionError).toBe(true);
    expect(PUBLISHER_EVENT_SOURCE_SETTINGS.parallelizationFactor).toBe(1);
    expect(CONSUMER_EVENT_SOURCE_SETTINGS.bisectBatchOnFunctionError).toBe(false);
    expect(CONSUMER_EVENT_SOURCE_SETTINGS).not.toHaveProperty('parallelizationFactor');
  });

  it('cannot be changed at run time', () => {
    for (const frozen of [
      PUBLISHER_EVENT_SOURCE_SETTINGS,
      CONSUMER_EVENT_SOURCE_SETTINGS,
      TIDEMARK_METRICS,
      TIDEMARK_METRICS.publisher,
      TIDEMARK_METRICS.consumer,
      TIDEMARK_METRICS.environment,
    ]) {
      expect(Object.isFrozen(frozen)).toBe(true);
    }
    expect(() => {
      (CONSUMER_EVENT_SOURCE_SETTINGS as { maximumRetryAttempts: number }).maximumRetryAttempts = 20;
    }).toThrow(TypeError);
  });

  it('names distinct metrics', () => {
    const names = [...Object.values(TIDEMARK_METRICS.publisher), ...Object.values(TIDEMARK_METRICS.consumer)];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
