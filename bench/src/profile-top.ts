/**
 * `npm run profile-top --workspace @tidemark/bench -- <file.cpuprofile> [count]`: the frames with
 * the most self time in a V8 CPU profile (from `node --cpu-prof`), with their share of the samples
 * and where they are, and the same summed by file. How the hot spots of the publisher and the
 * consumer were found:
 *
 * ```sh
 * cd bench && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/run.ts consumer-cpu
 * npm run profile-top -- /tmp/prof/*.cpuprofile 25
 * ```
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function main(): void {
  const [file, countArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-top <file.cpuprofile> [count]');
  const count = Number(countArg ?? 30);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
    total += delta;
  });
  const byFrame = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const where = shorten(frame.url);
    const key = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + micros);
    byFile.set(where || frame.functionName, (byFile.get(where || frame.functionName) ?? 0) + micros);
  }
  const print = (title: string, entries: Map<string, number>) => {
    console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
    for (const [key, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(
        `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${key}`,
      );
    }
  };
  print('self time by frame', byFrame);
  print('self time by file', byFile);
}

/** `file:///…/node_modules/zod/v4/core/schemas.js` → `zod/v4/core/schemas.js`. */
function shorten(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const packages = url.indexOf('/packages/');
  if (packages >= 0) return url.slice(packages + 1);
  return url.replace(/^file:\/\//, '');
}

main();
