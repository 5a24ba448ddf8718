// Which worker thread hosts which node: an estimate of each node's work from the scenario (the jobs it will see, the
// cluster reports it will take), then the longest-processing-time rule (the heaviest node to the least loaded thread).
import type { Scenario } from '../scenario/schema.ts';
import type { TopologyPlan } from '../topology/expand.ts';

/** What the estimate reads of the workload: each job stream's node, size and whether it may go anywhere. */
export interface StreamLoad {
  readonly submitTo: string;
  readonly count: number;
  /** Latency-tolerant work may be placed anywhere in the country (东数西算); other work stays in its subtree. */
  readonly latencyTolerant?: boolean;
  /**
   * CPU cores the stream keeps busy at once (Little's law: arrivals per hour × hours per job × cores per job). Given,
   * its jobs go to the cheapest clusters (price per core-hour and carbon, as the scheduler's cost model weighs them)
   * until they hold that many, as the scheduler places them; not given, they spread over the clusters by count.
   */
  readonly concurrentCores?: number;
}

/**
 * Relative costs, in units of one job at its origin (submit, placement, status, events). Chosen from the request
 * counts of a scaled-down scale run (bench/README.md "Where the time goes"): the node that runs a job (dispatch,
 * gateway job updates, metering, the relay up) does about as much as the origin; a node between them relays the
 * placement down and the updates up (half); one cluster's capacity report entry is a validated entry and a row in a
 * group commit, about a fiftieth of a job.
 */
export const LOAD_COST = { origin: 1, owner: 1, hop: 0.5, report: 0.02 } as const;

const ancestors = (code: string): string[] => {
  const parts = code.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
};
const within = (code: string, prefix: string) => code === prefix || code.startsWith(`${prefix}.`);

/**
 * Each planned node's expected work over a run of `runMs` virtual ms with capacity reports every `reportEveryMs`: its
 * clusters' reports, plus for each job its origin, the node that runs it and the nodes between (through their lowest
 * common ancestor). Where a job runs is estimated as the scheduler's cost model would choose: among the clusters of the
 * origin's subtree (the whole country for latency-tolerant work, or when the subtree holds none), the cheapest per
 * core-hour with free cores for the stream's concurrent demand (streams in order, each taking what it holds).
 */
export function estimateLoads(
  plan: TopologyPlan,
  streams: readonly StreamLoad[],
  o: { runMs: number; reportEveryMs: number },
): Map<string, number> {
  const loads = new Map<string, number>(plan.nodes.map((n) => [n.code, 0]));
  const add = (code: string, x: number) => loads.set(code, (loads.get(code) ?? 0) + x);
  const clusters = new Map<string, number>();
  for (const p of plan.providers) clusters.set(p.node, (clusters.get(p.node) ?? 0) + p.clusters.length);
  const rounds = Math.max(1, o.runMs / Math.max(1, o.reportEveryMs));
  for (const [code, n] of clusters) add(code, n * rounds * LOAD_COST.report);
  // What is left of each cluster's cores once earlier streams took theirs.
  const free = new Map<string, number>();
  const all = plan.providers.flatMap((p) =>
    p.clusters.map((c) => {
      free.set(c.key, c.cpuCores);
      // Per core-hour: the price, plus the carbon price of a core's energy (DEFAULT_COST_MODEL: 10 W per core,
      // 0.1 元/kg; the simulator's grid intensity is 600 g/kWh × (1 − green share)).
      const cost = c.pricePerCoreHourYuan + 0.01 * c.pue * 0.6 * (1 - c.greenShare) ** 2 * 0.1;
      return { key: c.key, node: p.node, cores: c.cpuCores, cost };
    }),
  );
  all.sort((a, b) => a.cost - b.cost || a.key.localeCompare(b.key));
  for (const s of streams) {
    add(s.submitTo, s.count * LOAD_COST.origin);
    const local = all.filter((c) => within(c.node, s.submitTo));
    const pool = s.latencyTolerant || local.length === 0 ? all : local;
    const owners = new Map<string, number>();
    if (s.concurrentCores !== undefined && s.concurrentCores > 0) {
      let need = s.concurrentCores;
      for (const c of pool) {
        if (need <= 0) break;
        const take = Math.min(need, free.get(c.key) ?? 0);
        if (take <= 0) continue;
        free.set(c.key, (free.get(c.key) ?? 0) - take);
        owners.set(c.node, (owners.get(c.node) ?? 0) + take);
        need -= take;
      }
    }
    // No demand given, or more than the pool holds at once: the rest spreads by cluster count.
    if (owners.size === 0) for (const c of pool) owners.set(c.node, (owners.get(c.node) ?? 0) + 1);
    const total = [...owners.values()].reduce((n, c) => n + c, 0);
    if (total === 0) continue;
    const up = ancestors(s.submitTo);
    for (const [owner, c] of owners) {
      const jobs = (s.count * c) / total;
      add(owner, jobs * LOAD_COST.owner);
      const down = ancestors(owner);
      let common = 0;
      while (common < up.length && common < down.length && up[common] === down[common]) common++;
      // The nodes strictly between origin and owner: up from the origin to the common ancestor, down to the owner.
      const between = [...up.slice(Math.max(0, common - 1), -1), ...down.slice(common, -1)].filter(
        (x) => x !== s.submitTo && x !== owner,
      );
      for (const hop of new Set(between)) add(hop, jobs * LOAD_COST.hop);
    }
  }
  return loads;
}

