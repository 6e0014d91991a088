/**
 * Run with testcontainers hidden (tests/helpers/hide-testcontainers.mjs): prints, as one JSON line,
 * what each container mode and `auto` do without it.
 */
import { chooseLocalAwsMode, startLocalAws } from '../../src/index';

const outcome = async (mode: 'containers' | 'localstack') => {
  const error = (await startLocalAws({ mode }).catch((caught: unknown) => caught)) as {
    name: string;
    code: string;
    context: unknown;
    message: string;
  };
  return { name: error.name, code: error.code, context: error.context, message: error.message };
};

const auto = await chooseLocalAwsMode('auto', undefined, { env: {}, dockerAvailable: async () => true });
process.stdout.write(
  `${JSON.stringify({ containers: await outcome('containers'), localstack: await outcome('localstack'), auto })}\n`,
);
