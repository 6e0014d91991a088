#!/usr/bin/env node
// `npm test`: the whole test suite, exactly what CI runs (`.ci/run`), on the Node.js versions users run.
//
//   1. env check, Biome, then typecheck + unit tests + package checks on the primary Node.js (22);
//   2. then two lanes in parallel:
//        node22: integration tests, then the containers-mode tests (when the repository has them);
//        node24: typecheck + unit tests + package checks again on Node.js 24, then the packed-install
//                test (the packages as published, installed outside the workspace) on Node.js 22;
//   3. a summary with the time of every step.
//
// The Node.js versions are fetched from the npm registry when the machine's own is another one
// (scripts/node-runtime.mjs), and cached outside the clone. The containers provisioning, when the
// repository has scripts/containers/provision.sh, starts in the background at once; its failure fails
// the run loudly. Environment:
//   TIDEMARK_TEST_SERIAL=1   run the two lanes one after the other (slower; for a loaded machine)
//   TIDEMARK_TEST_SKIP=a,b   skip steps by name (see the summary), e.g. containers,packed-install
// Every other variable (TIDEMARK_LOCAL_AWS_MODE, AWS_ENDPOINT_URL, ...) reaches the tests unchanged.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
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

function finish(ok) {
  summary();
  if (provisioning && provisioning.code === undefined) {
    // Provisioning is still running and nothing will use it: end it (and only it) before exiting.
    try {
      process.kill(-provisioning.child.pid, 'SIGTERM');
    } catch {}
  }
  process.exit(ok ? 0 : 1);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, signal);
      } catch {}
    }
    if (provisioning?.code === undefined && provisioning?.child.pid) {
      try {
        process.kill(-provisioning.child.pid, signal);
      } catch {}
    }
    process.exit(130);
  });
}

// --- containers provisioning, in the background from the start ---------------------------------
const rootScripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts ?? {};
const provisionScript = join('scripts', 'containers', 'provision.sh');
const wantContainers = Boolean(rootScripts['test:containers']) && !skip.has('containers');
let provisioning;
if (wantContainers && existsSync(provisionScript)) {
  const log = join(tmpdir(), `tidemark-provision-${process.pid}.log`);
  const out = createWriteStream(log);
  const child = spawn('bash', [provisionScript], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
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
const envFor = (node) => envForNode(node.path, { TIDEMARK_NODE_VERSION: node.version });
const primaryEnv = envFor(primary);
const primaryLane = `node${primary.version.split('.')[0]}`;

// --- checks on the primary Node.js --------------------------------------------------------------
const ok =
  (await step(primaryLane, 'env check', 'node', ['scripts/check-env.mjs'], primaryEnv)) &&
  (await step(primaryLane, 'biome', 'npx', ['biome', 'ci', '.'], primaryEnv)) &&
  (await step(
    primaryLane,
    'typecheck, unit, package checks',
    'npx',
    ['turbo', 'run', 'build', 'typecheck', 'test', 'lint:package'],
    primaryEnv,
  ));
if (!ok) finish(false);

// --- two lanes: integration on the primary Node.js; the other Node.js versions + packed install ---
// Everything is built by now: `--only` keeps the lanes from rebuilding (and rewriting dist/) at once.
async function integrationLane() {
  if (
    !(await step(
      primaryLane,
      'integration',
      'npx',
      ['turbo', 'run', 'test:integration', '--only', '--concurrency=1'],
      primaryEnv,
    ))
  ) {
    return false;
  }
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
      name: 'containers provisioning',
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
  return step(primaryLane, 'containers', 'npm', ['run', 'test:containers'], primaryEnv);
}

async function otherNodesLane() {
  for (const node of others) {
    const lane = `node${node.version.split('.')[0]}`;
    const passed = await step(
      lane,
      'typecheck, unit, package checks',
      'npx',
      ['turbo', 'run', 'typecheck', 'test', 'lint:package', '--only'],
      envFor(node),
    );
    if (!passed) return false;
  }
  return step(primaryLane, 'packed-install', 'node', ['scripts/packed-install/run.mjs'], primaryEnv);
}

const lanes =
  process.env.TIDEMARK_TEST_SERIAL === '1'
    ? [await integrationLane(), await otherNodesLane()]
    : await Promise.all([integrationLane(), otherNodesLane()]);
finish(lanes.every(Boolean));
