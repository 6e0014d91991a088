import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ConsumerMetricName,
  createJsonLogger,
  type PublisherMetricName,
  type TidemarkLogger,
  type TidemarkMetricName,
  type TidemarkMetrics,
} from '../../src/index';

describe('the logger and metrics contracts', () => {
  it('takes a Powertools Logger, console and the default JSON logger as they are', () => {
    expectTypeOf(new Logger({ serviceName: 'tasks' })).toExtend<TidemarkLogger>();
    expectTypeOf(console).toExtend<TidemarkLogger>();
    expectTypeOf(createJsonLogger()).toEqualTypeOf<TidemarkLogger>();
  });

  it('takes Powertools Metrics as it is', () => {
    expectTypeOf(new Metrics({ namespace: 'Tidemark' })).toExtend<TidemarkMetrics>();
  });

  it('rejects loggers and metrics of another shape', () => {
    expectTypeOf<{ info(message: string): void }>().not.toExtend<TidemarkLogger>();
    expectTypeOf<(name: string, value: number) => void>().not.toExtend<TidemarkMetrics>();
    expectTypeOf<{ addMetric(name: string, value: number): void }>().not.toExtend<TidemarkMetrics>();
  });

  it('names every count in one PascalCase union', () => {
    expectTypeOf<'RecordsPublished'>().toExtend<PublisherMetricName>();
    expectTypeOf<'EventsApplied'>().toExtend<ConsumerMetricName>();
    expectTypeOf<'published'>().not.toExtend<TidemarkMetricName>();
  });
});
