/**
 * Shared Vitest settings: workspace packages resolve to their `src/` so tests never need a prior
 * build (the same mapping as `paths` in tsconfig.base.json).
 */
import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export const workspaceAliases = [
  { find: /^@tidemark\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
  { find: /^@tidemark\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
];

/**
 * The AWS SDK warns once per process that its releases after January 2027 need node 22. Every
 * test worker is a process, so the suite would print it dozens of times; the engines field and the
 * README state the node versions we support.
 */
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

/** Unit tests: fast, no local AWS. */
export const unitConfig = (): UserConfig => ({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    env,
    testTimeout: 20_000,
  },
});

/**
 * Integration tests: one local AWS per run, started by the testing package's global setup
 * and handed to the workers through the environment.
 */
export const integrationConfig = (): UserConfig => ({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['tests/integration/**/*.test.ts'],
    environment: 'node',
    env,
    globalSetup: [`${root}packages/testing/src/vitest-global-setup.ts`],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
