// Which worker thread hosts which node: an estimate of each node's work from the scenario (the jobs it will see, the
// cluster reports it will take), then the longest-processing-time rule (the heaviest node to the least loaded thread).
import type { Scenario } from '../scenario/schema.ts';
import type { Task } from '@cpnet/scheduler';
import type { TopologyPlan } from '../topology/expand.ts';
import { plannerRanking, streamTask, type RankChildren } from './balance-rank.ts';

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
  /**
   * The stream's task as the node sees it: given (with `rank`), each node's children are tried in the order its
   * planner ranks them for this task; not given, cheapest cluster first.
   */
  readonly task?: Task;
  /**
   * Virtual ms from the stream's first arrival to its last. Given (with `task` and `rank`), only the jobs that arrive
   * in the first SETTLE_MS are split between near-tied children; the rest go down the planner's ranking alone. Not
   * given: all are split.
   */
  readonly durationMs?: number;
}

/**
 * Relative costs, in units of one job submitted to a node and run on that node's own clusters (about 4 ms of measured
 * event-loop time in the scaled scale run with the hooks on; bench/README.md "Thread balance, measured"): the origin's
 * part (the tenant's submit, answer and status queries) and the owner's (dispatch, gateway updates, metering) half
 * each; every link a job crosses between two nodes (placement asked and answered, its updates relayed back) costs
 * each end `link` — so a node between origin and owner pays two links, more than origin and owner of a local job
 * together; each node's time-driven work (summaries, health sweeps, the simulator's monitor stream and polls) costs
 * `node` per report interval, plus `cluster` per cluster of its subtree (its own capacity reports, record copies and
 * summaries of its children's); the national node besides `national` per report interval × (clusters / 10,000)² — a
 * fit, not a model: with the whole topology (10,093 clusters, 31 regions) its measured share was 2.1× its estimated one
 * (0.249 of all nodes' work against 0.119; CPNET_JOB_SCALE=0.3, bench/README.md "Thread balance: the planner's
 * ranking, and the ladder's tail"), with 3,041 clusters and 9 regions about 1.0×: the excess grows faster than
 * the cluster count. Origin and owner carry besides the simulator's own traffic to them (0.1 the tenant's submits in
 * batches and queries, 0.2 the gateway's job reports): work the hooks that measured the rest charge to no node, which
 * put the busier thread of the 1,000,000-job variant at 0.385 of wall time uncharged against 0.219 — the thread with
 * the streams' origins and owners (bench/README.md "The 1,000,000-job variant at e84db27"); ~0.5 ms a job, a fit.
 */
export const LOAD_COST = { origin: 0.6, owner: 0.7, link: 0.6, node: 12, cluster: 0.01, national: 235 } as const;

/**
 * How close to the best child's expected cost a child's must be to count as tied with it (a share of it). The planner's
 * ranking of regions at the price floor differs by 0.04–0.6 % (subtree carbon); full-scale runs sent the
 * latency-tolerant stream to regions 0.2–1.9 % above the best of the completed plan (bench/README.md "Thread balance,
 * measured" and the section after it), so the band takes those in.
 */
export const TIE_SHARE = 0.025;

/**
 * How long (virtual ms from a stream's start) the planner's pick moves between near-tied children: while the clusters
 * register and the first jobs fill the cheapest, the subtree figures the planner ranks by move with them. Observed in
 * the national node's database (bench/README.md "Thread balance: the planner's ranking, and the ladder's tail"): at
 * 0.3 of the jobs on the whole topology the tolerant stream's region changed every few minutes for the first 25 and
 * stayed with the static first from then on; in the 1,000,000-job variant (ten virtual hours) the static first's
 * subtree (CPN.34 → CPN.34.C263) carried most of it. A fit, like TIE_SHARE.
 */
export const SETTLE_MS = 25 * 60_000;

/** Placements of one stream's cores, weighted: the sum of each placement × its weight, node by node. */
function mix(parts: readonly (readonly [Map<string, number>, number])[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [placed, w] of parts) for (const [k, v] of placed) out.set(k, (out.get(k) ?? 0) + v * w);
  return out;
}

const ancestors = (code: string): string[] => {
  const parts = code.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
};
const within = (code: string, prefix: string) => code === prefix || code.startsWith(`${prefix}.`);

interface Slot {
  readonly key: string;
  readonly node: string;
  readonly cost: number;
}

