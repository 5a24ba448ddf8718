import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createChecker } from '../checker/checker.ts';
import { createVirtualClock } from '../clock/virtual-clock.ts';
import { stallProblem, type StallPlan } from '../clock/stall.ts';
import type { ExpectationResult, RunReport, StepResult } from '../report/report.ts';
import { processModeProblems, type Scenario } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { seededFaker } from '../topology/fake-org.ts';
import { describeAction, runAction } from './actions.ts';
import { dataGravity, type PlacedDataJob, type PricedCluster } from '../report/data-gravity.ts';
import { now, type RunContext } from './context.ts';
import { checkExpectation, describeExpectation } from './expectations.ts';
import { startNetwork, type Network } from './network.ts';
import { sampleAllocations } from './alloc-profile.ts';
import { scenarioLoads } from './balance.ts';
import { guidePath } from './guide-steps.ts';
import { attachRecording, type RecordingSink } from './recording.ts';
import { createTenants, runStream, runTrace } from './jobs.ts';
import { generateAlibabaPods, parseAlibabaPods } from '../trace/alibaba.ts';
import { startProvider } from './providers.ts';
import type { PlannedProvider } from '../topology/expand.ts';
import { stopwatch, systemClock } from '@cpnet/kernel/system';

/** What the runner tells its caller as it goes (for a live step list). */
export type Progress =
  | { kind: 'started'; scenario: string; nodes: number; steps: number }
  | { kind: 'step'; index: number; total: number; at: number; label: string }
  | { kind: 'action'; result: StepResult }
  | { kind: 'expectation'; result: ExpectationResult }
  | { kind: 'finished'; report: RunReport };

/** Options of a run. */
export interface RunOptions {
  /** Overrides the scenario's seed: the same seed gives the same topology, arrivals, faults and keys. */
  readonly seed?: number;
  /**
   * Virtual time runs at most this many times faster than wall time, slower when the machine falls behind; `max`: as
   * fast as the nodes keep up, jumping over idle time. Default: the scenario's.
   */
  readonly speed?: number | 'max';
  /** Where node databases go; a temporary folder (removed afterwards) by default. */
  readonly dir?: string;
  /**
   * Each node's PostgreSQL database URL, by node key (an empty database per node; the caller makes and drops them):
   * every node runs `--database` instead of SQLite in `dir`.
   */
  readonly database?: (key: string) => Promise<string>;
  readonly onProgress?: (p: Progress) => void;
  /** Receives the recording's JSON lines. */
  readonly record?: RecordingSink;
  readonly logLevel?: string;
  /** The folder relative paths in the scenario (a trace file) are resolved against: the scenario file's folder. */
  readonly baseDir?: string;
  /** Called once the national node is up, with the network (the demo starts the visualiser here). */
  readonly onStarted?: (net: Network) => void | Promise<void>;
  /** Ends the run early (Ctrl-C in the demo): remaining steps are skipped and everything shuts down cleanly. */
  readonly signal?: AbortSignal;
  /** Keep the network running after the last step until `signal` aborts, whatever the scenario's `until` (sim up). */
  readonly untilAborted?: boolean;
  /**
   * One OS process per node (the real `cpnet node start`) instead of in this process; default: the scenario's
   * `processes`. Needs speed 1 and no skew-clock faults (see processModeProblems).
   */
  readonly processes?: boolean;
  /**
   * Each node on a separate host: its own network namespace and address (root on Linux; see lan.ts). Implies
   * `processes`, with its limits.
   */
  readonly hosts?: boolean;
  /** Host the nodes in worker threads: a count, or auto (one per core); default: the scenario's `threads`. */
  readonly threads?: number | 'auto';
  /**
   * A fault for tests of the governed clock: node thread `thread` is blocked for `busyMs` every `everyMs` of wall time
   * for the whole run. Needs worker threads. The report's `thread_stalled_ms` says how long it was blocked.
   */
  readonly stallThread?: StallPlan & { readonly thread: number };
  /**
   * A folder to write V8 heap snapshots into once the last step has run, before anything stops: one per node thread
   * and one of this (the main) thread — what holds memory late in a run. Default: `CPNET_THREAD_HEAP_SNAPSHOT`.
   */
  readonly heapSnapshots?: string;
}

