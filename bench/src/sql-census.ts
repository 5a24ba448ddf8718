// `npx tsx bench/src/sql-census.ts [scale] [jobScale]`: which SQL statements a run of the scale scenario makes, and how
// often (bench/README.md "The floor, by statement"). `scenarios/scale.yaml` scaled as `bench/simulator.ts` scales it
// (default 0.1 of the topology and 0.01 of the jobs), its nodes in this thread, at `speed: max`. Every statement
// run through better-sqlite3 — the stores' own and Prisma's (its adapter prepares each query's SQL) — is counted by
// its text with literals folded, and by who ran it: Prisma or a store's prepared statement. Prints the 40 most run,
// per virtual minute of the run, and the share of statements that went through Prisma.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parseScenario, runScenario, type Scenario } from '@cpnet/simulator';
import { printTable } from '../lib.ts';
import { scaled } from '../simulator.ts';

const f = Number(process.argv[2] ?? '0.1');
const jobsF = Number(process.argv[3] ?? '0.01');
const require = createRequire(import.meta.url);
const nodeRequire = createRequire(require.resolve('@cpnet/node'));
const Database = nodeRequire('better-sqlite3') as new (f: string) => { prepare(s: string): object; close(): void };
const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
probe.close();

const counts = new Map<string, number>();
const fold = (sql: string): string =>
  sql
    .replace(/\s+/g, ' ')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\b\d+\b/g, 'N')
    .replace(/(\?, )+\?/g, '?…')
    .slice(0, 150);
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = Statement[method] as (...a: unknown[]) => unknown;
  Statement[method] = function (this: { source: string }, ...a: unknown[]) {
    // Prisma's SQL names its tables with the schema (`main`.`Table`) and selects with aliases; the stores' do not.
    const who = /`main`\./.test(this.source) ? 'prisma' : 'store';
    const key = `${who}\t${fold(this.source)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return original.apply(this, a);
  };
}

const file = new URL('../../scenarios/scale.yaml', import.meta.url);
const parsed = parseScenario(readFileSync(file, 'utf8'), file.pathname);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const scenario: Scenario = { ...scaled(parsed.value, f, jobsF), threads: 0, speed: 'max' } as Scenario;
const report = await runScenario(scenario, { logLevel: 'error' });
const minutes = report.virtualMs / 60_000;
const total = [...counts.values()].reduce((a, b) => a + b, 0);
const prisma = [...counts].filter(([k]) => k.startsWith('prisma')).reduce((a, [, v]) => a + v, 0);
console.log(
  `${report.metrics['nodes']} nodes, ${report.metrics['clusters']} clusters, ${report.metrics['jobs_submitted']} jobs, ` +
    `${minutes.toFixed(1)} virtual min (passed: ${report.passed}); ${total} statements, ${prisma} through Prisma`,
);
printTable(
  'Statements run, most first',
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40)
    .map(([k, v]) => {
      const [who, sql] = k.split('\t');
      return { 'per virtual min': (v / minutes).toFixed(1), total: String(v), who: who!, sql: sql! };
    }),
);
