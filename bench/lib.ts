import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Figures of one benchmark: a flat map of numbers. */
export type Figures = Record<string, number>;

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/**
 * Writes `bench/results/<name>.json` as flat `{ figure: number }`, and beside it `<name>.meta.json`: the commit, time,
 * machine, load average and command of the run (what `npm run bench -- baseline --record=<name>` copies into
 * bench/baseline.json with the figures).
 */
export function writeFigures(name: string, figures: Figures): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  writeFileSync(join(RESULTS, `${name}.meta.json`), `${JSON.stringify(runMeta(name), null, 2)}\n`);
  return file;
}

/** The 1-minute load average when this module was loaded, i.e. as the benchmark process started. */
const LOAD_AT_START = loadavg()[0]!;

/** Where and how a run happened: the fields of a baseline entry other than its figures. */
export function runMeta(name: string): {
  commit: string;
  measuredAt: string;
  machine: string;
  loadAverage: number;
  loaded: boolean;
  command: string;
} {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: dirname(RESULTS), encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  // The load when the benchmark began: at its end it counts the benchmark's own threads (a 2-thread run ends near 3).
  const load = LOAD_AT_START;
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('CPNET_') && k !== 'CPNET_BENCH_LOADED')
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  const cpu = cpus();
  return {
    commit: `${git('rev-parse', '--short', 'HEAD') || 'unknown'}${dirty ? '+' : ''}`,
    measuredAt: new Date().toISOString(),
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    loadAverage: Math.round(load * 100) / 100,
    loaded: process.env.CPNET_BENCH_LOADED === '1' || load >= 1,
    command: `${env}npm run bench -- ${[name, ...process.argv.slice(2).filter((a) => a.startsWith('--'))].join(' ')}`,
  };
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === 'number' ? formatNumber(v) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c] ?? '')).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => String(cell(r[c] ?? '')))));
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** The q-quantile (0–1) of a list of numbers. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
