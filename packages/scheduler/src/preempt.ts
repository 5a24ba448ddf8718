import type { ClusterIndex } from './cluster-index.ts';
import { R } from './exclusion.ts';
import type { HeldJob } from './jobs.ts';
import { replicasFit, type Need } from './need.ts';
import { give, take } from './slices.ts';

/** A cluster where evicting `victims` would make room. */
export interface PreemptionPlan {
  readonly row: number;
  readonly victims: readonly HeldJob[];
}

const CAPACITY_CODES = new Set<number>([R.cpu, R.memory, R.cards, R.storage, R.bandwidth]);

/**
 * Plans preemption for a task of `priority`: on each cluster excluded only for capacity, evict the
 * lowest-priority (then newest) lower-priority jobs until the task fits. Plans are ordered by the highest
 * victim priority, then the number of victims, so the least important and least work is disturbed.
 */
export function planPreemption(
  ix: ClusterIndex,
  args: { need: Need; priority: number; codes: Uint8Array; jobsOnRow: (row: number) => HeldJob[] },
): PreemptionPlan[] {
  const plans: { row: number; victims: HeldJob[]; top: number }[] = [];
  for (let row = 0; row < args.codes.length; row++) {
    if (!CAPACITY_CODES.has(args.codes[row]!)) continue;
    const lower = args
      .jobsOnRow(row)
      .filter((j) => j.task.priority < args.priority && j.status === 'running')
      .sort((a, b) => a.task.priority - b.task.priority || b.seq - a.seq);
    if (lower.length === 0) continue;
    const victims: HeldJob[] = [];
    const freed = [];
    for (const v of lower) {
      for (const s of v.slices)
        if (s.row === row) {
          give(ix, s);
          freed.push(s);
        }
      victims.push(v);
      if (replicasFit(ix, args.need, row) >= args.need.minReplicas) break;
    }
    const ok = replicasFit(ix, args.need, row) >= args.need.minReplicas;
    for (const s of freed) take(ix, s);
    if (ok) plans.push({ row, victims, top: Math.max(...victims.map((v) => v.task.priority)) });
  }
  plans.sort((a, b) => a.top - b.top || a.victims.length - b.victims.length || a.row - b.row);
  return plans;
}
