/**
 * The containers' own reaper: a small node process, in a session of its own, that removes every
 * container carrying this run's session label once the process that started them goes away: after
 * `stop()`, an exit, a crash, a signal to the whole process group, or a SIGKILL (its stdin pipe closes
 * and its parent pid changes). It needs no image, unlike testcontainers' Ryuk.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ContainerCleanupError } from '../errors';

/** The label every container of one `startLocalAws` call carries; its value is the session id. */
export const SESSION_LABEL = 'dev.tidemark.testing.session';

/**
 * The watchdog program. argv[1] is JSON `{ target, label, session }`, where target is the Docker
 * API's `{ socketPath }` or `{ host, port }`. It reports `{"ready":true}` on fd 3; on the trigger it
 * force-removes the labelled containers, reports `{"removed":n}` (or `{"error":...}`) and exits.
 */
const WATCHDOG_SOURCE = `
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const { target, label, session } = JSON.parse(process.argv[1]);
const parent = process.ppid;
const report = (message) => { try { fs.writeSync(3, JSON.stringify(message) + '\\n'); } catch {} };
const call = (method, path) => new Promise((resolve, reject) => {
  const request = http.request({ ...target, method, path, timeout: 30000 }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => { body += chunk; });
    response.on('end', () => resolve({ status: response.statusCode, body }));
    response.on('error', reject);
  });
  request.on('timeout', () => request.destroy(new Error('timeout')));
  request.on('error', reject);
  request.end();
});
let reaping;
// 'stop' on stdin: the parent asks (nothing of it is in flight), so one empty listing is enough.
let asked = false;
const reap = () => {
  reaping ??= (async () => {
    const filters = encodeURIComponent(JSON.stringify({ label: [label + '=' + session] }));
    let removed = 0;
    let lastError;
    // A create request in flight when the parent died shows up a moment later: keep looking until
    // a listing is empty at least a second after the first, for at most five seconds.
    const started = Date.now();
    for (;;) {
      let found = 0;
      lastError = undefined;
      try {
        const listed = await call('GET', '/containers/json?all=true&filters=' + filters);
        if (listed.status !== 200) throw new Error('GET /containers/json: HTTP ' + listed.status + ' ' + listed.body);
        for (const { Id } of JSON.parse(listed.body)) {
          found += 1;
          const answer = await call('DELETE', '/containers/' + Id + '?force=true&v=true');
          if (answer.status < 300 || answer.status === 404) removed += 1;
          else lastError = 'DELETE ' + Id + ': HTTP ' + answer.status + ' ' + answer.body;
        }
      } catch (error) {
        lastError = String(error);
      }
      const waited = Date.now() - started;
      if ((found === 0 && lastError === undefined && (asked || waited >= 1000)) || waited >= 5000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    report(lastError === undefined ? { removed } : { removed, error: lastError });
    process.exit(lastError === undefined ? 0 : 1);
  })();
};
process.stdin.on('data', (chunk) => { if (String(chunk).includes('stop')) asked = true; });
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, reap);
setInterval(() => { if (process.ppid !== parent) reap(); }, 250);
report({ ready: true });
`;

/** The Docker API address, as `http.request` takes it. */
export type DockerTarget = { socketPath: string } | { host: string; port: number };

/** A running watchdog. */
export interface Watchdog {
  /** The session id the containers must be labelled with (`{ [SESSION_LABEL]: session }`). */
  readonly session: string;
  /** The watchdog's pid. */
  readonly pid: number;
  /** Removes the session's containers now and waits for the watchdog to exit; rejects if it could not. */
  reap(): Promise<{ removed: number }>;
}

/**
 * Starts a watchdog for `session`; resolves once it watches. It does not keep this process alive.
 */
export function startWatchdog(target: DockerTarget, session: string): Promise<Watchdog> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', WATCHDOG_SOURCE, JSON.stringify({ target, label: SESSION_LABEL, session })],
    { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  const control = child.stdio[3] as Readable;
  control.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      messages.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      buffered = buffered.slice(newline + 1);
      for (const wake of waiters.splice(0)) wake();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = (): Promise<Record<string, unknown> | undefined> =>
    new Promise((resolve) => {
      const take = (): void => resolve(messages.shift());
      if (messages.length > 0) take();
      else {
        waiters.push(take);
        void exited.then(() => resolve(messages.shift()));
      }
    });

  return new Promise<Watchdog>((resolve, reject) => {
    child.once('error', reject);
    void next().then((first) => {
      if (first?.ready !== true || child.pid === undefined) {
        reject(new Error(`the container watchdog did not start: ${stderr || 'no output'}`));
        return;
      }
      // The run may end without stop(): the watchdog must not keep this process alive.
      child.unref();
      for (const stream of [child.stdin, child.stderr, control]) {
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      }
      let reaping: Promise<{ removed: number }> | undefined;
      resolve({
        session,
        pid: child.pid,
        reap() {
          reaping ??= (async () => {
            (child.stdin as Writable | null)?.end('stop\n');
            const answer = await next();
            await exited;
            if (answer === undefined || typeof answer.error === 'string') {
              throw new ContainerCleanupError(
                session,
                String(answer?.error ?? (stderr || 'the watchdog died')),
              );
            }
            return { removed: Number(answer.removed) };
          })();
          return reaping;
        },
      });
    });
  });
}
