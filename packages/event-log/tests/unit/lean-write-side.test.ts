/** The write side installs and loads neither Kinesis nor middy: only the DynamoDB client and zod. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<
  string,
  Record<string, string> | undefined
>;

describe('@tidemark/event-log is a lean write side', () => {
  it('asks its users for only @aws-sdk/client-dynamodb and zod', () => {
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(['@aws-sdk/client-dynamodb', 'zod']);
  });

  it('depends on nothing that brings Kinesis, middy or the publisher', () => {
    const installed = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ];
    expect(installed.filter((name) => /kinesis|middy|@tidemark\/publisher|aws-lambda/.test(name))).toEqual(
      [],
    );
  });

  it('imports only what it declares', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const sources = readdirSync(join(root, 'src')).filter((file) => file.endsWith('.ts'));
    for (const file of sources) {
      const text = readFileSync(join(root, 'src', file), 'utf8');
      for (const [, specifier] of text.matchAll(/^(?:import|export|\}).*from '([^'.][^']*)';$/gm)) {
        const name = specifier!.startsWith('@')
          ? specifier!.split('/').slice(0, 2).join('/')
          : specifier!.split('/')[0]!;
        expect(declared.has(name), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });
});
