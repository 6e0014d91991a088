import { defineConfig } from 'vitest/config';
import { integrationConfig } from '../../vitest.shared';

const config = integrationConfig();

/**
 * The integration tests in the `containers` mode: the run's local AWS is DynamoDB Local and
 * kinesis-mock in containers (the global setup reads TIDEMARK_LOCAL_AWS_MODE), so the edge, fault
 * and event-source suites run against them too, plus the containers-mode tests of their own. Needs a
 * container engine: `npm run test:containers` provisions one. Embedded-only suites stay out.
 */
process.env.TIDEMARK_LOCAL_AWS_MODE ??= 'containers';

export default defineConfig({
  ...config,
  test: {
    ...config.test,
    include: [
      'tests/integration/containers-*.test.ts',
      'tests/integration/local-aws.test.ts',
      'tests/integration/faults.test.ts',
      'tests/integration/event-source-dynamodb.test.ts',
      'tests/integration/event-source-kinesis.test.ts',
    ],
  },
});
