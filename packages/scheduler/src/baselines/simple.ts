/**
 * Two reference points: the cheapest feasible cluster now (greedy on the cost model's bill, data transfer included,
 * no failure risk or shadow prices), and a uniformly random feasible cluster (seeded). Each task whole on one cluster.
 */
import type { ClusterIndex } from '../cluster-index.ts';
import type { Task } from '../model.ts';
import { eligibleRows, runBaseline, type BaselineOptions, type BaselineResult } from './common.ts';
import type { Checked } from '../validate.ts';

/** Cheapest feasible cluster per task, in arrival order. Mutates the index's availability. */
export function cheapestFeasible(
  ix: ClusterIndex,
  tasks: readonly Task[],
  o: BaselineOptions,
): Checked<BaselineResult> {
  return runBaseline(ix, tasks, {
    decide: (ix, t) => {
      const { rows, costs } = eligibleRows(ix, { ...t, mode: 'single' }, { capacity: true, costModel: o.costModel });
      let best = -1;
      for (let p = 0; p < rows.length; p++) if (best < 0 || costs[p]! < costs[best]!) best = p;
      return best < 0 ? [] : [{ row: rows[best]!, replicas: t.replicas }];
    },
    costModel: o.costModel,
  });
}

/** A uniformly random feasible cluster per task (seeded). Mutates the index's availability. */
export function randomFeasible(ix: ClusterIndex, tasks: readonly Task[], o: BaselineOptions): Checked<BaselineResult> {
  return runBaseline(ix, tasks, {
    decide: (ix, t) => {
      const { rows } = eligibleRows(ix, { ...t, mode: 'single' }, { capacity: true, costModel: o.costModel });
      return rows.length === 0 ? [] : [{ row: rows[o.rng.int(rows.length)]!, replicas: t.replicas }];
    },
    costModel: o.costModel,
  });
}
