import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** What the figures were measured on: they mean little without it. */
export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly java: string | undefined;
  readonly measuredAt: string;
}

/** Describes this machine (CPU, cores, memory, node and Java versions). */
export function describeMachine(): MachineDescription {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const javaVersion = java.status === 0 ? java.stderr.split('\n')[0]?.trim() : undefined;
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    java: javaVersion,
    measuredAt: new Date().toISOString(),
  };
}
