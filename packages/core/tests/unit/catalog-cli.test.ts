import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCatalogCli } from '../../src/catalog-cli';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
let dir: string;
let out: string[];
let err: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-catalog-'));
  out = [];
  err = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (...argv: string[]) =>
  runCatalogCli(argv, { cwd: fixtures, out: (line) => out.push(line), err: (line) => err.push(line) });

describe('tidemark-catalog', () => {
  it('creates the snapshot with update, then check passes', async () => {
    const snapshot = join(dir, 'catalog', 'task-events.json');
    expect(await run('update', 'catalog-v1.ts', snapshot)).toBe(0);
    expect(out.join('\n')).toMatch(/Created .* with 1 event types/);
    const text = await readFile(snapshot, 'utf8');
    expect(JSON.parse(text).events.TaskCreated.versions['1'].written.required).toEqual(['name']);
    expect(await run('check', 'catalog-v1.ts#taskEvents', snapshot)).toBe(0);
    expect(out.at(-1)).toMatch(/is up to date/);
    expect(await readFile(snapshot, 'utf8')).toBe(text);
  });

  it('check fails on a missing snapshot', async () => {
    expect(await run('check', 'catalog-v1.ts', join(dir, 'none.json'))).toBe(1);
    expect(err.join('\n')).toMatch(/no snapshot at .*tidemark-catalog update/);
  });

  it('check fails on a compatible change until update writes the snapshot', async () => {
    const snapshot = join(dir, 'task-events.json');
    await run('update', 'catalog-v1.ts', snapshot);
    expect(await run('check', 'catalog-v1-optional-field.ts', snapshot)).toBe(1);
    expect(err.join('\n')).toMatch(/changed compatibly but .* is out of date/);
    expect(await run('update', 'catalog-v1-optional-field.ts', snapshot)).toBe(0);
    expect(await run('check', 'catalog-v1-optional-field.ts', snapshot)).toBe(0);
  });

  it('fails on an incompatible change, naming the type, the field and why, and update refuses to write', async () => {
    const snapshot = join(dir, 'task-events.json');
    await run('update', 'catalog-v1.ts', snapshot);
    const before = await readFile(snapshot, 'utf8');
    expect(await run('check', 'catalog-v1-breaking.ts#taskEvents', snapshot)).toBe(1);
    const message = err.join('\n');
    expect(message).toMatch(
      /TaskCreated field "name": changed without a schema version bump, and readers at version 1 cannot read the new payloads/,
    );
    expect(message).toMatch(/TaskCreated field "title"/);
    expect(await run('update', 'catalog-v1-breaking.ts#taskEvents', snapshot)).toBe(1);
    expect(await readFile(snapshot, 'utf8')).toBe(before);
  });

  it('asks for an export name when a module exports several catalogs', async () => {
    expect(await run('check', 'catalog-v1-breaking.ts', join(dir, 'x.json'))).toBe(2);
    expect(err.join('\n')).toMatch(/several catalogs \(taskEvents, otherEvents\)/);
    expect(await run('check', 'catalog-v1.ts#nothing', join(dir, 'x.json'))).toBe(2);
    expect(err.at(-1)).toMatch(/no exported catalog named nothing/);
  });

  it('reports a module it cannot import and a snapshot it cannot read', async () => {
    expect(await run('check', 'missing.ts', join(dir, 'x.json'))).toBe(2);
    expect(err.at(-1)).toMatch(/cannot import missing.ts/);
    const snapshot = join(dir, 'broken.json');
    await writeFile(snapshot, '{"format":"other"}');
    expect(await run('check', 'catalog-v1.ts', snapshot)).toBe(2);
    expect(err.at(-1)).toMatch(/Invalid catalog snapshot/);
  });

  it('prints its usage for a wrong command line', async () => {
    expect(await run('verify', 'catalog-v1.ts', 'x.json')).toBe(2);
    expect(err.join('\n')).toMatch(/^Usage: tidemark-catalog/);
    expect(await run('--help')).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: tidemark-catalog/);
  });
});
