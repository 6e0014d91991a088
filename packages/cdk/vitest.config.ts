import { defineConfig } from 'vitest/config';
import { unitConfig } from '../../vitest.shared';

export default defineConfig(unitConfig());
