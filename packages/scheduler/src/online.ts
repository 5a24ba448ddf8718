import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import type { Objective, Task, CriterionWeights } from './model.ts';
import { modelAt, resolveNeed } from './need.ts';
import { checkPrices, placeBatch, type CapacityPrices } from './batch.ts';
import { ok } from '@cpnet/kernel';
import { DEFAULT_REGISTRY } from './policy.ts';
import { measure, selectChecked } from './select.ts';
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
  options: {
    objective?: Objective | CriterionWeights;
    costModel?: CostModel;
    method?: string;
    /**
     * Learned capacity prices (a past batch's `prices`): each task goes where its bill + the price of the capacity it
     * takes is least, instead of where its score is least now. The objective and method are then not used.
     */
    prices?: CapacityPrices;
    /**
     * Rolling batch: arrivals are placed `window` at a time by the batch optimiser on what is free then (with the
     * learned `prices` charged on top, when given) — a queue of a few seconds of arrivals instead of one at a time.
     */
    window?: number;
  } = {},
): Checked<OnlineResult> {
  const over = options.objective === undefined ? [] : [{ ...tasks[0]!, objective: options.objective }];
  const checked = checkTasks(tasks.length > 0 ? [...tasks, ...over] : tasks);
  if (!checked.ok) return checked;
  const method = options.method ?? 'expected-cost';
  if (!DEFAULT_REGISTRY.policies.has(method)) return inputError('options.method', `unknown policy ${method}`);
  const rows = new Int32Array(tasks.length).fill(-1);
  let cost = 0,
    rejected = 0;
  if (options.prices) {
    const pe = checkPrices(ix, options.prices);
    if (pe) return pe;
  }
  const w = options.window;
  if (w !== undefined) {
    if (!(Number.isInteger(w) && w >= 1)) return inputError('options.window', `must be a whole number ≥ 1, got ${w}`);
    for (let from = 0; from < tasks.length; from += w) {
      const chunk = tasks.slice(from, from + w).map((t) => ({ ...t, mode: 'single' as const }));
      const prices = options.prices;
      const b = placeBatch(ix, chunk, { costModel: options.costModel, prices, iterations: 60 });
      if (!b.ok) return b;
      b.value.rows.forEach((row, k) => {
        if (row < 0) {
          rejected++;
          return;
        }
        take(ix, sliceAt(ix, resolveNeed(ix, chunk[k]!), { row, replicas: chunk[k]!.replicas }));
        rows[from + k] = row;
      });
      cost += b.value.costYuan;
    }
    return ok({ rows, costYuan: cost, rejected });
  }
  if (options.prices) {
    const pr = options.prices;
    const K = pr.dims;
    const modelCol = ix.models.map((m) => pr.models.indexOf(m));
    tasks.forEach((t0, i) => {
      const t: Task = { ...t0, mode: 'single' };
      const need = resolveNeed(ix, t);
      const m = measure(ix, t, { costModel: options.costModel });
      let best = -1,
        bestV = Infinity;
      for (let p = 0; p < m.rows.length; p++) {
        const row = m.rows[p]!,
          base = row < pr.perUnit.length / K ? row * K : -1;
        let v = m.costs[p]!;
        if (base >= 0) {
          const n = t.replicas;
          v +=
            n *
            (need.cpu * pr.perUnit[base]! +
              need.mem * pr.perUnit[base + 1]! +
              need.sto * pr.perUnit[base + 2]! +
              need.bw * pr.perUnit[base + 3]!);
          const mm = modelAt(ix, need, row);
          const col = mm >= 0 ? modelCol[mm]! : -1;
          if (col >= 0) v += n * need.cards * pr.perUnit[base + 4 + col]!;
        }
        if (v < bestV) {
          bestV = v;
          best = p;
        }
      }
      if (best < 0) {
        rejected++;
        return;
      }
      take(ix, sliceAt(ix, need, { row: m.rows[best]!, replicas: t.replicas }));
      rows[i] = m.rows[best]!;
      cost += m.costs[best]!;
    });
    return ok({ rows, costYuan: cost, rejected });
  }
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
