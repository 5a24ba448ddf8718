/**
 * Karmada's Divided replica scheduling, re-created from its documentation and source (karmada-io/karmada:
 * docs "Resource Propagating → replicaScheduling", pkg/scheduler/core: `assignReplicas`, the dispenser's
 * `TakeByWeight`, `selectClusters` with spread constraints; proposal "divide replicas by static weight evenly").
 * Read, not copied. What it follows:
 *
 * - Filter: cluster affinity, API enablement and taints — here, our hard constraints (arch, residency, security,
 *   latency bound, price) without capacity: Karmada's filter plugins do not check free resources.
 * - Spread constraints (`spreadByField: region | provider`, minGroups/maxGroups): groups are ranked by their clusters'
 *   score (the default plugins score 0 without preferred affinity or previous placement) and then by available
 *   replicas; the first maxGroups are kept; fewer than minGroups groups fails the job.
 * - Static weights (`replicaDivisionPreference: Weighted`, `weightPreference.staticWeightList`): each cluster gets
 *   ⌊w × replicas / Σw⌋ and the remainder goes one replica at a time by weight, ties at random (the "evenly"
 *   proposal). Availability is not looked at: replicas sent to a full cluster stay Pending (counted rejected here).
 * - Dynamic weights (`dynamicWeight: AvailableReplicas`): the weight of a cluster is the replicas it can hold now
 *   (Karmada's estimator); when they sum below the replicas, scheduling fails.
 */
import type { ClusterIndex } from '../cluster-index.ts';
import type { Task } from '../model.ts';
import { replicasFit } from '../need.ts';
import {
  divideByWeight,
  eligibleRows,
  runBaseline,
  shuffledRanks,
  type BaselineOptions,
  type BaselineResult,
  type Part,
} from './common.ts';
import type { Checked } from '../validate.ts';

/** Karmada's spreadConstraints for one field. */
export interface KarmadaSpread {
  readonly by: 'province' | 'provider';
  readonly minGroups: number;
  readonly maxGroups: number;
}

/** Options: static weights per cluster id (clusters absent weigh 0; all absent = equal weights) and spread. */
export interface KarmadaOptions extends BaselineOptions {
  readonly staticWeights?: Readonly<Record<string, number>>;
  readonly spread?: KarmadaSpread;
}

function spreadSelect(
  ix: ClusterIndex,
  c: { rows: number[]; avail: number[] },
  s: KarmadaSpread | undefined,
): number[] | null {
  const { rows, avail } = c;
  if (!s) return rows;
  const key = (r: number): string => (s.by === 'province' ? String(ix.prov[r]) : ix.prefixes[r]!);
  const groups = new Map<string, { rows: number[]; avail: number }>();
  rows.forEach((r, i) => {
    const g = groups.get(key(r)) ?? groups.set(key(r), { rows: [], avail: 0 }).get(key(r))!;
    g.rows.push(r);
    g.avail += avail[i]!;
  });
  const ordered = [...groups.entries()].sort((a, b) => b[1].avail - a[1].avail || (a[0] < b[0] ? -1 : 1));
  if (ordered.length < s.minGroups) return null;
  const keep = new Set(ordered.slice(0, s.maxGroups).flatMap(([, g]) => g.rows));
  return rows.filter((r) => keep.has(r));
}

/** Divided scheduling with static weights. Mutates the index's availability. */
export function karmadaStaticWeight(
  ix: ClusterIndex,
  tasks: readonly Task[],
  o: KarmadaOptions,
): Checked<BaselineResult> {
  return runBaseline(ix, tasks, {
    decide: (ix, t, need) => {
      const all = Array.from(eligibleRows(ix, t, { capacity: false, costModel: o.costModel }).rows);
      const avail = all.map((r) => replicasFit(ix, need, r));
      const rows = spreadSelect(ix, { rows: all, avail }, o.spread);
      if (!rows) return [];
      const w = rows.map((r) => (o.staticWeights ? (o.staticWeights[ix.ids[r]!] ?? 0) : 1));
      return divideByWeight(rows, { weights: w, replicas: t.replicas, tieOrder: shuffledRanks(rows.length, o.rng) });
    },
    costModel: o.costModel,
  });
}

/** Divided scheduling with dynamic weights by available replicas. Mutates the index's availability. */
export function karmadaDynamicWeight(
  ix: ClusterIndex,
  tasks: readonly Task[],
  o: KarmadaOptions,
): Checked<BaselineResult> {
  return runBaseline(ix, tasks, {
    decide: (ix, t, need): Part[] => {
      const all = Array.from(eligibleRows(ix, t, { capacity: false, costModel: o.costModel }).rows);
      const avail = all.map((r) => replicasFit(ix, need, r));
      const rows = spreadSelect(ix, { rows: all, avail }, o.spread);
      if (!rows) return [];
      const w = rows.map((r) => replicasFit(ix, need, r));
      if (w.reduce((a, b) => a + b, 0) < t.replicas) return [];
      // Ties by cluster name, as Karmada sorts its target clusters.
      const byName = rows.map((r) => r).sort((a, b) => (ix.ids[a]! < ix.ids[b]! ? -1 : 1));
      const rankOf = rows.map((r) => byName.indexOf(r));
      return divideByWeight(rows, { weights: w, replicas: t.replicas, tieOrder: rankOf });
    },
    costModel: o.costModel,
  });
}