/**
 * Runs a scenario end to end: starts the national node and the topology as real node servers on loopback behind
 * fault proxies, executes the timed steps on the virtual clock, checks every expectation, and reports.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunReport> {
  const seed = options.seed ?? scenario.seed;
  const speed = options.speed ?? scenario.speed;
  const processes = (options.hosts ?? false) || (options.processes ?? scenario.processes);
  if (processes) {
    const problems = processModeProblems(scenario, { speed });
    if (problems.length)
      throw new Error(
        `cannot run ${scenario.name} in process mode: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
      );
  }
  if (options.stallThread) {
    const problem = stallProblem(options.stallThread);
    if (problem) throw new RangeError(`stallThread: ${problem}`);
    if (processes || (options.threads ?? scenario.threads) === 0)
      throw new RangeError('stallThread: stalls a worker thread, and this run hosts no nodes in worker threads');
  }
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), `cpnet-sim-${scenario.name}-`));
  const startedWall = systemClock.now();
  const faker = seededFaker(seed);
  const plan = expandTopology(scenario.topology, seed);
  const wanted = options.threads ?? scenario.threads;
  const threads = processes ? 0 : wanted === 'auto' ? availableParallelism() : wanted;
  // Process-mode nodes keep the machine's clock: the simulator's clock then runs at wall speed and never jumps.
  const clock = createVirtualClock({
    // A scenario over a guide's calendar starts at its date; process-mode nodes keep the machine's clock.
    start: scenario.calendar && !processes ? Date.parse(scenario.calendar) : startedWall,
    speed,
    threads: Math.max(1, threads),
    ...(processes ? { lagSlowMs: Infinity, lagStopMs: Infinity } : {}),
  });
  const elapsedWall = stopwatch();
  // CPNET_THREAD_ALLOC_PROFILE=<dir>: this thread's allocations sampled too (the node threads sample their own).
  const allocDir = process.env.CPNET_THREAD_ALLOC_PROFILE;
  const allocations = allocDir ? sampleAllocations() : null;
  const net = await startNetwork(plan, {
    clock,
    seed,
    dir,
    ...(options.database ? { database: options.database } : {}),
    autoReview: scenario.topology.review === 'auto',
    acceptance: scenario.topology.acceptance === 'authority' ? 'authority' : 'automatic',
    ...(scenario.topology.guide ? { guideFile: guidePath(scenario.topology.guide) } : {}),
    faker,
    logLevel: options.logLevel,
    processes,
    hosts: options.hosts ?? false,
    threads,
    reportEveryMs: scenario.topology.reportEvery,
    ...(scenario.topology.certificateLifetime
      ? { certificateLifetimeDays: scenario.topology.certificateLifetime / 86_400_000 }
      : {}),
    loads: scenarioLoads(scenario, plan),
  });
  if (options.stallThread) await net.threads?.stall(options.stallThread.thread, options.stallThread);
  const ctx: RunContext = {
    scenario,
    seed,
    net,
    clock,
    advanced: { ms: 0 },
    faker,
    checker: createChecker(),
    registered: [],
    resolveMs: [],
    faults: new Map(),
    faultTimes: new Map(),
    lastCheck: null,
    applicants: new Map(),
    attacks: [],
    providers: [],
    jobs: [],
    submitMs: [],
    dispatches: [],
    tenantClient: createTenants({ net, clock }),
  };
  const recording = options.record ? await attachRecording(ctx, { sink: options.record, seed }) : null;
  const steps: StepResult[] = [];
  const refusals: string[] = [];
  const expectations: ExpectationResult[] = [];
  const ordered = scenario.steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.at - b.s.at || a.i - b.i)
    .map((x) => x.s);
  options.onProgress?.({ kind: 'started', scenario: scenario.name, nodes: plan.nodes.length, steps: ordered.length });
  let stopped = false;
  let stalledMs = 0;
  const background: Promise<void>[] = [];
  const aborted = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const sleep = (ms: number) => Promise.race([clock.sleep(ms), aborted]);
  try {
    await startUnappliedNodes(ctx);
    await options.onStarted?.(net);
    background.push(
      provision(ctx, {
        stopped: () => stopped,
        onError: (detail) => steps.push({ at: now(ctx), action: 'start providers', ok: false, detail }),
      }),
    );
    const trace = scenario.workload.trace;
    if (trace) {
      const csv = trace.file
        ? readFileSync(path.resolve(options.baseDir ?? '.', trace.file), 'utf8')
        : generateAlibabaPods({ seed, pods: trace.generate!.pods, spanS: 600 });
      const parsed = parseAlibabaPods(csv);
      if (!parsed.ok) throw new Error(`trace ${trace.file ?? '(generated)'}: ${parsed.error}`);
      background.push(
        runTrace(ctx, {
          jobs: parsed.jobs,
          submitTo: trace.submitTo,
          speedup: trace.speedup,
          startAt: trace.start,
          stopped: () => stopped,
          onRefusal: (detail) => refusals.push(`trace: ${detail}`),
        }),
      );
    }
    for (const stream of scenario.workload.jobs) {
      background.push(
        runStream(ctx, {
          stream,
          stopped: () => stopped,
          onRefusal: (detail) => refusals.push(`${stream.name}: ${detail}`),
        }),
      );
    }
    for (const [index, step] of ordered.entries()) {
      const wait = step.at - now(ctx);
      if (wait > 0) await sleep(wait);
      if (options.signal?.aborted) break;
      recording?.tick();
      const label = 'do' in step ? describeAction(step) : describeExpectation(step);
      options.onProgress?.({ kind: 'step', index, total: ordered.length, at: now(ctx), label });
      // At max, a step being carried out (requests, polls) runs the clock at most STEP_RATE virtual ms per wall ms, as
      // at the default speed: the step's own wall time does not let the schedule run ahead of it. Not while the
      // calendar advances or the runner waits.
      const busy = speed === 'max' && !('do' in step && (step.do === 'advance' || step.do === 'wait'));
      const done = busy ? clock.governor.slow(STEP_RATE) : () => undefined;
      try {
        if ('do' in step) {
          if (step.do === 'wait') await sleep(step.for);
          const result = await runAction(ctx, step);
          steps.push(result);
          options.onProgress?.({ kind: 'action', result });
        } else {
          const result = await checkExpectation(ctx, step);
          expectations.push(result);
          options.onProgress?.({ kind: 'expectation', result });
        }
      } finally {
        done();
      }
    }
    const end = scenario.until ?? 0;
    if (options.untilAborted) await aborted;
    else if (end > now(ctx) && !options.signal?.aborted) await sleep(end - now(ctx));
    const snapshots = options.heapSnapshots ?? process.env.CPNET_THREAD_HEAP_SNAPSHOT;
    if (snapshots) {
      mkdirSync(snapshots, { recursive: true });
      await net.threads?.heapSnapshot(snapshots);
      writeHeapSnapshot(path.join(snapshots, `main-${process.pid}-${systemClock.now()}.heapsnapshot`));
    }
    if (allocDir && allocations) {
      await net.threads?.allocProfile(allocDir);
      const file = path.join(allocDir, `main-${process.pid}.heapprofile`);
      writeFileSync(file, JSON.stringify(await allocations.stop()));
    }
  } finally {
    stopped = true;
    await Promise.race([Promise.allSettled(background), systemClock.sleep(5000)]);
    recording?.close();
    for (const p of ctx.providers) p.stop();
    if (options.stallThread)
      stalledMs = ((await net.threads?.usage().catch(() => [])) ?? []).reduce((n, u) => n + u.stalledMs, 0);
    await net.close();
    clock.governor.stop();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
  const held = clock.governor.stats();
  const resolve = [...ctx.resolveMs].sort((a, b) => a - b);
  const failover = ctx.checker.durations().sort((a, b) => a - b);
  const submits = [...ctx.submitMs].sort((a, b) => a - b);
  const check = ctx.lastCheck;
  const report: RunReport = {
    placements: placements(ctx),
    ...(refusals.length ? { refusals: refusals.slice(0, 3).map((r) => r.slice(0, 300)) } : {}),
    scenario: scenario.name,
    seed,
    passed: expectations.every((e) => e.passed) && steps.every((s) => s.ok),
    startedAt: new Date(startedWall).toISOString(),
    wallMs: Math.round(elapsedWall()),
    virtualMs: Math.round(clock.elapsed()),
    expectations,
    steps,
    // Only what was measured: a quantile needs samples, the loss figures a `nothing-lost` check.
    metrics: {
      nodes: plan.nodes.length,
      identifiers_registered: ctx.registered.length,
      ...quantiles('resolve', resolve),
      failover_episodes: failover.length,
      ...quantiles('failover', failover),
      ...(check
        ? { acknowledged_lost: check.lost, acknowledged_duplicated: check.duplicated, jobs_lost: check.jobsLost }
        : {}),
      jobs_submitted: ctx.jobs.length,
      ...quantiles('job_submit', submits),
      jobs_refused_at_submission: refusals.length,
      jobs_dispatched: new Set(ctx.dispatches.map((d) => d.job)).size,
      providers: ctx.providers.length,
      clusters: ctx.providers.reduce((n, p) => n + p.clusters.size, 0),
      attacks_refused: ctx.attacks.filter((a) => a.refused).length,
      attacks_accepted: ctx.attacks.filter((a) => !a.refused).length,
      // Wall ms the clock waited for the system: threads behind their due timers, event-loop lag.
      clock_held_for_timers_ms: Math.round(held.heldForTimersMs),
      clock_slowed_for_lag_ms: Math.round(held.slowedForLagMs),
      clock_slowed_for_slow_requests_ms: Math.round(held.slowedForSlowRequestsMs),
      clock_capped_for_inflight_ms: Math.round(held.cappedForInflightMs),
      clock_jumps: held.jumps,
      ...dataMetrics(ctx),
      ...(options.stallThread ? { thread_stalled_ms: stalledMs } : {}),
    },
  };
  options.onProgress?.({ kind: 'finished', report });
  return report;
}

/** Virtual ms per wall ms at most while a step is carried out at `max` (the default speed). */
const STEP_RATE = 10;

