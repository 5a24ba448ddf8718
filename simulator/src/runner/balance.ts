// Which worker thread hosts which node: an estimate of each node's work from the scenario (the jobs it will see, the
// cluster reports it will take), then the longest-processing-time rule (the heaviest node to the least loaded thread).
import type { TopologyPlan } from '../topology/expand.ts';

/** What the estimate reads of the workload: each job stream's node, size and whether it may go anywhere. */
export interface StreamLoad {
  readonly submitTo: string;
  readonly count: number;
  /** Latency-tolerant work may be placed anywhere in the country (东数西算); other work stays in its subtree. */
  readonly latencyTolerant?: boolean;
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
 * common ancestor). Where a job runs is not known before the scheduler decides, so its owner is spread over the nodes
 * in proportion to the clusters they hold: in the origin's subtree (the whole country for latency-tolerant work, or
 * when the subtree holds none).
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
  for (const s of streams) {
    add(s.submitTo, s.count * LOAD_COST.origin);
    const local = [...clusters].filter(([code]) => within(code, s.submitTo));
    const owners = s.latencyTolerant || local.length === 0 ? [...clusters] : local;
    const total = owners.reduce((n, [, c]) => n + c, 0);
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
    for (let i = 1; i < count; i++)
      if (load[i]! < load[t]! || (load[i] === load[t] && nodes[i]! < nodes[t]!)) t = i;
    out.set(code, t);
    load[t] = load[t]! + w;
    nodes[t] = nodes[t]! + 1;
  }
  return out;
}
