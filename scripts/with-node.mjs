#!/usr/bin/env node
// Runs a command on the project's primary Node.js (the floor of the support policy), fetching it
// from the npm registry when the machine's own `node` is older:
//   node scripts/with-node.mjs [--node <major>] <command> [args...]
// The command's `node` (and every `#!/usr/bin/env node` script it starts, npm included) is that
// Node.js, because its directory comes first on PATH.
import { spawn } from 'node:child_process';
import { ensureNode, envForNode, SUPPORTED_NODE_LINES } from './node-runtime.mjs';

const args = process.argv.slice(2);
let major = SUPPORTED_NODE_LINES[0].major;
if (args[0] === '--node') {
  major = Number(args[1]);
  args.splice(0, 2);
}
if (args.length === 0 || !Number.isInteger(major)) {
  console.error('usage: node scripts/with-node.mjs [--node <major>] <command> [args...]');
  process.exit(2);
}

let node;
try {
  node = ensureNode(major, { log: (line) => console.error(`with-node: ${line}`) });
} catch (error) {
  console.error(`with-node: ${error.message}`);
  process.exit(1);
}
if (node.source !== 'running') console.error(`with-node: running on Node.js ${node.version}`);

const child = spawn(args[0], args.slice(1), {
  stdio: 'inherit',
  env: envForNode(node.path, { TIDEMARK_NODE_VERSION: node.version }),
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`with-node: could not start ${args[0]}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
