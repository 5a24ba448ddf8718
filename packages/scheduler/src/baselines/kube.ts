/**
 * kube-scheduler's default scoring, re-created from its documentation and source (kubernetes/kubernetes:
 * pkg/scheduler/framework/plugins/noderesources `least_allocated.go`, `balanced_allocation.go`, `selectHost`), each
 * cluster taken as one node. Read, not copied. What it follows:
 *
 * - Filter `NodeResourcesFit`: the request fits the free resources (and our hard constraints stand in for node
 *   affinity / taints).
 * - Score `NodeResourcesFit` with the default `LeastAllocated` strategy over cpu and memory (weight 1 each):
 *   Σ w × (allocatable − requested) × 100 / allocatable / Σ w, requested including this pod.
 * - Score `NodeResourcesBalancedAllocation` over cpu and memory: (1 − standard deviation of the requested fractions)
 *   × 100.
 * - Plugin weights 1 and 1; the highest total wins, ties uniformly at random (reservoir sampling in `selectHost`).
 *   Prices, carbon and latency are not looked at.
 */
import type { ClusterIndex } from '../cluster-index.ts';
import type { Task } from '../model.ts';
import { eligibleRows, runBaseline, type BaselineOptions, type BaselineResult } from './common.ts';
import type { Checked } from '../validate.ts';

/** The default profile's score of one row for a pod of `cpu` cores and `mem` GiB. */
export function kubeDefaultScore(ix: ClusterIndex, row: number, pod: { cpu: number; mem: number }): number {
  const { cpu, mem } = pod;
  const cpuCap = ix.cpuCap[row]!,
    memCap = ix.memCap[row]!;
  const cpuReq = cpuCap - ix.cpuAvail[row]! + cpu,
    memReq = memCap - ix.memAvail[row]! + mem;
  const least = cpuCap > 0 && memCap > 0 ? (((cpuCap - cpuReq) / cpuCap + (memCap - memReq) / memCap) * 100) / 2 : 0;
  const fc = Math.min(1, cpuReq / cpuCap),
    fm = Math.min(1, memReq / memCap);
  const mean = (fc + fm) / 2;
  const sd = Math.sqrt(((fc - mean) ** 2 + (fm - mean) ** 2) / 2);
  const balanced = (1 - sd) * 100;
  return Math.floor(least) + Math.floor(balanced);
}

/** kube-scheduler's default scoring, every task whole on one cluster. Mutates the index's availability. */
export function kubeDefault(ix: ClusterIndex, tasks: readonly Task[], o: BaselineOptions): Checked<BaselineResult> {
  return runBaseline(ix, tasks, {
    decide: (ix, t, need) => {
      const { rows } = eligibleRows(ix, { ...t, mode: 'single' }, { capacity: true, costModel: o.costModel });
      let best = -1,
        bestS = -Infinity,
        ties = 0;
      for (const r of rows) {
        const s = kubeDefaultScore(ix, r, { cpu: need.cpu * t.replicas, mem: need.mem * t.replicas });
        if (s > bestS) {
          bestS = s;
          best = r;
          ties = 1;
        } else if (s === bestS && o.rng.int(++ties) === 0) best = r;
      }
      return best < 0 ? [] : [{ row: best, replicas: t.replicas }];
    },
    costModel: o.costModel,
  });
}
