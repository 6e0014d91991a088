import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SESSION_LABEL } from '../../src/containers/watchdog';
import { dockerEndpoint } from '../../src/mode';

/** One container as the Docker API lists it. */
export interface ListedContainer {
  readonly Id: string;
  readonly Image: string;
  readonly State: string;
  readonly Labels: Record<string, string>;
}

/** Calls the Docker-compatible API that DOCKER_HOST (or the usual socket) points at. */
export function dockerApi(method: string, path: string): Promise<{ status: number; body: string }> {
  const target = dockerEndpoint();
  if (target === undefined) throw new Error('no Docker endpoint: run through `npm run test:containers`');
  return new Promise((resolve, reject) => {
    const request = http.request({ ...target, method, path, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    request.end();
  });
}

/** The containers (running or not) carrying the containers mode's session label, of one session or of all. */
export function sessionContainers(session?: string): Promise<ListedContainer[]> {
  return containersLabelled(session === undefined ? SESSION_LABEL : `${SESSION_LABEL}=${session}`);
}

/** The containers (running or not) carrying a label (`name` or `name=value`). */
export async function containersLabelled(label: string): Promise<ListedContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const { status, body } = await dockerApi('GET', `/containers/json?all=true&filters=${filters}`);
  if (status !== 200) throw new Error(`listing containers: HTTP ${status} ${body}`);
  return JSON.parse(body) as ListedContainer[];
}

/** The session label value of a container id. */
export async function sessionOf(id: string): Promise<string> {
  const { status, body } = await dockerApi('GET', `/containers/${id}/json`);
  if (status !== 200) throw new Error(`inspecting ${id}: HTTP ${status} ${body}`);
  const label = (JSON.parse(body) as { Config: { Labels: Record<string, string> } }).Config.Labels[
    SESSION_LABEL
  ];
  if (label === undefined) throw new Error(`container ${id} has no ${SESSION_LABEL} label`);
  return label;
}

/** Waits until no container of the session is left; returns those still there after `timeoutMs`. */
export async function waitUntilRemoved(session: string, timeoutMs = 20_000): Promise<ListedContainer[]> {
  const deadline = Date.now() + timeoutMs;
  let left = await sessionContainers(session);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(200);
    left = await sessionContainers(session);
  }
  return left;
}

/**
 * Pids of the processes whose command line mentions any of `needles` (Linux /proc): the watchdog
 * carries its session in its arguments, podman's `conmon` the container id.
 */
export function processesMentioning(needles: readonly string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (needles.some((needle) => commandLine.includes(needle))) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

/** The names of the networks carrying a label (testcontainers labels every network it creates). */
export async function networksLabelled(label: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const { status, body } = await dockerApi('GET', `/networks?filters=${filters}`);
  if (status !== 200) throw new Error(`listing networks: HTTP ${status} ${body}`);
  return (JSON.parse(body) as { Name: string }[]).map(({ Name }) => Name);
}
