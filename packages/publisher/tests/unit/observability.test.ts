import { describe, expect, it } from 'vitest';
import { ConfigurationError, createJsonLogger } from '../../src/index';

describe('createJsonLogger', () => {
  it('writes one JSON object per line with level, message, service and attributes', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line), service: 'svc' });
    logger.info('done', { published: 3 });
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'INFO', message: 'done', service: 'svc', published: 3 });
    expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line), level: 'warn' });
    logger.debug('d', {});
    logger.info('i', {});
    logger.warn('w', {});
    logger.error('e', {});
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['w', 'e']);
  });

  it('writes errors as name, message and code, without the stack', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line) });
    const error = Object.assign(new Error('boom'), { code: 'E_BOOM' });
    logger.error('failed', { error });
    expect(JSON.parse(lines[0]!).error).toEqual({ name: 'Error', message: 'boom', code: 'E_BOOM' });
  });

  it('rejects an unknown level', () => {
    expect(() => createJsonLogger({ level: 'loud' as never })).toThrow(ConfigurationError);
    expect(() => createJsonLogger({ level: 'loud' as never })).toThrow(
      expect.objectContaining({ factory: 'createJsonLogger', option: 'level', received: '"loud"' }),
    );
  });
});
