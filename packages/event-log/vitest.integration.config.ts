import { defineConfig } from 'vitest/config';
import { integrationConfig } from '../../vitest.shared';

export default defineConfig(integrationConfig());
