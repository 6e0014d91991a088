#!/usr/bin/env node
// Every changeset must parse as changesets reads it: front matter naming @tidemark/* packages and a
// bump, then a summary. (A markdown formatter once turned front matter into headings, silently.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import parse from '@changesets/parse';

const dir = '.changeset';
const published = new Set(
  readdirSync('packages').map(
    (name) => JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8')).name,
  ),
);
let failures = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
  const text = readFileSync(join(dir, file), 'utf8');
  let result;
  try {
    result = parse(text);
  } catch (error) {
    console.error(`${file}: does not parse as a changeset: ${error.message}`);
    failures += 1;
    continue;
  }
  const unknown = result.releases.filter((release) => !published.has(release.name));
  if (result.releases.length === 0 || result.summary.trim() === '' || unknown.length > 0) {
    console.error(
      `${file}: needs front matter naming packages of this repository and a summary ` +
        `(releases: ${JSON.stringify(result.releases)}${unknown.length ? `, unknown: ${unknown.map((r) => r.name)}` : ''})`,
    );
    failures += 1;
  }
}
if (failures > 0) process.exit(1);
console.log('changesets: every file parses');
