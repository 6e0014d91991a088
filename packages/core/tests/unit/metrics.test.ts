import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/index';
import { metricReporter } from '../../src/internal';

describe('metricReporter', () => {
  const memory = () => {
    const lines: [string, Record<string, unknown>][] = [];
    const at = (message: string, attributes: Record<string, unknown> = {}) =>
      lines.push([message, attributes]);
    return { lines, logger: { debug: at, info: at, warn: at, error: at } };
  };

  it('sends counts to addMetric with the unit Count', () => {
    const added: unknown[][] = [];
    const { logger } = memory();
    const report = metricReporter({ addMetric: (...args) => added.push(args) }, logger, 'where');
    report('RecordsPublished', 0);
    report('EventsApplied', 3);
    expect(added).toEqual([
      ['RecordsPublished', 'Count', 0],
      ['EventsApplied', 'Count', 3],
    ]);
  });

  it('logs a throwing metrics object instead of failing, and reports nothing without one', () => {
    const { logger, lines } = memory();
    const report = metricReporter(
      {
        addMetric: () => {
          throw new Error('full');
        },
      },
      logger,
      'where',
    );
    expect(() => report('RecordsFailed', 1)).not.toThrow();
    expect(lines).toEqual([
      [
        'The metrics object threw; the count is lost',
        { metric: 'RecordsFailed', value: 1, error: { name: 'Error', message: 'full' } },
      ],
    ]);
    expect(() => metricReporter(undefined, logger, 'where')('RecordsFailed', 1)).not.toThrow();
  });

  it('rejects anything but an object with addMetric', () => {
    const { logger } = memory();
    for (const wrong of [() => {}, {}, null, { addMetric: 1 }]) {
      expect(() => metricReporter(wrong as never, logger, 'createPublisher')).toThrow(ConfigurationError);
    }
    expect(() => metricReporter({} as never, logger, 'createPublisher')).toThrow(
      /createPublisher: metrics must/,
    );
  });
});
