import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import type { Objective, Task, CriterionWeights } from './model.ts';
import { resolveNeed } from './need.ts';
import { select } from './select.ts';
import { sliceAt, take } from './slices.ts';

/** Result of placing tasks one at a time. */
export interface OnlineResult {
  readonly rows: Int32Array;
  readonly costYuan: number;
  readonly rejected: number;
}

/** Places tasks one at a time in arrival order, each on its best cluster now (mutates the index's availability). */
export function placeOnline(
  ix: ClusterIndex,
  tasks: readonly Task[],
  options: { objective?: Objective | CriterionWeights; costModel?: CostModel } = {},
): OnlineResult {
  const rows = new Int32Array(tasks.length).fill(-1);
  let cost = 0,
    rejected = 0;
  tasks.forEach((t0, i) => {
    const t: Task = { ...t0, mode: 'single', objective: options.objective ?? t0.objective };
    const c = select(ix, t, { k: 1, explain: 'codes', costModel: options.costModel }).candidates[0];
    if (!c) {
      rejected++;
      return;
    }
    take(ix, sliceAt(ix, resolveNeed(ix, t), { row: c.row, replicas: t.replicas }));
    rows[i] = c.row;
    cost += c.costYuan;
  });
  return { rows, costYuan: cost, rejected };
}
