import { defineConfig } from 'vitest/config';
import { integrationConfig } from '../../vitest.shared';

const config = integrationConfig();

// The containers-mode tests need a container engine: `npm run test:containers` provisions one and
// runs them through vitest.containers.config.ts.
export default defineConfig({
  ...config,
  test: { ...config.test, exclude: ['**/node_modules/**', 'tests/integration/containers-*.test.ts'] },
});
