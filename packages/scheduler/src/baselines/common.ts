import { ok, type Rng } from '@cpnet/kernel';
import type { ClusterIndex } from '../cluster-index.ts';
import type { CostModel } from '../cost.ts';
import type { Task } from '../model.ts';
import { replicasFit, resolveNeed, type Need } from '../need.ts';
import { measure } from '../select.ts';
import { sliceAt, take } from '../slices.ts';
import { checkTransferTable } from '../transfer.ts';
import { checkTasks, type Checked } from '../validate.ts';

/** Replicas of a task on one cluster row. */
export interface Part {
  readonly row: number;
  readonly replicas: number;
}

/**
 * What a baseline did with each task, in arrival order: its parts (empty = rejected). A task counts as placed only
 * when every replica is placed; replicas a baseline sent to a cluster without room are left out of `parts` (they
 * would sit Pending there) and the task counts as rejected.
 */
export interface BaselineResult {
  readonly parts: readonly (readonly Part[])[];
  readonly rejected: number;
}

/** Options every baseline takes: the seeded randomness (ties, races) and the cost model (greedy). */
export interface BaselineOptions {
  readonly rng: Rng;
  readonly costModel?: CostModel;
}

/** A decision for one task: the parts it asks for (the caller keeps those that fit). */
export type Decide = (ix: ClusterIndex, task: Task, need: Need) => readonly Part[];

/** Runs a per-task decision in arrival order, taking capacity for what fits. Mutates the index's availability. */
export function runBaseline(
  ix: ClusterIndex,
  tasks: readonly Task[],
  o: { readonly decide: Decide; readonly costModel?: CostModel },
): Checked<BaselineResult> {
  const { decide, costModel } = o;
  const c = checkTasks(tasks);
  if (!c.ok) return c;
  if (costModel?.transfer) {
    const e = checkTransferTable(costModel.transfer);
    if (e) return e;
  }
  let rejected = 0;
  const parts = tasks.map((t) => {
    const need = resolveNeed(ix, t);
    const asked = decide(ix, t, need);
    const kept: Part[] = [];
    let placed = 0;
    for (const p of asked) {
      if (p.replicas <= 0) continue;
      const n = Math.min(p.replicas, replicasFit(ix, need, p.row));
      if (n <= 0) continue;
      take(ix, sliceAt(ix, need, { row: p.row, replicas: n }));
      kept.push({ row: p.row, replicas: n });
      placed += n;
    }
    if (placed < t.replicas) rejected++;
    return kept;
  });
  return ok({ parts, rejected });
}

/** Rows passing every hard constraint; with `capacity`, only rows where at least `minReplicas` fit now. */
export function eligibleRows(
  ix: ClusterIndex,
  task: Task,
  o: { capacity: boolean; costModel?: CostModel },
): { rows: Int32Array; costs: Float64Array } {
  const m = measure(ix, task, { costModel: o.costModel, ignoreCapacity: !o.capacity });
  return { rows: m.rows, costs: m.costs };
}

/**
 * Divides `replicas` by weights as Karmada's dispenser does: each row gets ⌊w × replicas / Σw⌋, the remainder goes one
 * by one to rows in order of weight (descending), ties in `tieOrder`.
 */
export function divideByWeight(
  rows: readonly number[],
  o: { readonly weights: readonly number[]; readonly replicas: number; readonly tieOrder: readonly number[] },
): Part[] {
  const { weights, replicas, tieOrder } = o;
  const sum = weights.reduce((a, b) => a + b, 0);
  if (rows.length === 0 || sum <= 0) return [];
  const got = weights.map((w) => Math.floor((w * replicas) / sum));
  let left = replicas - got.reduce((a, b) => a + b, 0);
  const order = rows.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || tieOrder[a]! - tieOrder[b]!);
  for (let k = 0; left > 0 && k < order.length; k++, left--) got[order[k]!]!++;
  return rows.map((row, i) => ({ row, replicas: got[i]! })).filter((p) => p.replicas > 0);
}

/** A random permutation rank per position (Fisher–Yates), for seeded tie-breaking. */
export function shuffledRanks(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
