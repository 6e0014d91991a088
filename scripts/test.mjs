#!/usr/bin/env node
// `npm test`: the whole test suite, exactly what CI runs (`.ci/run`), on the Node.js versions users run.
//
//   1. env check, Biome, then build + typecheck + unit tests + package checks on the primary
//      Node.js (22);
//   2. integration tests, then the containers-mode tests (when the repository has them), on Node.js 22;
//   3. typecheck + unit tests + package checks on Node.js 24;
//   4. the packed-install test (the packages as published, installed outside the workspace) on 22;
//   5. a summary with the time of every step.
//
// The CPU-bound steps run one after the other: on a 2-core machine, running them side by side made
// timing-sensitive tests time out. What waits on the network runs in the background instead: fetching
// the Node.js versions (from the npm registry when the machine's own is another one, see
// scripts/node-runtime.mjs; cached outside the clone), the containers provisioning (when the
// repository has scripts/containers/provision.sh; its failure fails the run loudly) and the packed
// install's `npm install`s, during the integration tests. Environment:
//   TIDEMARK_TEST_SKIP=a,b   skip steps by name: env-check, biome, changesets, checks (build, typecheck, unit tests,
//                            package checks), integration, containers, packed-install
// Every other variable (TIDEMARK_LOCAL_AWS_MODE, AWS_ENDPOINT_URL, ...) reaches the tests unchanged.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, envForNode, SUPPORTED_NODE_LINES } from './node-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const started = Date.now();
const results = [];
const skip = new Set((process.env.TIDEMARK_TEST_SKIP ?? '').split(',').filter(Boolean));
const children = new Set();

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs a command with each output line prefixed by the lane's name; resolves to the exit code. */
function run(lane, command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    const prefix = `[${lane}] `;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop();
        for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
      });
      stream.on('end', () => {
        if (rest) process.stdout.write(`${prefix}${rest}\n`);
      });
    }
    child.on('error', (error) => {
      process.stdout.write(`${prefix}could not start ${command}: ${error.message}\n`);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve(signal ? 1 : (code ?? 1));
    });
  });
}

/** One named step: runs it (unless skipped), records its time and outcome; true when it passed. */
async function step(lane, name, command, args, env) {
  if (skip.has(name)) {
    results.push({ lane, name, outcome: 'skipped (TIDEMARK_TEST_SKIP)', ms: 0 });
    return true;
  }
  console.log(`[${lane}] ▶ ${name}: ${[command, ...args].join(' ')}`);
  const t0 = Date.now();
  const code = await run(lane, command, args, env);
  const ms = Date.now() - t0;
  results.push({ lane, name, outcome: code === 0 ? 'passed' : `FAILED (exit ${code})`, ms });
  console.log(`[${lane}] ${code === 0 ? '✔' : '✘'} ${name} (${seconds(ms)})`);
  return code === 0;
}

function summary() {
  const width = Math.max(...results.map((r) => `${r.lane} ${r.name}`.length), 10);
  console.log('\nnpm test: summary');
  for (const r of results) {
    console.log(`  ${`${r.lane} ${r.name}`.padEnd(width)}  ${seconds(r.ms).padStart(8)}  ${r.outcome}`);
  }
  console.log(`  ${'total'.padEnd(width)}  ${seconds(Date.now() - started).padStart(8)}`);
}

/** Ends the podman service provisioning started, when the containers step (which stops it) did not run. */
function stopContainerEngine() {
  if (!provisioning || containersRan) return;
  const stop = join('scripts', 'containers', 'stop.sh');
  if (!existsSync(stop)) return;
  const result = spawnSync('bash', [stop], { stdio: 'inherit' });
  if (result.status !== 0) console.log(`[setup] ${stop} exited with ${result.status ?? result.signal}`);
}

