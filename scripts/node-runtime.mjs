// Finds or fetches the Node.js versions the project supports, so `npm start` and `npm test` run on
// them even on a machine whose own `node` is older. The official binaries come from the npm registry
// (packages `node-<platform>-<arch>`, fetched with `npm pack`, so npm's proxy and cache settings apply)
// and are kept in a cache directory outside the clone between runs:
//   $TIDEMARK_NODE_CACHE, else $XDG_CACHE_HOME/tidemark/node, else ~/.cache/tidemark/node.
// Only plain Node.js APIs that exist in every Node the scripts may start on (>= 18) are used here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** The Node.js release lines the project supports: the first is the floor and the primary test run. */
export const SUPPORTED_NODE_LINES = Object.freeze([
  { major: 22, minimum: '22.22.0' },
  { major: 24, minimum: '24.0.0' },
]);

/** The directory where fetched Node.js binaries are kept between runs. */
export function nodeCacheDir() {
  if (process.env.TIDEMARK_NODE_CACHE) return process.env.TIDEMARK_NODE_CACHE;
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: read by the scripts around Turborepo, not by a task
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tidemark', 'node');
}

/** `a` compared with `b`, two `x.y.z` versions: negative, zero or positive. */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function registryPackage() {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${platform}-${process.arch}`;
}

function binaryIn(versionDir) {
  return join(versionDir, process.platform === 'win32' ? 'node.exe' : join('bin', 'node'));
}

function cachedVersions(major) {
  const dir = nodeCacheDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^\d+\.\d+\.\d+$/.test(name) && Number(name.split('.')[0]) === major)
    .filter((name) => existsSync(binaryIn(join(dir, name))))
    .sort(compareVersions)
    .reverse();
}

function npm(args, options = {}) {
  const result = spawnSync('npm', args, { encoding: 'utf8', ...options });
  if (result.error) throw result.error;
  return result;
}

/** The newest version of a release line in the registry, or undefined when the registry cannot be reached. */
function newestInRegistry(major) {
  const result = npm(['view', `${registryPackage()}@${major}`, 'version', '--json']);
  if (result.status !== 0) return undefined;
  const parsed = JSON.parse(result.stdout);
  const versions = Array.isArray(parsed) ? parsed : [parsed];
  return versions.sort(compareVersions).at(-1);
}

function fetchVersion(version) {
  const cache = nodeCacheDir();
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, `.fetch-${version}-`));
  try {
    const pack = npm(['pack', `${registryPackage()}@${version}`, '--json', '--pack-destination', work]);
    if (pack.status !== 0) {
      throw new Error(`npm pack ${registryPackage()}@${version} failed:\n${pack.stderr}`);
    }
    const [{ filename }] = JSON.parse(pack.stdout);
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const tar = spawnSync(
      'tar',
      [
        '-xzf',
        join(work, filename),
        '-C',
        unpacked,
        '--strip-components=1',
        'package/bin',
        'package/LICENSE',
      ],
      { encoding: 'utf8' },
    );
    if (tar.status !== 0) throw new Error(`could not unpack ${filename}: ${tar.stderr}`);
    const target = join(cache, version);
    // Another run may have fetched the same version meanwhile: keep the first complete copy.
    if (!existsSync(binaryIn(target))) {
      rmSync(target, { recursive: true, force: true });
      renameSync(unpacked, target);
    }
    return binaryIn(target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The path of a Node.js binary of the given release line: the running one when it is of that line
 * and recent enough, else the newest release of the line from the registry (fetched once and cached),
 * else — offline — the newest cached one. Throws with what to do when none can be had.
 */
export function ensureNode(major, { log = () => {} } = {}) {
  const line = SUPPORTED_NODE_LINES.find((l) => l.major === major) ?? { major, minimum: `${major}.0.0` };
  const running = process.versions.node;
  if (Number(running.split('.')[0]) === major && compareVersions(running, line.minimum) >= 0) {
    return { version: running, path: process.execPath, source: 'running' };
  }
  const cached = cachedVersions(major).filter((v) => compareVersions(v, line.minimum) >= 0);
  if (process.env.TIDEMARK_NODE_OFFLINE === '1' && cached.length > 0) {
    return { version: cached[0], path: binaryIn(join(nodeCacheDir(), cached[0])), source: 'cache' };
  }
  const newest = newestInRegistry(major);
  if (newest && cached.includes(newest)) {
    return { version: newest, path: binaryIn(join(nodeCacheDir(), newest)), source: 'cache' };
  }
  if (newest) {
    log(`fetching Node.js ${newest} (${registryPackage()}) into ${nodeCacheDir()}`);
    return { version: newest, path: fetchVersion(newest), source: 'registry' };
  }
  if (cached.length > 0) {
    return { version: cached[0], path: binaryIn(join(nodeCacheDir(), cached[0])), source: 'cache' };
  }
  throw new Error(
    `Node.js ${major} is needed (>= ${line.minimum}) and the npm registry could not be reached to fetch ` +
      `${registryPackage()}@${major}. Install Node.js ${major} (for example with nvm: nvm install ${major}) ` +
      `and run the command with it.`,
  );
}

/** The environment for a child process that runs on the given Node.js binary (its directory first on PATH). */
export function envForNode(nodePath, extra = {}) {
  const bin = dirname(nodePath);
  const env = { ...process.env, ...extra };
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[pathKey] = [bin, env[pathKey]].filter(Boolean).join(delimiter);
  env.npm_node_execpath = nodePath;
  env.NODE = nodePath;
  return env;
}
