import { memoryLogger } from '@tidemark/testing';
import { describe, expect, it } from 'vitest';

describe('memoryLogger', () => {
  it('keeps every line with its level, message, attributes and raw arguments, in order', () => {
    const { lines, logger } = memoryLogger();
    logger.info('published', { events: 3 });
    logger.warn('retrying', 'PutRecords', 2);
    const error = new Error('boom');
    logger.error('failed', error);
    logger.debug('plain');

    expect(lines).toEqual([
      { level: 'info', message: 'published', attributes: { events: 3 }, details: [{ events: 3 }] },
      { level: 'warn', message: 'retrying', attributes: {}, details: ['PutRecords', 2] },
      { level: 'error', message: 'failed', attributes: {}, details: [error] },
      { level: 'debug', message: 'plain', attributes: {}, details: [] },
    ]);
  });

  it('is itself the logger, filters by level and forgets on clear', () => {
    const memory = memoryLogger();
    expect(memory.logger).toBe(memory);
    memory.error('one');
    memory.info('two');
    memory.error('three', { n: 3 });

    expect(memory.at('error').map((line) => line.message)).toEqual(['one', 'three']);
    memory.clear();
    expect(memory.lines).toEqual([]);
    memory.warn('after');
    expect(memory.lines).toHaveLength(1);
  });

  it('does not take an array as attributes', () => {
    const { lines, logger } = memoryLogger();
    logger.info('list', [1, 2]);
    expect(lines[0]).toMatchObject({ attributes: {}, details: [[1, 2]] });
  });
});
