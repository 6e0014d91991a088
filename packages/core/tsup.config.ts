import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/internal.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.json',
  // p-limit is ESM-only: bundled (with yocto-queue), so the CommonJS build needs no require(esm).
  noExternal: ['p-limit', 'yocto-queue'],
});
