import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CatalogCompatibilityReport, checkCatalogCompatibility } from './catalog-compatibility';
import { catalogSnapshot, parseCatalogSnapshot, serializeCatalogSnapshot } from './catalog-snapshot';
import type { AnyEventCatalog } from './definition-types';

/** Where the command writes and which directory relative paths start from. */
export interface CatalogCliIo {
  readonly cwd: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = `Usage: tidemark-catalog <check|update> <module>[#export] <snapshot.json>

  check   compare the catalog exported by <module> with the committed snapshot; exit 1 when a
          change would break a reader (the message names the event type, the field and why) or
          when the snapshot is out of date
  update  check, then write the snapshot (create it the first time); refuses an incompatible change

<module> is a JavaScript module (for TypeScript sources run the command through a loader, e.g.
"npx tsx"). #export names the exported catalog; without it the module must export exactly one.

Exit codes: 0 ok, 1 incompatible or out of date, 2 usage or input error.`;

/**
 * The `tidemark-catalog` command: `check` and `update` a catalog snapshot. Returns the exit code.
 * The `bin` entry calls it with `process.argv.slice(2)`.
 */
export async function runCatalogCli(argv: readonly string[], io: CatalogCliIo): Promise<number> {
  const [command, target, snapshotPath, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if ((command !== 'check' && command !== 'update') || !target || !snapshotPath || rest.length > 0) {
    io.err(USAGE);
    return 2;
  }

  let catalog: AnyEventCatalog;
  try {
    catalog = await loadCatalog(target, io.cwd);
  } catch (error) {
    io.err(`tidemark-catalog: ${(error as Error).message}`);
    return 2;
  }

  const file = resolve(io.cwd, snapshotPath);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      io.err(`tidemark-catalog: cannot read ${snapshotPath}: ${(error as Error).message}`);
      return 2;
    }
  }

  if (text === undefined) {
    if (command === 'check') {
      io.err(
        `tidemark-catalog: no snapshot at ${snapshotPath}; create it with "tidemark-catalog update" and commit it`,
      );
      return 1;
    }
    await writeSnapshot(file, serializeCatalogSnapshot(catalogSnapshot(catalog)));
    io.out(`Created ${snapshotPath} with ${catalog.definitions.length} event types. Commit it.`);
    return 0;
  }

  let report: CatalogCompatibilityReport;
  try {
    report = checkCatalogCompatibility(catalog, parseCatalogSnapshot(text));
  } catch (error) {
    io.err(`tidemark-catalog: ${snapshotPath}: ${(error as Error).message}`);
    return 2;
  }
  for (const change of report.changes) io.out(`  ${change.message}`);
  if (!report.compatible) {
    io.err(`tidemark-catalog: ${report.problems.length} incompatible change(s) against ${snapshotPath}:`);
    for (const problem of report.problems) io.err(`- ${problem.message}`);
    return 1;
  }
  if (report.upToDate) {
    io.out(`${snapshotPath} is up to date.`);
    return 0;
  }
  if (command === 'check') {
    io.err(
      `tidemark-catalog: the catalog changed compatibly but ${snapshotPath} is out of date; run "tidemark-catalog update" and commit it`,
    );
    return 1;
  }
  await writeSnapshot(file, serializeCatalogSnapshot(report.snapshot));
  io.out(`Updated ${snapshotPath}. Commit it.`);
  return 0;
}

/** Writes through a temporary file and a rename, so an interrupted update never leaves half a snapshot. */
async function writeSnapshot(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, file);
}

async function loadCatalog(target: string, cwd: string): Promise<AnyEventCatalog> {
  const hash = target.lastIndexOf('#');
  const modulePath = hash > 0 ? target.slice(0, hash) : target;
  const exportName = hash > 0 ? target.slice(hash + 1) : undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'ERR_UNKNOWN_FILE_EXTENSION'
        ? ' (a TypeScript module: run the command through a loader, e.g. "npx tsx", or point it at the built JavaScript)'
        : '';
    throw new Error(`cannot import ${modulePath}: ${(error as Error).message}${hint}`, { cause: error });
  }
  if (exportName !== undefined) {
    const value = module[exportName];
    if (!isCatalog(value)) throw new Error(`${modulePath} has no exported catalog named ${exportName}`);
    return value;
  }
  const found = Object.entries(module).filter(([, value]) => isCatalog(value));
  const distinct = [...new Set(found.map(([, value]) => value))];
  if (distinct.length !== 1) {
    throw new Error(
      distinct.length === 0
        ? `${modulePath} exports no event catalog (defineCatalog)`
        : `${modulePath} exports several catalogs (${found.map(([key]) => key).join(', ')}); name one: ${modulePath}#<export>`,
    );
  }
  return distinct[0] as AnyEventCatalog;
}

function isCatalog(value: unknown): value is AnyEventCatalog {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as AnyEventCatalog).definitions) &&
    typeof (value as AnyEventCatalog).find === 'function' &&
    typeof (value as AnyEventCatalog).parse === 'function'
  );
}
