// The scale run: scenarios/scale.yaml (94 real nodes, ~10,000 clusters, 100,000 jobs over an hour of virtual time),
// or a fraction of it with CPNET_SCALE (e.g. 0.1) and of its jobs alone with CPNET_JOB_SCALE, at `speed: max` (as
// fast as the nodes keep up, so wall time is a performance figure): wall time, CPU per job, how busy the node threads
// were, peak RSS, scheduling p50/p99, jobs lost. Then `max_speed_passing`: the highest fixed speed of a ladder
// (CPNET_SPEED_LADDER, default 40,20,10) at which simulator/test-fixtures/scale-small.yaml passes with 0 lost and a
// submit p99 ≤ 250 ms of wall time (0 when none does), tried from the top, so it is bounded to a few minutes.
// `--small` (`npm run bench -- simulator --small`) is the variant for a loaded development machine: CPNET_SCALE 0.1
// and CPNET_JOB_SCALE 0.05 unless set (10 nodes, ~1,000 clusters, 5,000 jobs; a few minutes) and the ladder 40,30.
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  parseScenario,
  runScenario,
  summarise,
  threadCpuMs,
  type Network,
  type Scenario,
  type ThreadUsage,
} from '@cpnet/simulator';
import { JOB_BATCH_MAX } from '@cpnet/protocol';
import { printTable, writeFigures } from './lib.ts';
import { nodeWorkFigures } from './src/node-work.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIO = join(ROOT, 'scenarios', 'scale.yaml');
const SMALL = join(ROOT, 'simulator', 'test-fixtures', 'scale-small.yaml');

/**
 * Shrinks the scale scenario: fewer provinces and providers by `f`, fewer jobs (and a slower arrival rate) by `jobs`
 * (default `f`), the same shape.
 */
export function scaled(s: Scenario, f: number, jobsF = f): Scenario {
  if (f >= 1 && jobsF === 1) return s;
  f = Math.min(1, f);
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
  // Fewer jobs arrive more slowly (the same virtual hour); more jobs (jobsF > 1) arrive at the same rate for longer, and
  // the checks after the streams move by as much: the topology and its capacity are sized for the scenario's rate.
  const more = jobsF > 1;
  const jobs = s.workload.jobs
    .filter((j) => kept.has(j.submitTo))
    .map((j) => ({
      ...j,
      count: Math.max(10, Math.round(j.count * jobsF)),
      arrival:
        j.arrival.kind === 'poisson' && !more ? { ...j.arrival, perMinute: j.arrival.perMinute * jobsF } : j.arrival,
    }));
  const firstJob = Math.min(...jobs.map((j) => j.start));
  const longest = Math.max(
    0,
    ...s.workload.jobs.map((j) => (j.arrival.kind === 'poisson' ? (j.count / j.arrival.perMinute) * 60_000 : 0)),
  );
  const later = more ? longest * (jobsF - 1) : 0;
  const total = jobs.reduce((n, j) => n + j.count, 0);
  const clusters = providerTemplates.reduce((n, t) => n + t.count * t.clusters.min, 0);
  const steps = s.steps.map((st) => {
    const moved = st.at > firstJob ? { ...st, at: st.at + later } : st;
    return 'that' in moved && moved.that === 'market'
      ? { ...moved, clusters: Math.floor(clusters * 0.9) }
      : 'that' in moved && moved.that === 'jobs'
        ? { ...moved, min: Math.floor(total * 0.95) }
        : moved;
  });
  return { ...s, topology: { ...s.topology, regions, providerTemplates }, workload: { ...s.workload, jobs }, steps };
}

/**
 * CPNET_BATCH=<n> sends every stream's jobs at most n per request (1: one `POST /cpn/v1/jobs` each, as tenants did
 * before `POST /cpn/v1/job-batches`); unset, the scenario's own `batch` (50 in scale.yaml).
 */
export function withBatch(s: Scenario, batch: string | undefined): Scenario {
  if (batch === undefined || batch === '') return s;
  const n = Number(batch);
  if (!Number.isInteger(n) || n < 1 || n > JOB_BATCH_MAX)
    throw new Error(`CPNET_BATCH must be an integer from 1 to ${JOB_BATCH_MAX}, got ${batch}`);
  return { ...s, workload: { ...s.workload, jobs: s.workload.jobs.map((j) => ({ ...j, batch: n })) } };
}

/**
 * `CPNET_THREADS`: host the nodes in this many worker threads instead of the scenario's `threads` (`auto`: one per
 * core) — to measure a placement with more threads than cores, where the OS shares the cores among them.
 */
export function withThreads(s: Scenario, threads: string | undefined): Scenario {
  if (threads === undefined || threads === '') return s;
  const n = Number(threads);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new Error(`CPNET_THREADS must be an integer from 1 to 16, got ${threads}`);
  return { ...s, threads: n };
}

