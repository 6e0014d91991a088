#!/usr/bin/env node
// The packages as a user gets them: `npm pack` every published workspace package, install the
// tarballs into a scratch project outside the repository with the install lines their READMEs show
// (everything else comes from the registry), typecheck a small listener there and run its integration
// test on the local AWS (TIDEMARK_LOCAL_AWS_MODE picks the mode, as everywhere).
//
//   node scripts/packed-install/run.mjs [--no-build] [--keep]
//   node scripts/packed-install/run.mjs --no-build --prepare-into <dir>   (pack and install only)
//   node scripts/packed-install/run.mjs --run-prepared <dir> [--keep]     (typecheck and test only)
//
// --no-build: the packages are built already (`npm test` builds them first).
// --keep: leave the scratch project in place and print where it is.
// The two halves let `npm test` install (network-bound) while the integration tests run.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
const flagValue = (flag) => {
  const index = argv.indexOf(flag);
  return index === -1 ? undefined : argv[index + 1];
};
const prepareInto = flagValue('--prepare-into');
const runPrepared = flagValue('--run-prepared');

function sh(command, commandArgs, cwd, { capture = false } = {}) {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, {
    cwd,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} failed (exit ${result.status}) in ${cwd}`);
  }
  console.log(
    `packed-install: ${command} ${commandArgs.slice(0, 2).join(' ')} … (${Date.now() - started} ms)`,
  );
  return result.stdout;
}

/** The workspace packages that are published: every workspace whose package.json is not private. */
function publishedPackages() {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dirs = workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`);
  });
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);
}

/** The `npm install …` lines of a README's first shell block that installs its own package. */
function installLines(readme, name) {
  const lines = [];
  for (const block of readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const command = line.replace(/#.*$/, '').trim();
      if (/^npm (install|i)\s/.test(command)) lines.push(command);
    }
    if (lines.some((line) => line.split(/\s+/).includes(name))) return lines;
    lines.length = 0;
  }
  return [];
}

/** Packs every published package and installs the tarballs into `<scratch>/listener`; returns its path. */
function prepare(scratch) {
  const packages = publishedPackages();
  if (packages.length === 0) throw new Error('packed-install: no published workspace package found');
  if (!args.has('--no-build')) {
    sh(
      'npx',
      ['turbo', 'run', 'build', ...packages.map(({ manifest }) => `--filter=${manifest.name}`)],
      root,
    );
  }
  const tarballs = new Map();
  const packDir = join(scratch, 'tarballs');
  mkdirSync(packDir, { recursive: true });
  for (const { dir, manifest } of packages) {
    const [packed] = JSON.parse(
      sh('npm', ['pack', '--json', '--pack-destination', packDir], join(root, dir), { capture: true }),
    );
    tarballs.set(manifest.name, join(packDir, packed.filename));
  }

  const project = join(scratch, 'listener');
  cpSync(join(here, 'fixture'), project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'packed-install-listener', private: true, type: 'module' }, null, 2)}\n`,
  );
  // The READMEs' own install lines, each @tidemark package replaced by its tarball. A package one
  // line installs for run time must still be a run-time dependency after every line ran (a later
  // `--save-dev` line naming it would demote it, and the deployed service would lack it).
  const runtime = new Set();
  for (const { dir, manifest } of packages) {
    const readme = join(root, dir, 'README.md');
    const lines = existsSync(readme) ? installLines(readFileSync(readme, 'utf8'), manifest.name) : [];
    if (lines.length === 0)
      throw new Error(`packed-install: ${dir}/README.md shows no install line for ${manifest.name}`);
    for (const line of lines) {
      const words = line.split(/\s+/).slice(2);
      const resolved = words.map((word) => {
        if (!word.startsWith('@tidemark/')) return word;
        const tarball = tarballs.get(word.replace(/@[^@/]*$/, ''));
        if (!tarball)
          throw new Error(`packed-install: ${dir}/README.md installs ${word}, which is not published here`);
        return tarball;
      });
      const dev = words.some((word) => word === '--save-dev' || word === '-D');
      if (!dev) {
        for (const word of words.filter((w) => !w.startsWith('-')))
          runtime.add(word.replace(/(.)@[^@/]*$/, '$1'));
      }
      console.log(`packed-install: ${dir}/README.md: ${line}`);
      sh('npm', ['install', '--no-audit', '--no-fund', ...resolved], project);
    }
  }
  // What the listener's own test setup needs besides: the test runner and the compiler.
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const primaryNode = process.versions.node.split('.')[0];
  const tools = [
    ...['vitest', 'typescript'].map((name) => `${name}@${rootManifest.devDependencies[name]}`),
    `@types/node@${primaryNode}`,
  ];
  sh('npm', ['install', '--no-audit', '--no-fund', '--save-dev', ...tools], project);

  const installed = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  console.log(`packed-install: the scratch project's package.json:\n${JSON.stringify(installed, null, 2)}`);
  const demoted = [...runtime].filter((name) => !installed.dependencies?.[name]);
  if (demoted.length > 0) {
    throw new Error(
      `packed-install: the README install lines leave ${demoted.join(', ')} out of "dependencies" ` +
        '(a --save-dev line named a package a service needs at run time)',
    );
  }
  return project;
}

/** Typechecks the listener against the installed packages and runs its integration test. */
function check(project) {
  sh('npx', ['tsc', '-p', 'tsconfig.json'], project);
  sh('npx', ['vitest', 'run', '--config', 'vitest.config.ts'], project);
}

if (prepareInto !== undefined) {
  prepare(resolve(prepareInto));
} else {
  const scratch =
    runPrepared === undefined
      ? mkdtempSync(join(tmpdir(), 'tidemark-packed-install-'))
      : resolve(runPrepared);
  let passed = false;
  try {
    check(runPrepared === undefined ? prepare(scratch) : join(scratch, 'listener'));
    passed = true;
  } finally {
    if (args.has('--keep') || !passed) console.log(`packed-install: scratch project kept at ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}
