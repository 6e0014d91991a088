import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../src/index';
import { describeError, describeErrorText } from '../../src/internal';

describe('describeError', () => {
  it('keeps name, message, code and HTTP status, never the stack', () => {
    const sdk = Object.assign(new Error('slow down'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(describeError(sdk)).toEqual({
      name: 'ThrottlingException',
      message: 'slow down',
      statusCode: 400,
    });
    const typed = new TidemarkError('THING_BROKEN', 'it broke');
    expect(describeError(typed)).toEqual({
      name: 'TidemarkError',
      message: 'it broke',
      code: 'THING_BROKEN',
    });
    expect(describeError('boom')).toEqual({ name: 'string', message: 'boom' });
    expect(describeError(null)).toEqual({ name: 'null', message: 'null' });
  });

  it('gives one line of text', () => {
    expect(describeErrorText(new TypeError('bad'))).toBe('TypeError: bad');
    expect(describeErrorText(new TidemarkError('THING_BROKEN', 'it broke'))).toBe(
      'TidemarkError (THING_BROKEN): it broke',
    );
    expect(describeErrorText('plain')).toBe('plain');
    const unprintable = Object.create(null) as object;
    expect(describeErrorText(unprintable)).toBe('object');
  });
});
