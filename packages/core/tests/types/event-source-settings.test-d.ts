import { describe, expectTypeOf, it } from 'vitest';
import {
  CONSUMER_EVENT_SOURCE_SETTINGS,
  PUBLISHER_EVENT_SOURCE_SETTINGS,
  TIDEMARK_METRICS,
} from '../../src/index';

describe('event source settings types', () => {
  it('types the required values as literals, so code that reads them cannot widen them', () => {
    expectTypeOf(PUBLISHER_EVENT_SOURCE_SETTINGS.maximumRetryAttempts).toEqualTypeOf<-1>();
    expectTypeOf(CONSUMER_EVENT_SOURCE_SETTINGS.maximumRecordAgeInSeconds).toEqualTypeOf<-1>();
    expectTypeOf(PUBLISHER_EVENT_SOURCE_SETTINGS.bisectBatchOnFunctionError).toEqualTypeOf<true>();
    expectTypeOf(CONSUMER_EVENT_SOURCE_SETTINGS.bisectBatchOnFunctionError).toEqualTypeOf<false>();
    expectTypeOf(PUBLISHER_EVENT_SOURCE_SETTINGS.startingPosition).toEqualTypeOf<'TRIM_HORIZON'>();
    expectTypeOf(TIDEMARK_METRICS.consumer.recordsParked).toEqualTypeOf<'RecordsParked'>();
  });

  it('is read-only', () => {
    // @ts-expect-error the settings cannot be assigned
    CONSUMER_EVENT_SOURCE_SETTINGS.maximumRetryAttempts = 20;
    // @ts-expect-error nor the metric names
    TIDEMARK_METRICS.namespace = 'Other';
  });
});