/** The last dispatch of each job, as `stream#index` → the cluster's key in the plan (see RunReport.placements). */
function placements(ctx: RunContext): Record<string, string> {
  const keyOf = new Map<string, string>();
  for (const p of ctx.providers) for (const [key, id] of p.idOfKey) keyOf.set(id, key);
  const jobOf = new Map(ctx.jobs.map((j) => [j.id, `${j.stream}#${j.index}`]));
  const out: Record<string, string> = {};
  for (const d of ctx.dispatches) {
    const job = jobOf.get(d.job);
    if (job) out[job] = keyOf.get(d.cluster) ?? d.cluster;
  }
  return out;
}

/**
 * Data has weight (issue 27): GiB moved and the saving net of transfer, from the placements the nodes made (each job's
 * last dispatch), the planned clusters' prices and the scheduler's own transfer model; nothing without data jobs.
 */
function dataMetrics(ctx: RunContext): Record<string, number> {
  const withData = ctx.jobs.filter((j) => j.data !== null);
  if (withData.length === 0) return {};
  const clusterOf = new Map<string, PricedCluster>();
  for (const p of ctx.providers)
    for (const c of p.planned.clusters) {
      const id = p.idOfKey.get(c.key);
      if (id) clusterOf.set(id, c);
    }
  const last = new Map<string, string>();
  for (const d of ctx.dispatches) last.set(d.job, d.cluster);
  const streams = new Map(ctx.scenario.workload.jobs.map((s) => [s.name, s.template]));
  const placed: PlacedDataJob[] = [];
  for (const j of withData) {
    const cluster = clusterOf.get(last.get(j.id) ?? '');
    const t = streams.get(j.stream);
    if (!cluster || !t) continue;
    const hours = t.replicas * t.durationHours;
    placed.push({
      data: j.data!,
      coreHours: t.demand.cpuCores * hours,
      cardHours: (t.demand.accelerators?.count ?? 0) * hours,
      cluster,
    });
  }
  const g = dataGravity(placed, [...clusterOf.values()]);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    data_jobs_placed: placed.length,
    data_moved_gib: r2(g.movedGib),
    data_transfer_yuan: r2(g.transferYuan),
    data_compute_yuan: r2(g.computeYuan),
    data_stay_home_yuan: r2(g.stayYuan),
    data_saving_net_yuan: r2(g.savingNetYuan),
    data_saving_net_pct: r2(g.savingNetShare * 100),
  };
}

