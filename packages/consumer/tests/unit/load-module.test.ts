import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConsumerModuleError } from '../../src/errors';
import { importModule } from '../../src/load-module';

const TS_MODULE = fileURLToPath(new URL('../helpers/ts-module/entry.ts', import.meta.url));

/** What Node.js says when it cannot load a `.ts` file. */
function unknownExtension(): Error {
  return Object.assign(new TypeError('Unknown file extension ".ts"'), { code: 'ERR_UNKNOWN_FILE_EXTENSION' });
}

describe('importModule (the dead-letter CLI --module)', () => {
  it('loads a TypeScript module through the tsx installed where it is when the runtime cannot', async () => {
    const loaded = await importModule(TS_MODULE, {
      importNative: async () => {
        throw unknownExtension();
      },
    });
    expect(loaded.loaded).toEqual({ kind: 'listener', text: 'loaded through tsx' });
  });

  it('says to install tsx or use the built JavaScript when neither the runtime nor tsx can load it', async () => {
    const error = await importModule(TS_MODULE, {
      importNative: async () => {
        throw unknownExtension();
      },
      tsxImporter: async () => undefined,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsumerModuleError);
    const moduleError = error as ConsumerModuleError;
    expect(moduleError.code).toBe('CONSUMER_MODULE_UNUSABLE');
    expect(moduleError.message).toContain('is TypeScript');
    expect(moduleError.message).toContain('npm install --save-dev tsx');
    expect(moduleError.message).toContain('dist/handler.js');
    expect(moduleError.context).toMatchObject({ modulePath: TS_MODULE, how: 'none' });
    expect(moduleError.cause).toMatchObject({ code: 'ERR_UNKNOWN_FILE_EXTENSION' });
  });

  it('does not retry through tsx when the module itself threw while loading', async () => {
    let tsxAsked = false;
    const error = await importModule(TS_MODULE, {
      importNative: async () => {
        throw new Error('CONSUMER_TABLE is not set');
      },
      tsxImporter: async () => {
        tsxAsked = true;
        return undefined;
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsumerModuleError);
    expect((error as Error).message).toContain('failed while loading: Error: CONSUMER_TABLE is not set');
    expect(tsxAsked).toBe(false);
  });

  it('reports a JavaScript module that cannot be found', async () => {
    const error = await importModule('./no-such-module.js').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsumerModuleError);
    expect((error as Error).message).toContain('--module ./no-such-module.js could not be loaded');
  });
});