/**
 * `CPNET_SPEED`: the scale run at a fixed speed (virtual ms per wall ms, 1–1000) instead of `max` — issue 26's speed-10
 * aim on the whole scenario (its threads' busy share and submit p99 then say how much room the nodes have). Figures
 * in `results/simulator-speed-<n>.json`.
 */
export function speedOf(speed: string | undefined): number | 'max' {
  if (speed === undefined || speed === '' || speed === 'max') return 'max';
  const n = Number(speed);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error(`CPNET_SPEED must be max or an integer from 1 to 1000, got ${speed}`);
  return n;
}

/** Runs the benchmark, prints a table and writes bench/results/simulator.json. */
export async function run(): Promise<Record<string, number>> {
  const small = process.argv.includes('--small');
  const f = Number(process.env.CPNET_SCALE ?? (small ? '0.1' : '1'));
  // The whole scenario by default: 94 nodes, 10,093 clusters and all 100,000 jobs (about 7.5 minutes on 2 cores).
  const jobsF = Number(process.env.CPNET_JOB_SCALE ?? (small ? '0.05' : f));
  // Above 1 only the jobs grow, at the scenario's arrival rate for that much longer (ten virtual hours for 10):
  // CPNET_JOB_SCALE=10 is the 1,000,000-job variant on the same topology, its figures in simulator-jobs-x10.json.
  if (!(f > 0 && f <= 1) || !(jobsF > 0 && jobsF <= 10))
    throw new Error(`CPNET_SCALE must be in (0, 1] and CPNET_JOB_SCALE in (0, 10], got ${f} and ${jobsF}`);
  const speed = speedOf(process.env.CPNET_SPEED);
  const parsed = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const scenario = withThreads(
    withBatch(scaled(parsed.value, f, jobsF), process.env.CPNET_BATCH),
    process.env.CPNET_THREADS,
  );
  const cpu0 = process.cpuUsage();
  // This (the main) thread's CPU: the simulator's own share — virtual clock, link proxies, fake clusters and their
  // gateways, tenants, recorder and checker. The node threads report theirs (ThreadUsage.cpuMs).
  const mainCpu0 = threadCpuMs();
  let mainCpuAtJobs = -1;
  let threadsCpuAtJobs: number[] | null = null;
  let peak = process.memoryUsage().rss;
  // The process CPU when the first job stream starts (virtual time): what the job phase costs, without the start-up
  // (nodes, onboarding, ~10 clusters registered per 100 jobs at full scale, twice that in `--small`).
  const jobsStartMs = Math.min(...scenario.workload.jobs.map((j) => j.start));
  let cpuAtJobs: NodeJS.CpuUsage | null = null;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    const clock = (net as Network | null)?.clock;
    if (!cpuAtJobs && clock && clock.elapsed() >= jobsStartMs) {
      cpuAtJobs = process.cpuUsage(cpu0);
      mainCpuAtJobs = threadCpuMs();
      void (net as Network | null)?.threads?.usage().then(
        (u) => (threadsCpuAtJobs = u.map((x) => x.cpuMs)),
        () => undefined,
      );
    }
  }, 250);
  let events = 0;
  const t0 = performance.now();
  // A status line every 30 s of wall time: a long run shows it is alive, and where the time goes.
  let net: Network | null = null;
  let lastActive: number[] = [];
  // With CPNET_NODE_WORK=1: each node's work at the last status line, for the busiest nodes of each 30 s.
  let lastNodeWork: Record<string, number> = {};
  let lastAt = performance.now();
  // Each thread's busy milliseconds at the start and the latest reading: their share of the run's wall time.
  let firstActive: number[] | null = null;
  let latestActive: number[] = [];
  // GC: the node threads report theirs; this (the main) thread's is observed here.
  let firstGc: number[] | null = null;
  // The threads' whole usage (busy time and, with CPNET_NODE_WORK=1, each node's work) at the start and the end.
  let firstUsage: ThreadUsage[] = [];
  let lastUsage: ThreadUsage[] = [];
  let latestGc: number[] = [];
  let mainGcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) mainGcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  // One status line at a time: on a lagging main thread a reading can take longer than the interval.
  let reading = false;
  const status = setInterval(() => {
    if (reading) return;
    reading = true;
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
      const top = busiestNodes(threads, lastNodeWork, at - lastAt);
      lastNodeWork = Object.assign({}, ...threads.map((u) => u.nodeWorkMs ?? {})) as Record<string, number>;
      lastActive = threads.map((u) => u.activeMs);
      firstActive ??= lastActive;
      latestActive = lastActive;
      latestGc = threads.map((u) => u.gcMs);
      lastAt = at;
      console.log(
        `  … ${((performance.now() - t0) / 1000).toFixed(0)} s wall, rss ` +
          `${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB (main heap ` +
          `${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB), ${events} events${busy ? `; threads: ${busy}` : ''}` +
          top,
      );
    })().finally(() => (reading = false));
  }, 30_000);
  const report = await runScenario(scenario, {
    speed,
    record: () => void events++,
    logLevel: 'error',
    onStarted: (n) => {
      net = n;
      void n.threads?.usage().then((u) => {
        firstUsage = u;
        firstActive = u.map((x) => x.activeMs);
        firstGc = u.map((x) => x.gcMs);
      });
    },
    onProgress: (p) => {
      // The threads' busy time just before the network closes.
      if (p.kind === 'expectation' && net?.threads)
        void net.threads.usage().then(
          (u) => {
            lastUsage = u;
            latestActive = u.map((x) => x.activeMs);
            latestGc = u.map((x) => x.gcMs);
          },
          () => undefined,
        );
      if (p.kind === 'expectation')
        console.log(
          `  ${p.result.passed ? '✓' : '✗'} ${(p.result.at / 60_000).toFixed(1)} min virtual: ${p.result.name} — ${p.result.detail ?? ''}`,
        );
    },
  }).finally(() => clearInterval(status));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = threadCpuMs();
  clearInterval(sampler);
  gcObserver.disconnect();
  const gcMs = mainGcMs + latestGc.reduce((n, g, i) => n + g - (firstGc?.[i] ?? 0), 0);
  const busyMs = latestActive.reduce((n, a, i) => n + a - (firstActive?.[i] ?? 0), 0);
  const threadCount = latestActive.length;
  console.log(summarise(report));
  const m = report.metrics;
  const jobs = Math.max(1, m['jobs_submitted'] ?? 0);
  const split = cpuSplit({
    processMs: (cpu.user + cpu.system) / 1000,
    mainMs: mainCpu - mainCpu0,
    threadsMs: lastUsage.reduce((n, u) => n + u.cpuMs, 0),
    jobs,
  });
  const splitPhase =
    cpuAtJobs && threadsCpuAtJobs
      ? cpuSplit({
          processMs:
            (cpu.user + cpu.system - (cpuAtJobs as NodeJS.CpuUsage).user - (cpuAtJobs as NodeJS.CpuUsage).system) /
            1000,
          mainMs: mainCpu - mainCpuAtJobs,
          threadsMs: lastUsage.reduce((n, u, i) => n + u.cpuMs - ((threadsCpuAtJobs as number[])[i] ?? 0), 0),
          jobs,
        })
      : null;
  const figures = {
    scale: f,
    job_scale: jobsF,
    // The clock's speed: 0 for `max`.
    speed: speed === 'max' ? 0 : speed,
    nodes: m['nodes'] ?? 0,
    clusters: m['clusters'] ?? 0,
    jobs_submitted: m['jobs_submitted'] ?? 0,
    wall_s: wall,
    virtual_s: report.virtualMs / 1000,
    // CPU of the whole process (main and node threads) per submitted job.
    cpu_ms_per_job: (cpu.user + cpu.system) / 1000 / Math.max(1, m['jobs_submitted'] ?? 0),
    // The same from the first job stream's start on: the job phase alone (-1 when the run never got there).
    cpu_ms_per_job_phase: cpuAtJobs
      ? (cpu.user + cpu.system - (cpuAtJobs as NodeJS.CpuUsage).user - (cpuAtJobs as NodeJS.CpuUsage).system) /
        1000 /
        Math.max(1, m['jobs_submitted'] ?? 0)
      : -1,
    // The same CPU split by thread (wall-clock CPU time of each OS thread): the node threads' JS threads, the main
    // thread (the simulator itself), and the rest (libuv's pool — fsyncs, async crypto — and V8's helper threads, GC).
    cpu_ms_per_job_nodes: split.nodes,
    cpu_ms_per_job_simulator: split.simulator,
    cpu_ms_per_job_other: split.other,
    cpu_ms_per_job_phase_nodes: splitPhase?.nodes ?? -1,
    cpu_ms_per_job_phase_simulator: splitPhase?.simulator ?? -1,
    cpu_ms_per_job_phase_other: splitPhase?.other ?? -1,
    // The node threads' event loops: the share of the run's wall time they were busy (1: the threads were the limit).
    threads_busy_share: threadCount ? busyMs / (wall * 1000 * threadCount) : -1,
    // Garbage collection (every isolate: main and node threads) as a share of the process's CPU time.
    gc_share: gcMs / ((cpu.user + cpu.system) / 1000),
    events_per_s: events / wall,
    peak_rss_mib: peak / 2 ** 20,
    // A tenant's submit → answer (placed and dispatched across the hierarchy), wall time.
    submit_p50_ms: m['job_submit_p50_ms'] ?? -1,
    submit_p99_ms: m['job_submit_p99_ms'] ?? -1,
    jobs_lost: m['jobs_lost'] ?? -1,
    passed: report.passed ? 1 : 0,
    // Each thread's busy share, and with CPNET_NODE_WORK=1 its share of the nodes' work, estimated and measured.
    ...nodeWorkFigures({
      placement: (net as Network | null)?.placement ?? new Map(),
      first: firstUsage,
      last: lastUsage,
      wallMs: wall * 1000,
    }),
    ...(await maxSpeedPassing(small)),
  };
  printTable(
    `simulator — scale run at ${f} of scenarios/scale.yaml (jobs at ${jobsF}, speed ${speed})`,
    Object.entries(figures).map(([figure, value]) => ({ figure, value })),
  );
  const name = speed !== 'max' ? `simulator-speed-${speed}` : jobsF > 1 ? `simulator-jobs-x${jobsF}` : 'simulator';
  console.log(`figures → ${writeFigures(name, figures)}`);
  return figures;
}

