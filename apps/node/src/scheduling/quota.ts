import type { Quota, TaskTemplate } from '@cpnet/scheduler';

/** Why a task would break its tenant's quota at the submitting node (all its unfinished jobs, wherever placed), or null. */
export function quotaBreach(task: TaskTemplate, used: { cpuCores: number; memoryGib: number; cards: number }, q: Quota | undefined): string | null {
  if (!q) return null;
  const r = task.replicas, d = task.demand;
  const want = { cpuCores: r * d.cpuCores, memoryGib: r * d.memoryGib, cards: r * (d.accelerator?.count ?? 0) };
  for (const k of ['cpuCores', 'memoryGib', 'cards'] as const) {
    const limit = q[k];
    if (limit !== undefined && used[k] + want[k] > limit) return `tenant ${task.tenant} quota: ${k} ${used[k]} used + ${want[k]} requested > ${limit}`;
  }
  return null;
}
