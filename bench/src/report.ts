import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineDescription } from './machine';

/** One measured figure. */
export interface Figure {
  /** The benchmark it belongs to, e.g. `consumer vs Powertools`. */
  readonly bench: string;
  /** What was measured, e.g. `Tidemark, first delivery`. */
  readonly case: string;
  /** The value. */
  readonly value: number;
  /** Its unit: `requests`, `ms`, `µs/record`, `calls`. */
  readonly unit: string;
  /** Anything a reader needs to interpret it. */
  readonly note?: string;
}

/** Prints figures as an aligned table. */
export function printTable(figures: readonly Figure[]): void {
  const rows = figures.map((f) => [f.bench, f.case, formatValue(f.value), f.unit, f.note ?? '']);
  const header = ['bench', 'case', 'value', 'unit', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Writes the figures and the machine to `bench/results/<time>.json` and returns the path. */
export function writeResults(machine: MachineDescription, figures: readonly Figure[]): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${machine.measuredAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify({ machine, figures }, null, 2)}\n`);
  return path;
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** The q-quantile (0..1) of samples, by nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
