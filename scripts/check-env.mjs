#!/usr/bin/env node
// Checks the machine before the test suite runs, and says how to fix what is missing.
// Integration tests need one of: AWS_ENDPOINT_URL (an existing LocalStack), a Docker engine
// (LocalStack through testcontainers), or Java 17+ for the embedded DynamoDB Local.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  problems.push(
    `Node.js ${process.versions.node} is too old: Tidemark needs Node.js >= 22.12 ` +
      '(`npm test` and `npm start` fetch it themselves; see the README).',
  );
}

const hasEndpoint = Boolean(process.env.AWS_ENDPOINT_URL);
const hasDocker = await dockerAnswers();
const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
// `java -version` prints e.g. 'openjdk version "17.0.15" 2025-04-15' (or "1.8.0_392" for Java 8).
const javaVersion = /version "(\d+)(?:\.(\d+))?/.exec(java.stderr ?? '');
const javaMajor = javaVersion
  ? javaVersion[1] === '1'
    ? Number(javaVersion[2])
    : Number(javaVersion[1])
  : 0;
const hasJava = java.status === 0 && javaMajor >= 17;
if (java.status === 0 && !hasJava && !hasEndpoint && !hasDocker) {
  problems.push(
    `Java ${javaMajor || '(unknown version)'} is too old for DynamoDB Local: it needs Java 17 or newer.`,
  );
}

if (!hasEndpoint && !hasDocker && !hasJava) {
  problems.push(
    [
      'The integration tests need local AWS, and none of its three sources is available:',
      '  - Java 17+ for the embedded DynamoDB Local: install a JRE, for example',
      '      sudo apt-get install -y default-jre-headless   (Debian/Ubuntu)',
      '      brew install openjdk                           (macOS)',
      '  - or a Docker engine, for LocalStack through testcontainers,',
      '  - or AWS_ENDPOINT_URL pointing at a running LocalStack.',
    ].join('\n'),
  );
}

if (problems.length > 0) {
  console.error(`check-env: cannot run the test suite on this machine.\n\n${problems.join('\n\n')}\n`);
  process.exit(1);
}
const source = hasEndpoint
  ? `endpoint ${process.env.AWS_ENDPOINT_URL}`
  : hasDocker
    ? 'Docker (LocalStack)'
    : `embedded (Java ${javaMajor})`;
console.log(`check-env: node ${process.versions.node}; local AWS for integration tests: ${source}`);

/** True when a Docker engine answers `GET /_ping` (a socket file alone is not enough: the daemon may be down). */
function dockerAnswers() {
  const host = process.env.DOCKER_HOST?.trim();
  let target;
  if (host?.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
  else if (host) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else if (existsSync('/var/run/docker.sock')) target = { socketPath: '/var/run/docker.sock' };
  if (!target) return Promise.resolve(false);
  return new Promise((resolve) => {
    const request = http.get({ ...target, path: '/_ping', timeout: 1500 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