function finish(ok) {
  summary();
  if (provisioning && provisioning.code === undefined) {
    // Provisioning is still running and nothing will use it: end it (and only it) before exiting.
    try {
      process.kill(-provisioning.child.pid, 'SIGTERM');
    } catch {
      // ESRCH: it has exited already.
    }
  }
  stopContainerEngine();
  process.exit(ok ? 0 : 1);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: it has exited already.
      }
    }
    if (provisioning?.code === undefined && provisioning?.child.pid) {
      try {
        process.kill(-provisioning.child.pid, signal);
      } catch {
        // ESRCH: it has exited already.
      }
    }
    stopContainerEngine();
    process.exit(130);
  });
}

// --- containers provisioning, in the background from the start ---------------------------------
const rootScripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts ?? {};
const provisionScript = join('scripts', 'containers', 'provision.sh');
const wantContainers = Boolean(rootScripts['test:containers']) && !skip.has('containers');
let provisioning;
let containersRan = false;
if (wantContainers && existsSync(provisionScript)) {
  const log = join(tmpdir(), `tidemark-provision-${process.pid}.log`);
  const out = createWriteStream(log);
  const child = spawn('bash', [provisionScript], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Both streams go to one log: neither may end it (the other may still write); 'close' ends it.
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  provisioning = { child, log, t0: Date.now(), code: undefined };
  provisioning.done = new Promise((resolve) => {
    child.on('error', (error) => {
      out.write(`could not start ${provisionScript}: ${error.message}\n`);
    });
    child.on('close', (code, signal) => {
      provisioning.code = signal ? 1 : (code ?? 1);
      provisioning.ms = Date.now() - provisioning.t0;
      out.end(() => resolve(provisioning.code));
    });
  });
  console.log(`[setup] containers provisioning started in the background (log: ${log})`);
}

// --- the Node.js versions -----------------------------------------------------------------------
const t0 = Date.now();
const nodes = {};
// Fetch the other versions in parallel with the primary one (a fresh machine downloads each once).
const prefetches = new Map(
  SUPPORTED_NODE_LINES.slice(1).map(({ major }) => [
    major,
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        ['scripts/with-node.mjs', '--node', String(major), 'node', '--version'],
        {
          stdio: 'ignore',
        },
      );
      child.on('error', resolve);
      child.on('close', resolve);
    }),
  ]),
);
for (const { major } of SUPPORTED_NODE_LINES) {
  await prefetches.get(major);
  try {
    nodes[major] = ensureNode(major, { log: (line) => console.log(`[setup] ${line}`) });
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    results.push({ lane: 'setup', name: `node ${major}`, outcome: 'FAILED', ms: Date.now() - t0 });
    finish(false);
  }
}
results.push({
  lane: 'setup',
  name: 'node versions',
  outcome: Object.values(nodes)
    .map((n) => `${n.version} (${n.source})`)
    .join(', '),
  ms: Date.now() - t0,
});
const [primary, ...others] = SUPPORTED_NODE_LINES.map(({ major }) => nodes[major]);
const envFor = (node, extra = {}) => envForNode(node.path, { TIDEMARK_NODE_VERSION: node.version, ...extra });
// The other Node.js versions run the consumer's seeded simulation on another seed range (fewer runs):
// the same code is not proven twice on the same seeds, and the suite stays short on 2 cores.
const otherLaneEnv = (node) => envFor(node, { SIMULATION_FROM: '40000000', SIMULATION_RUNS: '500' });
const primaryEnv = envFor(primary);
const primaryLane = `node${primary.version.split('.')[0]}`;

// --- checks on the primary Node.js --------------------------------------------------------------
const ok =
  (await step(primaryLane, 'env-check', 'node', ['scripts/check-env.mjs'], primaryEnv)) &&
  (await step(primaryLane, 'biome', 'npx', ['biome', 'ci', '.'], primaryEnv)) &&
  (await step(primaryLane, 'changesets', 'node', ['scripts/check-changesets.mjs'], primaryEnv)) &&
  (await step(
    primaryLane,
    'checks',
    'npx',
    ['turbo', 'run', 'build', 'typecheck', 'test', 'lint:package'],
    primaryEnv,
  ));
if (!ok) finish(false);

// --- integration, containers, the other Node.js versions, the packed install --------------------
// Everything is built by now: `--only` keeps turbo from rebuilding (and rewriting dist/).