/** `<name>_p50_ms` and `<name>_p99_ms` of sorted samples; nothing when there are none. */
function quantiles(name: string, sorted: readonly number[]): Record<string, number> {
  if (sorted.length === 0) return {};
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { [`${name}_p50_ms`]: q(0.5), [`${name}_p99_ms`]: q(0.99) };
}

/** Starts each planned provider (registration, clusters, gateway) once its node is online. */
async function provision(
  ctx: RunContext,
  o: { stopped: () => boolean; onError: (detail: string) => void },
): Promise<void> {
  const byNode = new Map<string, PlannedProvider[]>();
  for (const p of ctx.net.plan.providers) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  await Promise.all(
    [...byNode].map(async ([node, providers]) => {
      while (!o.stopped()) {
        const sim = ctx.net.nodes.get(node);
        const info = sim?.running ? await sim.anon().node() : null;
        if (info?.ok && info.value.lifecycle === 'online') break;
        // Virtual time, and not too often: dozens of onboarding nodes polled every 100 ms slowed their own onboarding.
        await ctx.clock.sleep(2000);
      }
      for (const p of providers) {
        if (o.stopped()) return;
        try {
          ctx.providers.push(await startProvider(ctx, p, { reportEveryMs: ctx.scenario.topology.reportEvery }));
        } catch (e) {
          o.onError((e as Error).message);
        }
      }
    }),
  );
}

/** Nodes of the topology that no `apply` step starts are started (and apply) at once, parents first. */
async function startUnappliedNodes(ctx: RunContext): Promise<void> {
  const applied = new Set(
    ctx.scenario.steps.filter((s) => 'do' in s && s.do === 'apply').map((s) => (s as { node: string }).node),
  );
  const waiting = ctx.net.plan.nodes.filter((n) => n.role !== 'national' && !applied.has(n.code));
  for (const role of ['regional', 'industry'] as const) {
    await Promise.all(
      waiting
        .filter((n) => n.role === role && (!n.parent || ctx.net.nodes.get(n.parent)?.running))
        .map((n) => ctx.net.startNode(n.code)),
    );
  }
}