/**
 * Each planned node's expected work over a run of `runMs` virtual ms with capacity reports every `reportEveryMs`: its
 * time-driven work and its subtree's clusters, plus for each job its origin, the node that runs it, and both ends of
 * every link between (through their lowest common ancestor). Where a job runs follows the hierarchy's planner
 * (`@cpnet/scheduler` nextStep): latency-tolerant work goes up to the national node first (东数西算), which picks
 * among its other children; other work is placed on the origin's own clusters first, then its children's. At each
 * node the subtree offering the cheapest cluster (price per core-hour and carbon, as the cost model weighs them) is
 * chosen while it has cores free for the stream's concurrent demand — so one cheap subtree takes a stream's whole
 * demand up to its capacity, the next the rest (streams in order, each taking what it holds).
 */
export function estimateLoads(
  plan: TopologyPlan,
  streams: readonly StreamLoad[],
  o: { runMs: number; reportEveryMs: number; rank?: RankChildren },
): Map<string, number> {
  const loads = new Map<string, number>(plan.nodes.map((n) => [n.code, 0]));
  const add = (code: string, x: number) => loads.set(code, (loads.get(code) ?? 0) + x);
  const rank = o.rank;
  const rounds = Math.max(1, o.runMs / Math.max(1, o.reportEveryMs));
  const children = new Map<string, string[]>();
  for (const n of plan.nodes) {
    add(n.code, rounds * LOAD_COST.node);
    if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n.code]);
  }
  for (const p of plan.providers)
    for (const a of ancestors(p.node)) if (loads.has(a)) add(a, p.clusters.length * rounds * LOAD_COST.cluster);
  const clusterCount = plan.providers.reduce((n, p) => n + p.clusters.length, 0);
  for (const n of plan.nodes)
    if (n.parent === null) add(n.code, rounds * LOAD_COST.national * (clusterCount / 10_000) ** 2);
  // What is left of each cluster's cores once earlier streams took theirs.
  const free = new Map<string, number>();
  const own = new Map<string, Slot[]>();
  const all: Slot[] = [];
  for (const p of plan.providers)
    for (const c of p.clusters) {
      free.set(c.key, c.cpuCores);
      // Per core-hour: the price, plus the carbon price of a core's energy (DEFAULT_COST_MODEL: 10 W per core,
      // 0.1 元/kg; the simulator's grid intensity is 600 g/kWh × (1 − green share)).
      const cost = c.pricePerCoreHourYuan + 0.01 * c.pue * 0.6 * (1 - c.greenShare) ** 2 * 0.1;
      const slot = { key: c.key, node: p.node, cost };
      own.set(p.node, [...(own.get(p.node) ?? []), slot]);
      all.push(slot);
    }
  const byCost = (a: Slot, b: Slot) => a.cost - b.cost || a.key.localeCompare(b.key);
  for (const slots of own.values()) slots.sort(byCost);
  all.sort(byCost);
  /** The cheapest cluster with free cores in a subtree (Infinity: none). */
  const cheapest = (prefix: string) => {
    for (const c of all) if (within(c.node, prefix) && (free.get(c.key) ?? 0) > 0) return c.cost;
    return Infinity;
  };
  /** Places `need` cores from node `at` down: its own clusters, then its children cheapest first. The rest: returned. */
  const fill = (
    at: string,
    need: number,
    o: { owners: Map<string, number>; skip: string | null; task: Task | undefined; ties: boolean },
  ): number => {
    const { owners, skip, task, ties } = o;
    for (const c of own.get(at) ?? []) {
      if (need <= 0) return 0;
      const take = Math.min(need, free.get(c.key) ?? 0);
      if (take <= 0) continue;
      free.set(c.key, (free.get(c.key) ?? 0) - take);
      owners.set(c.node, (owners.get(c.node) ?? 0) + take);
      need -= take;
    }
    if (need <= 0) return 0;
    if (task && rank) {
      const kids = rank(at, task, skip).filter((k) => cheapest(k.prefix) < Infinity);
      if (kids.length === 0) return need;
      // Near-tied children (expected cost within TIE_SHARE of the best) share the demand evenly: which of them the
      // planner picks turns on figures that move during the run (clusters still registering, summaries late or
      // missing), so the estimate spreads the work it cannot place rather than stake a whole thread on one guess.
      const best = kids[0]?.expectedYuan ?? 0;
      const tied = ties ? kids.filter((k) => k.expectedYuan <= best * (1 + TIE_SHARE)) : kids.slice(0, 1);
      let left = 0;
      for (const k of tied) left += fill(k.prefix, need / tied.length, { owners, skip: null, task, ties });
      need = left;
      for (const k of kids.slice(tied.length)) {
        if (need <= 0) break;
        need = fill(k.prefix, need, { owners, skip: null, task, ties });
      }
      return need;
    }
    const kids = (children.get(at) ?? [])
      .filter((k) => k !== skip)
      .map((k) => ({ k, cost: cheapest(k) }))
      .filter((x) => x.cost < Infinity)
      .sort((a, b) => a.cost - b.cost || a.k.localeCompare(b.k));
    for (const { k } of kids) {
      if (need <= 0) break;
      need = fill(k, need, { owners, skip: null, task, ties });
    }
    return need;
  };
  for (const s of streams) {
    add(s.submitTo, s.count * LOAD_COST.origin);
    const up = ancestors(s.submitTo);
    // Where the placement is decided: the national node for latency-tolerant work (each ancestor offers it up), the
    // origin otherwise; the child the request came from is not asked again.
    const tolerant = (s.latencyTolerant ?? false) && up.length > 1;
    const decider = tolerant ? up[0]! : s.submitTo;
    const skip = tolerant ? up[1]! : null;
    const place = (ties: boolean) => {
      const owners = new Map<string, number>();
      if (s.concurrentCores === undefined || s.concurrentCores <= 0) return owners;
      let need = fill(decider, s.concurrentCores, { owners, skip, task: s.task, ties });
      // Not enough below: asked of the parent, then its parent (last resort), each excluding the asker.
      for (let i = up.indexOf(decider) - 1; need > 0 && i >= 0; i--)
        need = fill(up[i]!, need, { owners, skip: up[i + 1]!, task: s.task, ties });
      return owners;
    };
    // The share of the stream that arrives while the planner's pick still moves: split between the tied children;
    // the rest follows the ranking alone. Each placement takes the cores it holds from the same starting point; the
    // larger share's leaves the free cores for the streams after.
    const unsettled = s.durationMs === undefined ? 1 : Math.min(1, SETTLE_MS / Math.max(1, s.durationMs));
    const before = new Map(free);
    const settledOwners = unsettled < 1 ? place(false) : new Map<string, number>();
    const settledFree = new Map(free);
    for (const [k, v] of before) free.set(k, v);
    const owners = mix([
      [place(true), unsettled],
      [settledOwners, 1 - unsettled],
    ]);
    if (unsettled < 0.5) for (const [k, v] of settledFree) free.set(k, v);
    // No demand given, or none of it placed: the jobs spread over the decider's clusters by count (the whole
    // network's when it has none).
    if (owners.size === 0) {
      const pool = all.filter((c) => within(c.node, decider) && !(skip && within(c.node, skip)));
      for (const c of pool.length ? pool : all) owners.set(c.node, (owners.get(c.node) ?? 0) + 1);
    }
    const total = [...owners.values()].reduce((n, c) => n + c, 0);
    if (total === 0) continue;
    for (const [owner, c] of owners) {
      const jobs = (s.count * c) / total;
      add(owner, jobs * LOAD_COST.owner);
      if (owner === s.submitTo) continue;
      const down = ancestors(owner);
      let common = 0;
      while (common < up.length && common < down.length && up[common] === down[common]) common++;
      // The path: up from the origin to the common ancestor, down to the owner; each link charges both its ends.
      const path = [...up.slice(Math.max(0, common - 1)).reverse(), ...down.slice(common)];
      for (let i = 1; i < path.length; i++) {
        add(path[i - 1]!, jobs * LOAD_COST.link);
        add(path[i]!, jobs * LOAD_COST.link);
      }
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

/** Virtual ms from a job stream's first arrival to its last (mean for Poisson arrivals; 0 for a burst). */
export function streamDurationMs(j: Scenario['workload']['jobs'][number]): number {
  if (j.arrival.kind === 'poisson') return (j.count / j.arrival.perMinute) * 60_000;
  if (j.arrival.kind === 'uniform') return j.count * j.arrival.every;
  return 0;
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
        task: streamTask(j.template, j.tenant),
        durationMs: streamDurationMs(j),
      })),
      // A trace's size is known once it is read: count it as one busy stream.
      ...(scenario.workload.trace
        ? [{ submitTo: scenario.workload.trace.submitTo, count: scenario.workload.trace.generate?.pods ?? 10_000 }]
        : []),
    ],
    {
      runMs: Math.max(0, ...scenario.steps.map((s) => s.at)),
      reportEveryMs: scenario.topology.reportEvery,
      rank: plannerRanking(plan),
    },
  );
}
