// The deciding experiment of issue 16: a small, time-compressed cut of scenarios/scale.yaml, run at a given speed (and
// under a CPU hog started by the caller), printing lost / open / late. Usage:
//   npx tsx bench/sim-deciding.ts <speed|max> [scale=0.05] [jobs per stream=600] [per minute=300]
// Virtual timeline: jobs from 1 min, "final" checked at 5 min (within 3 min), nothing-lost at 9 min.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, runScenario, type Scenario } from '@cpnet/simulator';
import { scaled } from './simulator.ts';

const SCENARIO = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios', 'scale.yaml');

/** The scale scenario cut to `f` of its topology, `count` jobs per stream at `perMinute`, on a 9-minute timeline. */
export function compressed(f: number, count: number, perMinute: number): Scenario {
  const parsed = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const s = scaled(parsed.value, f, f);
  const jobs = s.workload.jobs.map((j) => ({
    ...j,
    count,
    start: 60_000,
    arrival: { kind: 'poisson' as const, perMinute },
    template: { ...j.template, durationHours: 0.01 },
  }));
  const total = jobs.reduce((n, j) => n + j.count, 0);
  const steps = s.steps.map((st) =>
    'that' in st && st.that === 'market'
      ? { ...st, at: 30_000, within: 120_000 }
      : 'that' in st && st.that === 'jobs'
        ? { ...st, at: 300_000, within: 180_000, min: total }
        : { ...st, at: 540_000 },
  );
  return { ...s, workload: { ...s.workload, jobs }, steps, until: 545_000 };
}

const [speedArg = '10', f = '0.05', count = '600', perMinute = '300'] = process.argv.slice(2);
const scenario = compressed(Number(f), Number(count), Number(perMinute));
const t0 = performance.now();
const report = await runScenario(scenario, {
  speed: speedArg === 'max' ? 'max' : Number(speedArg),
  logLevel: 'error',
  onProgress: (p) => {
    if (p.kind === 'expectation')
      console.log(
        `${p.result.passed ? '✓' : '✗'} ${(p.result.at / 1000).toFixed(0)} s: ${p.result.name} — ${p.result.detail}`,
      );
  },
});
console.log(
  JSON.stringify({
    speed: speedArg,
    wall_s: Math.round((performance.now() - t0) / 1000),
    virtual_s: Math.round(report.virtualMs / 1000),
    passed: report.passed,
    ...report.metrics,
  }),
);
