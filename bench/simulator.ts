// The scale run: scenarios/scale.yaml (94 real nodes, ~10,000 clusters, 100,000 jobs over an hour of virtual time),
// or a fraction of it with CPNET_SCALE (e.g. 0.1) and of its jobs alone with CPNET_JOB_SCALE: wall time, simulated
// events per second, peak RSS, scheduling p50/p99, jobs lost.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseScenario, runScenario, summarise, type Network, type Scenario } from '@cpnet/simulator';
import { printTable, writeFigures } from './lib.ts';

const SCENARIO = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios', 'scale.yaml');

/**
 * Shrinks the scale scenario: fewer provinces and providers by `f`, fewer jobs (and a slower arrival rate) by `jobs`
 * (default `f`), the same shape.
 */
export function scaled(s: Scenario, f: number, jobsF = f): Scenario {
  if (f >= 1 && jobsF >= 1) return s;
  f = Math.min(1, f);
  jobsF = Math.min(1, jobsF);
  // Keep the provinces the job streams are submitted to, then others up to the fraction.
  const targets = new Set(s.workload.jobs.map((j) => j.submitTo.split('.')[1]));
  const wanted = Math.max(targets.size, Math.round(s.topology.regions.length * f));
  const regions = [
    ...s.topology.regions.filter((r) => targets.has(r.code)),
    ...s.topology.regions.filter((r) => !targets.has(r.code)),
  ].slice(0, wanted);
  const kept = new Set(regions.flatMap((r) => [`CPN.${r.code}`, ...r.industries.map((i) => `CPN.${r.code}.${i}`)]));
  const providerTemplates = s.topology.providerTemplates.map((t) => ({
    ...t,
    count: Math.max(2, Math.round(t.count * f)),
    nodes: t.nodes.filter((n) => kept.has(n)),
  }));
  const jobs = s.workload.jobs
    .filter((j) => kept.has(j.submitTo))
    .map((j) => ({
      ...j,
      count: Math.max(10, Math.round(j.count * jobsF)),
      arrival: j.arrival.kind === 'poisson' ? { ...j.arrival, perMinute: j.arrival.perMinute * jobsF } : j.arrival,
    }));
  const total = jobs.reduce((n, j) => n + j.count, 0);
  const clusters = providerTemplates.reduce((n, t) => n + t.count * t.clusters.min, 0);
  const steps = s.steps.map((st) =>
    'that' in st && st.that === 'market'
      ? { ...st, clusters: Math.floor(clusters * 0.9) }
      : 'that' in st && st.that === 'jobs'
        ? { ...st, min: Math.floor(total * 0.95) }
        : st,
  );
  return { ...s, topology: { ...s.topology, regions, providerTemplates }, workload: { ...s.workload, jobs }, steps };
}

/** Runs the benchmark, prints a table and writes bench/results/simulator.json. */
export async function run(): Promise<Record<string, number>> {
  const f = Number(process.env.CPNET_SCALE ?? '1');
  // The whole scenario by default: 94 nodes, 10,093 clusters and all 100,000 jobs (about 7.5 minutes on 2 cores).
  const jobsF = Number(process.env.CPNET_JOB_SCALE ?? f);
  if (!(f > 0 && f <= 1) || !(jobsF > 0 && jobsF <= 1))
    throw new Error(`CPNET_SCALE and CPNET_JOB_SCALE must be in (0, 1], got ${f} and ${jobsF}`);
  const parsed = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const scenario = scaled(parsed.value, f, jobsF);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 250);
  let events = 0;
  const t0 = performance.now();
  // A status line every 30 s of wall time: a long run shows it is alive, and where the time goes.
  let net: Network | null = null;
  let lastActive: number[] = [];
  let lastAt = performance.now();
  const status = setInterval(() => {
    void (async () => {
      const threads = (await net?.threads?.usage().catch(() => [])) ?? [];
      const at = performance.now();
      // Each thread's event loop: share of the last 30 s it was busy (near 100 %: that thread is the bottleneck).
      const busy = threads
        .map(
          (u, i) =>
            `${u.nodes} nodes ${Math.round(u.heapUsed / 2 ** 20)} MiB heap ` +
            `${Math.round(((u.activeMs - (lastActive[i] ?? 0)) / (at - lastAt)) * 100)} % busy`,
        )
        .join(', ');
      lastActive = threads.map((u) => u.activeMs);
      lastAt = at;
      console.log(
        `  … ${((performance.now() - t0) / 1000).toFixed(0)} s wall, rss ` +
          `${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB, ${events} events${busy ? `; threads: ${busy}` : ''}`,
      );
    })();
  }, 30_000);
  const report = await runScenario(scenario, {
    record: () => void events++,
    logLevel: 'error',
    onStarted: (n) => {
      net = n;
    },
    onProgress: (p) => {
      if (p.kind === 'expectation')
        console.log(
          `  ${p.result.passed ? '✓' : '✗'} ${(p.result.at / 60_000).toFixed(1)} min virtual: ${p.result.name} — ${p.result.detail ?? ''}`,
        );
    },
  }).finally(() => clearInterval(status));
  const wall = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  console.log(summarise(report));
  const m = report.metrics;
  const figures = {
    scale: f,
    job_scale: jobsF,
    nodes: m['nodes'] ?? 0,
    clusters: m['clusters'] ?? 0,
    jobs_submitted: m['jobs_submitted'] ?? 0,
    wall_s: wall,
    virtual_s: report.virtualMs / 1000,
    events_per_s: events / wall,
    peak_rss_mib: peak / 2 ** 20,
    scheduling_p50_ms: m['job_submit_p50_ms'] ?? -1,
    scheduling_p99_ms: m['job_submit_p99_ms'] ?? -1,
    jobs_lost: m['jobs_lost'] ?? -1,
    passed: report.passed ? 1 : 0,
  };
  printTable(
    `simulator — scale run at ${f} of scenarios/scale.yaml (jobs at ${jobsF})`,
    Object.entries(figures).map(([figure, value]) => ({ figure, value })),
  );
  console.log(`figures → ${writeFigures('simulator', figures)}`);
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
