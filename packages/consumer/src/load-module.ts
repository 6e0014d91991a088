/**
 * Loads the module the dead-letter CLI's `--module` names: JavaScript natively; TypeScript natively
 * when the runtime can (Node.js type stripping, a test runner), else through tsx when it is
 * installed where the module is, else not at all, with an error that says what to do.
 *
 * @internal
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeErrorText } from '@tidemark/core/internal';
import { ConsumerModuleError } from './errors';

/** How modules are found and loaded; replaceable for tests. */
export interface ModuleLoaders {
  /** Imports a `file:` URL with the runtime's `import()`. */
  readonly importNative?: (url: string) => Promise<unknown>;
  /** Imports a TypeScript `file:` URL through tsx; undefined when tsx is not installed near `fromFile`. */
  readonly tsxImporter?: (fromFile: string) => Promise<((url: string) => Promise<unknown>) | undefined>;
  /** Whether to try the runtime's own `import()` on TypeScript first. Default: `true`. */
  readonly nativeTypeScript?: boolean;
}

const TYPESCRIPT = /\.(?:[cm]?ts|tsx)$/;

/** Finds tsx's ESM API from the module's directory (the user's project), not from this package. */
async function findTsx(fromFile: string): Promise<((url: string) => Promise<unknown>) | undefined> {
  // The ESM entry of tsx's API, found through its package.json's exports (its CommonJS entry
  // cannot be imported into an ES module).
  let apiPath: string;
  try {
    const manifestPath = createRequire(fromFile).resolve('tsx/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      exports?: Record<string, { import?: string | { default?: string } }>;
    };
    const entry = manifest.exports?.['./esm/api']?.import;
    const relative = typeof entry === 'string' ? entry : entry?.default;
    if (relative === undefined) return undefined;
    apiPath = join(dirname(manifestPath), relative);
  } catch {
    return undefined;
  }
  const api = (await import(pathToFileURL(apiPath).href)) as {
    tsImport?: (specifier: string, parentURL: string) => Promise<unknown>;
    default?: { tsImport?: (specifier: string, parentURL: string) => Promise<unknown> };
  };
  const tsImport = api.tsImport ?? api.default?.tsImport;
  return tsImport === undefined ? undefined : (url) => tsImport(url, url);
}

/**
 * Imports the module at `path` (relative to the working directory) and returns its exports.
 * Throws {@link ConsumerModuleError} when it cannot be loaded, saying how to fix it.
 */
export async function importModule(
  path: string,
  loaders: ModuleLoaders = {},
): Promise<Record<string, unknown>> {
  const absolute = resolve(path);
  const url = pathToFileURL(absolute).href;
  const importNative = loaders.importNative ?? ((target: string) => import(target));
  const load = async (how: string, importer: (target: string) => Promise<unknown>) => {
    try {
      return (await importer(url)) as Record<string, unknown>;
    } catch (cause) {
      throw new ConsumerModuleError(
        path,
        `--module ${path} could not be loaded${how ? ` ${how}` : ''}: ${describeErrorText(cause)}`,
        { how: how || 'import' },
        { cause },
      );
    }
  };
  if (!TYPESCRIPT.test(absolute)) return load('', importNative);

  // TypeScript: first as the runtime loads it (Node.js type stripping, or a test runner's
  // transform), then through tsx when the runtime cannot.
  const hint =
    'install tsx where the module is (npm install --save-dev tsx) and the CLI loads TypeScript through it, ' +
    'or point --module at the built JavaScript (for example dist/handler.js)';
  let nativeFailure: unknown;
  if (loaders.nativeTypeScript ?? true) {
    try {
      return (await importNative(url)) as Record<string, unknown>;
    } catch (cause) {
      if (!cannotLoadTypeScript(cause)) {
        throw new ConsumerModuleError(
          path,
          `--module ${path} failed while loading: ${describeErrorText(cause)}`,
          { how: 'import' },
          { cause },
        );
      }
      nativeFailure = cause;
    }
  }
  const tsx = await (loaders.tsxImporter ?? findTsx)(absolute);
  if (tsx !== undefined) return load('through tsx', tsx);
  throw new ConsumerModuleError(
    path,
    `--module ${path} is TypeScript, which Node.js ${process.versions.node} cannot load by itself${
      nativeFailure === undefined ? '' : ` (${describeErrorText(nativeFailure)})`
    }: ${hint}`,
    { how: 'none' },
    nativeFailure === undefined ? {} : { cause: nativeFailure },
  );
}

/** Errors of a runtime that cannot load a TypeScript module (as opposed to errors the module threw). */
function cannotLoadTypeScript(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    error instanceof SyntaxError ||
    code === 'ERR_UNKNOWN_FILE_EXTENSION' ||
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' ||
    code === 'ERR_INVALID_TYPESCRIPT_SYNTAX' ||
    code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING'
  );
}
