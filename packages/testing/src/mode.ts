/**
 * Which local AWS to use: `auto` picks an endpoint from the environment, else containers where a
 * Docker engine answers (LocalStack when a LocalStack token is set), else the embedded engines.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The modes `startLocalAws` accepts. */
export type LocalAwsModeOption = 'auto' | 'endpoint' | 'containers' | 'localstack' | 'embedded';
/** The mode actually in use. */
export type LocalAwsMode = 'endpoint' | 'containers' | 'localstack' | 'embedded';

/** The probes {@link chooseLocalAwsMode} uses, injectable for tests. */
export interface ModeProbes {
  /** The environment to read `AWS_ENDPOINT_URL` from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Answers whether a Docker engine answers a ping. Default: {@link pingDocker}. */
  readonly dockerAvailable?: () => Promise<boolean>;
  /**
   * Answers whether an optional peer dependency (`testcontainers`, `@testcontainers/localstack`) can
   * be loaded. Default: resolves it from this package.
   */
  readonly packageInstalled?: (name: string) => boolean;
}

/** The outcome of the choice, with the reason (for logs and skipped tests). */
export interface ModeChoice {
  readonly mode: LocalAwsMode;
  /** The upstream endpoint when the mode is `endpoint`. */
  readonly endpoint?: string;
  /** Why this mode, in words. */
  readonly reason: string;
}

/**
 * Resolves a requested mode to the one to use. `endpoint` takes `options.endpoint`, else
 * `AWS_ENDPOINT_URL`; `auto` takes an endpoint if one is set, else, when a Docker engine answers and
 * `testcontainers` is installed, `localstack` if `LOCALSTACK_AUTH_TOKEN` is set (and
 * `@testcontainers/localstack` is installed) or `containers` if not, else `embedded`. Explicit
 * `containers`, `localstack` and `embedded` are returned as asked (their start reports problems).
 *
 * @example
 * ```ts
 * import { chooseLocalAwsMode } from '@tidemark/testing';
 *
 * const choice = await chooseLocalAwsMode('auto');
 * console.log(choice.mode, choice.reason);
 * ```
 */
export async function chooseLocalAwsMode(
  requested: LocalAwsModeOption,
  endpoint?: string,
  probes: ModeProbes = {},
): Promise<ModeChoice> {
  const env = probes.env ?? process.env;
  const fromEnv = env.AWS_ENDPOINT_URL?.trim() ? env.AWS_ENDPOINT_URL.trim() : undefined;
  const given = endpoint ?? fromEnv;
  switch (requested) {
    case 'endpoint':
      return given === undefined
        ? { mode: 'endpoint', reason: 'endpoint mode asked for, but no endpoint is set' }
        : { mode: 'endpoint', endpoint: given, reason: endpointReason(endpoint, given) };
    case 'containers':
      return { mode: 'containers', reason: 'containers mode asked for' };
    case 'localstack':
      return { mode: 'localstack', reason: 'localstack mode asked for' };
    case 'embedded':
      return { mode: 'embedded', reason: 'embedded mode asked for' };
    case 'auto': {
      if (given !== undefined)
        return { mode: 'endpoint', endpoint: given, reason: endpointReason(endpoint, given) };
      const dockerAvailable = probes.dockerAvailable ?? (() => pingDocker(env));
      const installed = probes.packageInstalled ?? packageInstalled;
      if (!(await dockerAvailable())) {
        return { mode: 'embedded', reason: 'no AWS_ENDPOINT_URL and no Docker engine answers' };
      }
      if (!installed('testcontainers')) {
        return {
          mode: 'embedded',
          reason: 'a Docker engine answers, but the optional testcontainers package is not installed',
        };
      }
      if (env.LOCALSTACK_AUTH_TOKEN?.trim() && installed('@testcontainers/localstack')) {
        return { mode: 'localstack', reason: 'a Docker engine answers and LOCALSTACK_AUTH_TOKEN is set' };
      }
      return {
        mode: 'containers',
        reason: 'a Docker engine answers (LocalStack needs LOCALSTACK_AUTH_TOKEN, which is not set)',
      };
    }
  }
}

const requireFromHere = createRequire(import.meta.url);

/** True when `name` resolves from this package (an optional peer dependency is installed). */
function packageInstalled(name: string): boolean {
  try {
    requireFromHere.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function endpointReason(option: string | undefined, endpoint: string): string {
  return option !== undefined ? `endpoint option ${endpoint}` : `AWS_ENDPOINT_URL=${endpoint}`;
}

/**
 * Where the Docker engine would be: `DOCKER_HOST` (`unix://` or `tcp://`), else the usual sockets
 * (`/var/run/docker.sock`, rootless `$XDG_RUNTIME_DIR/docker.sock`, Docker Desktop `~/.docker/run`).
 *
 * @example
 * ```ts
 * import { dockerEndpoint } from './mode';
 *
 * dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376' }); // { host: '10.0.0.5', port: 2376 }
 * ```
 */
export function dockerEndpoint(
  env: Readonly<Record<string, string | undefined>> = process.env,
): { socketPath: string } | { host: string; port: number } | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
    if (host.startsWith('tcp://') || host.startsWith('http://')) {
      const url = new URL(host.replace(/^tcp:/, 'http:'));
      return { host: url.hostname, port: Number(url.port || 2375) };
    }
    return undefined;
  }
  const candidates = [
    '/var/run/docker.sock',
    env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
  ];
  const socketPath = candidates.find((candidate) => candidate !== undefined && existsSync(candidate));
  return socketPath === undefined ? undefined : { socketPath };
}

/**
 * What {@link dockerEndpoint} looks at, in words, for error messages: `DOCKER_HOST` when it is set,
 * else the sockets it tries.
 *
 * @example
 * ```ts
 * import { dockerPlacesChecked } from './mode';
 *
 * dockerPlacesChecked({}); // ['/var/run/docker.sock', '/root/.docker/run/docker.sock']
 * ```
 */
export function dockerPlacesChecked(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const host = env.DOCKER_HOST?.trim();
  if (host) return [`DOCKER_HOST=${host}`];
  return [
    '/var/run/docker.sock',
    ...(env.XDG_RUNTIME_DIR ? [path.join(env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
  ];
}

/**
 * True when a Docker engine answers `GET /_ping` with `OK` within `timeoutMs` (a socket file alone
 * is not enough: the daemon may be stopped).
 *
 * @example
 * ```ts
 * import { pingDocker } from '@tidemark/testing';
 * if (await pingDocker()) console.log('Docker is up');
 * ```
 */
export function pingDocker(
  env: Readonly<Record<string, string | undefined>> = process.env,
  timeoutMs = 1500,
): Promise<boolean> {
  const target = dockerEndpoint(env);
  if (target === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const request = http.get({ ...target, path: '/_ping', timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve(response.statusCode === 200 && body.trim() === 'OK'));
      response.on('error', () => resolve(false));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
