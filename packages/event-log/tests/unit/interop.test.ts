import { describe, expect, it } from 'vitest';
import { defaultExport } from '../../src/interop';

describe('defaultExport', () => {
  const fn = () => 1;

  it('returns an ESM default import as is', () => {
    expect(defaultExport(fn)).toBe(fn);
  });

  it('unwraps the namespace require(esm) returns, once or twice wrapped by the CJS interop', () => {
    expect(defaultExport({ default: fn } as unknown as typeof fn)).toBe(fn);
    expect(defaultExport({ default: { default: fn } } as unknown as typeof fn)).toBe(fn);
  });

  it('throws a TypeError when there is no default export function', () => {
    expect(() => defaultExport({} as unknown as typeof fn)).toThrow(TypeError);
  });
});
