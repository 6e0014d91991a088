#!/usr/bin/env node
// Checks the machine before the test suite runs, and says how to fix what is missing.
// Integration tests need one of: AWS_ENDPOINT_URL (an existing LocalStack), a Docker engine
// (LocalStack through testcontainers), or Java 17+ for the embedded DynamoDB Local.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  problems.push(`Node.js ${process.versions.node} is too old: Tidemark needs Node.js >= 20.19.`);
}

const hasEndpoint = Boolean(process.env.AWS_ENDPOINT_URL);
const hasDocker = existsSync('/var/run/docker.sock') || Boolean(process.env.DOCKER_HOST);
const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
const hasJava = java.status === 0;

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
    : 'embedded (Java found)';
console.log(`check-env: node ${process.versions.node}; local AWS for integration tests: ${source}`);
