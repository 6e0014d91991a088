import { describe, expect, it, vi } from 'vitest';
import { ConfigurationError, createJsonLogger, JSON_LOGGER_DEFAULTS } from '../../src/index';
import { logLevelFromEnvironment, resolveLogger } from '../../src/internal';

function capture(options: Parameters<typeof createJsonLogger>[0] = {}) {
  const lines: { level: string; line: Record<string, unknown> }[] = [];
  const logger = createJsonLogger({
    ...options,
    write: (line, level) => lines.push({ level, line: JSON.parse(line) }),
  });
  return { logger, lines };
}

describe('createJsonLogger', () => {
  it('writes one JSON object per line with level, message, timestamp, service and attributes', () => {
    const { logger, lines } = capture({ service: 'svc', level: 'info' });
    logger.info('done', { published: 3 });
    logger.info('no attributes');
    expect(lines[0]!.line).toMatchObject({ level: 'INFO', message: 'done', service: 'svc', published: 3 });
    expect(new Date(lines[0]!.line.timestamp as string).toISOString()).toBe(lines[0]!.line.timestamp);
    expect(lines[1]!.line).toMatchObject({ level: 'INFO', message: 'no attributes' });
  });

  it('drops lines below its level, and writes nothing when silent', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('d', {});
    logger.info('i', {});
    logger.warn('w', {});
    logger.error('e', {});
    expect(lines.map(({ line }) => line.message)).toEqual(['w', 'e']);
    expect(lines.map(({ level }) => level)).toEqual(['warn', 'error']);
    const silent = capture({ level: 'silent' });
    silent.logger.error('e', {});
    expect(silent.lines).toEqual([]);
  });

  it('writes errors as name, message and code, without the stack, and bigints as strings', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('boom'), { code: 'E_BOOM' });
    logger.error('failed', { error, nested: { cause: new TypeError('bad') }, big: 10n });
    expect(lines[0]!.line.error).toEqual({ name: 'Error', message: 'boom', code: 'E_BOOM' });
    expect(lines[0]!.line.nested).toEqual({ cause: { name: 'TypeError', message: 'bad' } });
    expect(lines[0]!.line.big).toBe('10');
    expect(JSON.stringify(lines[0]!.line)).not.toContain('at ');
  });

  it('never throws for attributes it cannot serialize', () => {
    const { logger, lines } = capture();
    const circular: Record<string, unknown> = { id: 'x' };
    circular.self = circular;
    expect(() => logger.error('failed', { circular })).not.toThrow();
    expect(lines[0]!.line).toMatchObject({
      level: 'ERROR',
      message: 'failed',
      attributesUnserializable: { name: 'TypeError' },
    });
  });

  it('rejects an unknown level with a typed error naming the option', () => {
    expect(() => createJsonLogger({ level: 'loud' as never })).toThrow(ConfigurationError);
    expect(() => createJsonLogger({ level: 'loud' as never })).toThrow(/level must be one of/);
  });

  it('takes its level from Lambda, then Powertools, then LOG_LEVEL, else info', () => {
    expect(logLevelFromEnvironment({ AWS_LAMBDA_LOG_LEVEL: 'WARN', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe(
      'warn',
    );
    expect(logLevelFromEnvironment({ POWERTOOLS_LOG_LEVEL: 'debug', LOG_LEVEL: 'error' })).toBe('debug');
    expect(logLevelFromEnvironment({ LOG_LEVEL: 'Error' })).toBe('error');
    expect(logLevelFromEnvironment({ AWS_LAMBDA_LOG_LEVEL: 'TRACE' })).toBe('debug');
    expect(logLevelFromEnvironment({ AWS_LAMBDA_LOG_LEVEL: 'FATAL' })).toBe('error');
    expect(logLevelFromEnvironment({ POWERTOOLS_LOG_LEVEL: 'CRITICAL' })).toBe('error');
    expect(logLevelFromEnvironment({ POWERTOOLS_LOG_LEVEL: 'SILENT' })).toBe('silent');
    expect(logLevelFromEnvironment({ AWS_LAMBDA_LOG_LEVEL: 'chatty', LOG_LEVEL: 'warn' })).toBe('warn');
    expect(logLevelFromEnvironment({})).toBeUndefined();
    expect(JSON_LOGGER_DEFAULTS.level).toBe('info');
  });

  it('uses the environment level when none is given', () => {
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'ERROR');
    try {
      const { logger, lines } = capture();
      logger.warn('dropped', {});
      logger.error('kept', {});
      expect(lines.map(({ line }) => line.message)).toEqual(['kept']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('writes to stdout below warn and to stderr from warn on by default', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = createJsonLogger({ level: 'debug' });
      logger.info('to stdout', {});
      logger.error('to stderr', {});
      expect(out.mock.calls.map(([line]) => JSON.parse(String(line)).message)).toEqual(['to stdout']);
      expect(err.mock.calls.map(([line]) => JSON.parse(String(line)).message)).toEqual(['to stderr']);
      expect(String(out.mock.calls[0]![0]).endsWith('\n')).toBe(true);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});

describe('resolveLogger', () => {
  it('keeps a given logger and checks its four methods', () => {
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    expect(resolveLogger(logger, 'svc', 'where')).toBe(logger);
    expect(() => resolveLogger({ debug() {}, info() {} } as never, 'svc', 'createThing')).toThrow(
      /createThing: logger must have .*missing warn, error/,
    );
  });

  it('defaults to a JSON logger whose service is POWERTOOLS_SERVICE_NAME, else the package', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'INFO');
      resolveLogger(undefined, 'tidemark-consumer', 'where').info('a', {});
      vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'orders');
      resolveLogger(undefined, 'tidemark-consumer', 'where').info('b', {});
      expect(out.mock.calls.map(([line]) => JSON.parse(String(line)).service)).toEqual([
        'tidemark-consumer',
        'orders',
      ]);
    } finally {
      vi.unstubAllEnvs();
      out.mockRestore();
    }
  });
});
