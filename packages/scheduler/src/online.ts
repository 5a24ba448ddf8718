import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import type { Objective, Task, CriterionWeights } from './model.ts';
import { resolveNeed } from './need.ts';
import { ok } from '@cpnet/kernel';
import { DEFAULT_REGISTRY } from './policy.ts';
import { selectChecked } from './select.ts';
import { checkTasks, inputError, type Checked } from './validate.ts';
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
  options: { objective?: Objective | CriterionWeights; costModel?: CostModel; method?: string } = {},
): Checked<OnlineResult> {
  const over = options.objective === undefined ? [] : [{ ...tasks[0]!, objective: options.objective }];
  const checked = checkTasks(tasks.length > 0 ? [...tasks, ...over] : tasks);
  if (!checked.ok) return checked;
  const method = options.method ?? 'expected-cost';
  if (!DEFAULT_REGISTRY.policies.has(method)) return inputError('options.method', `unknown policy ${method}`);
  const rows = new Int32Array(tasks.length).fill(-1);
  let cost = 0,
    rejected = 0;
  tasks.forEach((t0, i) => {
    const t: Task = { ...t0, mode: 'single', objective: options.objective ?? t0.objective };
    const c = selectChecked(ix, t, {
      k: 1,
      explain: 'codes',
      costModel: options.costModel,
      method,
      registry: DEFAULT_REGISTRY,
    }).candidates[0];
    if (!c) {
      rejected++;
      return;
    }
    take(ix, sliceAt(ix, resolveNeed(ix, t), { row: c.row, replicas: t.replicas }));
    rows[i] = c.row;
    cost += c.costYuan;
  });
  return ok({ rows, costYuan: cost, rejected });
}
