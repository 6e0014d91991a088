#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages (biome, rollup, turbo, …)
// that a registry mirror serving only this machine's platform leaves out. Without their entries,
// `npm ci` refuses the lock file ("Missing: @biomejs/cli-darwin-arm64@ from lock file"), although it
// would never install them here. Each added entry carries the version the parent pins and the
// os/cpu/libc read from the package name, so npm skips it on other platforms exactly as it would
// with a lock file written against the full registry. Run it after `npm install`:
//   npm install && node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const lockPath = fileURLToPath(new URL('../package-lock.json', import.meta.url));
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

const OS = [
  ['openharmony', 'openharmony'],
  ['android', 'android'],
  ['darwin', 'darwin'],
  ['freebsd', 'freebsd'],
  ['openbsd', 'openbsd'],
  ['netbsd', 'netbsd'],
  ['sunos', 'sunos'],
  ['win32', 'win32'],
  ['windows', 'win32'],
  ['linux', 'linux'],
  ['aix', 'aix'],
];
const CPU = [
  ['arm64', 'arm64'],
  ['aarch64', 'arm64'],
  ['x64', 'x64'],
  ['ia32', 'ia32'],
  ['loong64', 'loong64'],
  ['ppc64', 'ppc64'],
  ['riscv64', 'riscv64'],
  ['s390x', 's390x'],
  ['mips64el', 'mips64el'],
  ['arm', 'arm'],
  ['64', 'x64'],
];

/** Reads os, cpu and libc from a platform package name such as `@rollup/rollup-linux-x64-musl`. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OS.find(([token]) => parts.includes(token))?.[1];
  const cpu = CPU.find(([token]) => parts.includes(token))?.[1];
  if (!os || !cpu) return undefined;
  const platform = { os: [os], cpu: [cpu] };
  if (os === 'linux') {
    if (parts.includes('musl') || parts.includes('musleabihf')) platform.libc = ['musl'];
    else if (parts.includes('gnu') || parts.includes('gnueabihf')) platform.libc = ['glibc'];
  }
  return platform;
}

/** Where npm would look a dependency of the package at `parentPath` up: nearest node_modules first. */
function resolves(parentPath, name) {
  let base = parentPath;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return true;
    if (!base) return false;
    const at = base.lastIndexOf('/node_modules/');
    base = at === -1 ? '' : base.slice(0, at);
  }
}

let added = 0;
const unknown = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(path, name)) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(spec)) {
      unknown.push(`${name}@${spec} (needed by ${path || 'the root'})`);
      continue;
    }
    const target = path ? `${path}/node_modules/${name}` : `node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    const at = packages[hoisted] ? target : hoisted;
    packages[at] = {
      version: spec,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
    added += 1;
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
if (unknown.length > 0) {
  console.error(`complete-lockfile: could not place ${unknown.length}:\n  ${unknown.join('\n  ')}`);
  process.exit(1);
}
