import { defineConfig, mergeConfig } from 'vitest/config';
import { unitConfig } from '../../vitest.shared';

// Synthesizing a stack loads aws-cdk-lib and can take seconds on a busy machine.
export default mergeConfig(
  unitConfig(),
  defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } }),
);
