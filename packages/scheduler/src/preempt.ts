import type { TimeSource } from '@cpnet/kernel';
import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import type { HeldJob } from './jobs.ts';
import type { Task } from './model.ts';
import { replicasFit, type Need } from './need.ts';
import { measure } from './select.ts';
import { give, take } from './slices.ts';

/** A cluster where evicting `victims` makes room, and what the task would cost there. */
export interface PreemptionPlan {
  readonly row: number;
  readonly victims: readonly HeldJob[];
  /** The task's bill at that cluster, 元. */
  readonly costYuan: number;
  /** The bills of the evicted jobs, 元 (work disturbed). */
  readonly victimsYuan: number;
}

/**
 * The best preemption plan for a single-mode task, or null. Every hard constraint but free capacity is checked
 * first (the filter with capacity ignored), so a plan is only made where the task could run; on each such cluster
 * the lowest-priority, newest lower-priority running jobs are evicted until the task fits. Of all feasible plans
 * the one chosen disturbs the least important work (lowest top victim priority), then costs least in 元 (the
 * task's bill there plus the bills of the evicted jobs), then has fewest victims, then the first row.
 */
export function planPreemption(
  ix: ClusterIndex,
  args: {
    task: Task;
    /** Victims must have a priority below this; default the task's priority. */
    below?: number;
    need: Need;
    clock?: TimeSource;
    costModel?: CostModel;
    exclude?: Uint8Array;
    jobsOnRow: (row: number) => HeldJob[];
  },
): PreemptionPlan | null {
  const { need, task } = args;
  const eligible = measure(ix, task, {
    ignoreCapacity: true,
    excludeRows: args.exclude,
    clock: args.clock,
    costModel: args.costModel,
  });
  let best: (PreemptionPlan & { top: number }) | null = null;
  for (let p = 0; p < eligible.rows.length; p++) {
    const row = eligible.rows[p]!;
    const lower = args
      .jobsOnRow(row)
      .filter((j) => j.task.priority < (args.below ?? task.priority) && j.status === 'running')
      .sort((a, b) => a.task.priority - b.task.priority || b.seq - a.seq);
    if (lower.length === 0) continue;
    const victims: HeldJob[] = [];
    const freed = [];
    let fitsNow = replicasFit(ix, need, row) >= need.minReplicas;
    for (const v of lower) {
      if (fitsNow) break;
      for (const s of v.slices)
        if (s.row === row) {
          give(ix, s);
          freed.push(s);
        }
      victims.push(v);
      fitsNow = replicasFit(ix, need, row) >= need.minReplicas;
    }
    for (const s of freed) take(ix, s);
    if (!fitsNow || victims.length === 0) continue;
    const top = victims.reduce((m, v) => Math.max(m, v.task.priority), -Infinity);
    const victimsYuan = victims.reduce((n, v) => n + v.costYuan, 0);
    const plan = { row, victims, costYuan: eligible.costs[p]!, victimsYuan, top };
    if (best === null || better(plan, best)) best = plan;
  }
  return best;
}

function better(a: PreemptionPlan & { top: number }, b: PreemptionPlan & { top: number }): boolean {
  if (a.top !== b.top) return a.top < b.top;
  const ca = a.costYuan + a.victimsYuan,
    cb = b.costYuan + b.victimsYuan;
  if (ca !== cb) return ca < cb;
  if (a.victims.length !== b.victims.length) return a.victims.length < b.victims.length;
  return a.row < b.row;
}
