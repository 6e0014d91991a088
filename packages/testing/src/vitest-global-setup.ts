/**
 * The Vitest global setup: starts one local AWS per test run, hands its connection to the workers
 * (`project.provide`, and the `TIDEMARK_LOCAL_AWS` environment variable for child processes) and
 * stops it when the run ends.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@tidemark/testing/vitest-global-setup'] } });
 * ```
 */
import type { TestProject } from 'vitest/node';
import { startLocalAws } from './local-aws';
import type { LocalAwsConnection } from './local-aws-handle';
import type { LocalAwsModeOption } from './mode';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The connection of the run's local AWS, provided by `@tidemark/testing/vitest-global-setup`. */
    tidemarkLocalAws: LocalAwsConnection;
  }
}

/** The environment variable that carries the connection (JSON) to workers and their children. */
export const LOCAL_AWS_ENV = 'TIDEMARK_LOCAL_AWS';
/** The environment variable that chooses the mode of the run's local AWS. Default: `auto`. */
export const LOCAL_AWS_MODE_ENV = 'TIDEMARK_LOCAL_AWS_MODE';

/**
 * Starts the run's local AWS; returns the teardown that stops it. The mode is `auto` unless
 * `TIDEMARK_LOCAL_AWS_MODE` says otherwise.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * import { defineConfig } from 'vitest/config';
 *
 * export default defineConfig({
 *   test: { globalSetup: ['@tidemark/testing/vitest-global-setup'], hookTimeout: 120_000 },
 * });
 * ```
 */
export default async function setupLocalAws(project: TestProject): Promise<() => Promise<void>> {
  const mode = process.env[LOCAL_AWS_MODE_ENV]?.trim() || 'auto';
  const aws = await startLocalAws({ mode: mode as LocalAwsModeOption });
  project.provide('tidemarkLocalAws', aws.connection);
  const previous = process.env[LOCAL_AWS_ENV];
  process.env[LOCAL_AWS_ENV] = JSON.stringify(aws.connection);
  return async () => {
    if (previous === undefined) delete process.env[LOCAL_AWS_ENV];
    else process.env[LOCAL_AWS_ENV] = previous;
    await aws.stop();
  };
}