// The packed install's pack-and-install half runs in the background during the integration tests.
let packedPrepare;
if (!skip.has('packed-install')) {
  const scratch = mkdtempSync(join(tmpdir(), 'tidemark-packed-install-'));
  const log = join(scratch, 'prepare.log');
  const out = createWriteStream(log);
  const child = spawn('node', ['scripts/packed-install/run.mjs', '--no-build', '--prepare-into', scratch], {
    env: primaryEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const t = Date.now();
  packedPrepare = {
    scratch,
    log,
    done: new Promise((resolve) => {
      child.on('error', (error) => out.write(`could not start: ${error.message}\n`));
      child.on('close', (code) => {
        children.delete(child);
        out.end(() => resolve({ code: code ?? 1, ms: Date.now() - t }));
      });
    }),
  };
}

async function containers() {
  if (!rootScripts['test:containers'] || skip.has('containers')) {
    results.push({
      lane: primaryLane,
      name: 'containers',
      outcome: skip.has('containers') ? 'skipped (TIDEMARK_TEST_SKIP)' : 'none in this repository',
      ms: 0,
    });
    return true;
  }
  if (provisioning) {
    const waitStart = Date.now();
    if (provisioning.code === undefined) console.log(`[${primaryLane}] waiting for containers provisioning…`);
    const code = await provisioning.done;
    results.push({
      lane: 'setup',
      name: 'containers provisioning (background)',
      outcome: code === 0 ? `passed (waited ${seconds(Date.now() - waitStart)})` : `FAILED (exit ${code})`,
      ms: provisioning.ms,
    });
    if (code !== 0) {
      const tail = readFileSync(provisioning.log, 'utf8').split('\n').slice(-40).join('\n');
      console.error(
        `\n[setup] ✘ containers provisioning FAILED (exit ${code}); the containers-mode tests cannot run.\n` +
          `[setup] full log: ${provisioning.log}\n${tail}\n`,
      );
      return false;
    }
  }
  containersRan = true; // test:containers stops the engine itself, pass or fail
  // The packed listener project runs in the containers mode too, when it was prepared.
  const packed = packedPrepare ? await packedPrepare.done : undefined;
  const env =
    packed?.code === 0 ? { ...primaryEnv, TIDEMARK_PACKED_PROJECT: packedPrepare.scratch } : primaryEnv;
  return step(primaryLane, 'containers', 'npm', ['run', 'test:containers'], env);
}

async function packedInstall() {
  if (!packedPrepare) {
    results.push({
      lane: primaryLane,
      name: 'packed-install',
      outcome: 'skipped (TIDEMARK_TEST_SKIP)',
      ms: 0,
    });
    return true;
  }
  const { code, ms } = await packedPrepare.done;
  const prepareLog = readFileSync(packedPrepare.log, 'utf8');
  for (const line of prepareLog.split('\n')) if (line) console.log(`[${primaryLane}] ${line}`);
  results.push({
    lane: primaryLane,
    name: 'packed-install: pack + install (background)',
    outcome: code === 0 ? 'passed' : `FAILED (exit ${code}; kept at ${packedPrepare.scratch})`,
    ms,
  });
  if (code !== 0) return false;
  return step(
    primaryLane,
    'packed-install',
    'node',
    ['scripts/packed-install/run.mjs', '--run-prepared', packedPrepare.scratch],
    primaryEnv,
  );
}

let passed =
  (await step(
    primaryLane,
    'integration',
    'npx',
    ['turbo', 'run', 'test:integration', '--only', '--concurrency=1', '--continue'],
    primaryEnv,
  )) && (await containers());
for (const node of others) {
  const lane = `node${node.version.split('.')[0]}`;
  passed =
    (await step(
      lane,
      'checks',
      'npx',
      ['turbo', 'run', 'typecheck', 'test', 'lint:package', '--only', '--continue'],
      otherLaneEnv(node),
    )) && passed;
}
passed = (await packedInstall()) && passed;
finish(passed);
