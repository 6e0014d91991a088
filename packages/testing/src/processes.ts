/**
 * Child processes that never outlive the test run. Each emulator runs under a tiny node supervisor
 * (`node -e`) that kills it when the parent goes away in any way: `stop()`, the parent's exit, a
 * signal, a crash, or a SIGKILL of the parent (the supervisor's stdin pipe closes and its parent pid
 * changes). The parent also kills every emulator itself, synchronously, on exit and on signals.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * The supervisor program. argv[1] is a JSON array `[command, ...args]`; cwd and environment are
 * inherited. It reports `{"pid":n}` or `{"error":"ENOENT"}` on fd 3, forwards the child's output to
 * its own, and exits with the child.
 */
const SUPERVISOR_SOURCE = `
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [command, ...args] = JSON.parse(process.argv[1]);
const report = (message) => { try { fs.writeSync(3, JSON.stringify(message) + '\\n'); } catch {} };
const parent = process.ppid;
let child;
let killed = false;
const kill = () => {
  if (killed) return;
  killed = true;
  if (child && child.exitCode === null && child.signalCode === null) {
    try { child.kill('SIGKILL'); } catch {}
  } else {
    process.exit(0);
  }
};
try {
  child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (error) {
  report({ error: error.code || String(error) });
  process.exit(127);
}
child.on('error', (error) => { report({ error: error.code || String(error) }); process.exit(127); });
child.on('spawn', () => report({ pid: child.pid }));
child.on('exit', (code, signal) => process.exit(killed ? 0 : code === null ? 1 : code));
process.stdin.on('end', kill);
process.stdin.on('close', kill);
process.stdin.on('error', kill);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, kill);
setInterval(() => { if (process.ppid !== parent) kill(); }, 250);
`;

/** One emulator running under its supervisor. */
export interface SupervisedProcess {
  /** A short name for messages, e.g. `dynamodb-local`. */
  readonly name: string;
  /** The emulator's pid. */
  readonly pid: number;
  /** The supervisor's pid. */
  readonly supervisorPid: number;
  /** Resolves when the supervisor has exited (the emulator is then gone too). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the supervisor exited. */
  readonly hasExited: boolean;
  /** The last few KiB of the emulator's stdout and stderr. */
  output(): string;
  /** Kills the emulator and waits until it and its supervisor are gone. */
  stop(): Promise<void>;
}

/** Options of {@link spawnSupervised}. */
export interface SpawnSupervisedOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A supervised command could not be started (e.g. `ENOENT`: the command does not exist). */
export class SpawnFailure extends Error {
  constructor(
    readonly code: string,
    readonly command: string,
  ) {
    super(`Cannot run ${command}: ${code}`);
    this.name = 'SpawnFailure';
  }
}

const OUTPUT_LIMIT = 16 * 1024;
const live = new Set<SupervisedProcess>();
let hooksInstalled = false;

/**
 * Starts `command` under a supervisor; resolves once the emulator process exists (not once it is
 * ready) and rejects with {@link SpawnFailure} when it cannot be started.
 */
export function spawnSupervised(options: SpawnSupervisedOptions): Promise<SupervisedProcess> {
  installExitHooks();
  const supervisor: ChildProcess = spawn(
    process.execPath,
    ['-e', SUPERVISOR_SOURCE, JSON.stringify([options.command, ...options.args])],
    { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  supervisor.stdout?.on('data', keep);
  supervisor.stderr?.on('data', keep);
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    supervisor.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  const control = supervisor.stdio[3] as Readable;
  return new Promise<SupervisedProcess>((resolve, reject) => {
    let buffered = '';
    const fail = (error: Error): void => {
      supervisor.kill('SIGKILL');
      reject(error);
    };
    supervisor.once('error', fail);
    const exitedEarly = (): void =>
      fail(
        new SpawnFailure(`the supervisor exited before starting it: ${output.slice(-2000)}`, options.command),
      );
    // 'close' comes after every byte of fd 3 was read, so a reported spawn error wins over this.
    supervisor.once('close', exitedEarly);
    control.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      const message = JSON.parse(buffered.slice(0, newline)) as { pid?: number; error?: string };
      supervisor.off('close', exitedEarly);
      control.removeAllListeners('data');
      control.resume();
      if (message.error !== undefined || message.pid === undefined || supervisor.pid === undefined) {
        fail(new SpawnFailure(message.error ?? 'no pid', options.command));
        return;
      }
      const emulatorPid = message.pid;
      const supervisorPid = supervisor.pid;
      let stopping: Promise<void> | undefined;
      const handle: SupervisedProcess = {
        name: options.name,
        pid: emulatorPid,
        supervisorPid,
        exited,
        get hasExited() {
          return hasExited;
        },
        output: () => output,
        stop() {
          stopping ??= (async () => {
            if (!hasExited) {
              (supervisor.stdin as Writable | null)?.end();
              supervisor.kill('SIGTERM');
              killQuietly(emulatorPid, 'SIGKILL');
              await exited;
            }
            live.delete(handle);
          })();
          return stopping;
        },
      };
      live.add(handle);
      void exited.then(() => live.delete(handle));
      // The run may end without stop(): these handles must not keep the parent alive; the exit
      // hooks below (and the supervisor itself) clean up then.
      supervisor.unref();
      for (const stream of [supervisor.stdin, supervisor.stdout, supervisor.stderr, control]) {
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      }
      resolve(handle);
    });
  });
}

/** The emulators currently running (for diagnostics). */
export function liveProcesses(): readonly SupervisedProcess[] {
  return [...live];
}

function killAllSync(): void {
  for (const child of live) {
    killQuietly(child.pid, 'SIGKILL');
    killQuietly(child.supervisorPid, 'SIGKILL');
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      // When nobody else handles the signal, keep its default meaning: terminate.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: that is the aim.
  }
}