/**
 * With CPNET_NODE_WORK=1, the status line's tail: each thread's three busiest nodes since the last line, as shares of
 * that stretch's wall time (which node holds a saturated thread); empty without the accounting.
 */
function busiestNodes(threads: readonly ThreadUsage[], before: Record<string, number>, wallMs: number): string {
  const parts = threads.map((u, i) => {
    const work = Object.entries(u.nodeWorkMs ?? {})
      .map(([code, ms]) => [code, ms - (before[code] ?? 0)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([code, ms]) => `${code} ${Math.round((ms / wallMs) * 100)} %`);
    return work.length > 0 ? `thread ${i}: ${work.join(', ')}` : '';
  });
  return parts.some((p) => p) ? `\n    busiest: ${parts.filter((p) => p).join('; ')}` : '';
}

/**
 * A process's CPU over `jobs`, split into the node threads' part, the main thread's (the simulator's) and the rest
 * (thread pool, V8's helpers); -1 each when a thread's CPU could not be read.
 */
function cpuSplit(o: { processMs: number; mainMs: number; threadsMs: number; jobs: number }) {
  if (o.mainMs < 0 || o.threadsMs <= 0) return { nodes: -1, simulator: -1, other: -1 };
  return {
    nodes: o.threadsMs / o.jobs,
    simulator: o.mainMs / o.jobs,
    other: (o.processMs - o.mainMs - o.threadsMs) / o.jobs,
  };
}

/**
 * The highest speed of the ladder at which the small scale run passes with nothing lost and a submit p99 within 250 ms
 * of wall time (0 when none does), and each tried speed's submit p99 and node threads' busy share.
 */
async function maxSpeedPassing(small: boolean): Promise<Record<string, number>> {
  // CPNET_SPEED_LADDER=none (or empty): no ladder (a run that measures the scale run alone: CPU, memory, profiles).
  const ladderEnv = process.env.CPNET_SPEED_LADDER ?? (small ? '40,30' : '40,30,20,10');
  if (ladderEnv.trim() === '' || ladderEnv.trim() === 'none') return {};
  const ladder = ladderEnv.split(',').map(Number);
  const parsed = parseScenario(readFileSync(SMALL, 'utf8'), SMALL);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const out: Record<string, number> = { max_speed_passing: 0 };
  for (const speed of ladder.sort((a, b) => b - a)) {
    let first: number[] = [];
    let last: number[] = [];
    let net: Network | null = null;
    const t0 = performance.now();
    const r = await runScenario(withBatch(parsed.value, process.env.CPNET_BATCH), {
      speed,
      logLevel: 'error',
      onStarted: (n) => {
        net = n;
        void n.threads?.usage().then((u) => (first = u.map((x) => x.activeMs)));
      },
      onProgress: (p) => {
        if (p.kind === 'expectation')
          void (net as Network | null)?.threads?.usage().then(
            (u) => (last = u.map((x) => x.activeMs)),
            () => undefined,
          );
      },
    });
    const wallMs = performance.now() - t0;
    const p99 = r.metrics['job_submit_p99_ms'] ?? Infinity;
    const lost = r.metrics['acknowledged_lost'] ?? -1;
    const busy = last.length ? last.reduce((n, a, i) => n + a - (first[i] ?? 0), 0) / (wallMs * last.length) : -1;
    out[`submit_p99_ms_at_${speed}`] = p99;
    out[`threads_busy_share_at_${speed}`] = busy;
    console.log(
      `  speed ${speed}: ${r.passed ? 'passed' : 'failed'}, lost ${lost}, submit p99 ${p99.toFixed(0)} ms, ` +
        `threads ${(busy * 100).toFixed(0)} % busy, ${(r.wallMs / 1000).toFixed(0)} s wall`,
    );
    if (r.passed && lost === 0 && p99 <= 250) {
      out.max_speed_passing = speed;
      break;
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