/**
 * The thread of each node: heaviest first, each to the thread with the least load so far (ties: fewer nodes, then the
 * lower index) — within 4/3 of the best split (Graham's bound), and deterministic for a given estimate.
 */
export function balanceThreads(loads: ReadonlyMap<string, number>, threads: number): Map<string, number> {
  const count = Math.max(1, Math.floor(threads));
  const load = new Array<number>(count).fill(0);
  const nodes = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  const order = [...loads].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [code, w] of order) {
    let t = 0;
    for (let i = 1; i < count; i++) if (load[i]! < load[t]! || (load[i] === load[t] && nodes[i]! < nodes[t]!)) t = i;
    out.set(code, t);
    load[t] = load[t]! + w;
    nodes[t] = nodes[t]! + 1;
  }
  return out;
}

/** The cores a job stream keeps busy at once (Little's law), for the thread placement's load estimate. */
export function concurrentCores(j: Scenario['workload']['jobs'][number]): number {
  const cores = (j.template.demand.cpuCores ?? 0) * (j.template.replicas ?? 1);
  const hours = j.template.durationHours ?? 0;
  const perHour =
    j.arrival.kind === 'poisson'
      ? j.arrival.perMinute * 60
      : j.arrival.kind === 'uniform'
        ? 3_600_000 / Math.max(1, j.arrival.every)
        : Infinity;
  return perHour === Infinity ? j.count * cores : Math.min(j.count, perHour * hours) * cores;
}

/** The load estimate of a scenario's planned nodes: its job streams (and trace) over the run's length. */
export function scenarioLoads(scenario: Scenario, plan: TopologyPlan): Map<string, number> {
  return estimateLoads(
    plan,
    [
      ...scenario.workload.jobs.map((j) => ({
        submitTo: j.submitTo,
        count: j.count,
        latencyTolerant: j.template.latencyTolerant,
        concurrentCores: concurrentCores(j),
      })),
      // A trace's size is known once it is read: count it as one busy stream.
      ...(scenario.workload.trace
        ? [{ submitTo: scenario.workload.trace.submitTo, count: scenario.workload.trace.generate?.pods ?? 10_000 }]
        : []),
    ],
    {
      runMs: Math.max(0, ...scenario.steps.map((s) => s.at)),
      reportEveryMs: scenario.topology.reportEvery,
    },
  );
}
