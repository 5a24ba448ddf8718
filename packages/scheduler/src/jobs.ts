import type { Task } from './model.ts';
import type { Slice } from './slices.ts';

/** Where a job is in its life inside the scheduler. */
export type JobStatus = 'reserved' | 'running' | 'queued';

/** A job the scheduler holds. */
export interface HeldJob {
  readonly id: string;
  readonly task: Task;
  status: JobStatus;
  slices: Slice[];
  /** Replicas split mode could not place. */
  unplaced: number;
  /** Row of the first placement — the cluster failback returns to. */
  preferredRow: number;
  placedAt: number;
  lastMovedAt: number;
  /** Order of arrival in the queue, for FIFO within a priority. */
  seq: number;
  expiresAt: number;
  costYuan: number;
  /** Clusters the caller ruled out for this job (a gateway that refused it). */
  excluded?: ReadonlySet<string>;
}

/** Per-tenant limits; absent fields are unlimited. */
export interface Quota {
  readonly cpuCores?: number;
  readonly memoryGib?: number;
  readonly cards?: number;
}

/** Resources a job holds. */
export function usageOf(job: HeldJob): { cpuCores: number; memoryGib: number; cards: number } {
  let cpuCores = 0,
    memoryGib = 0,
    cards = 0;
  for (const s of job.slices) {
    cpuCores += s.replicas * s.cpuCores;
    memoryGib += s.replicas * s.memoryGib;
    cards += s.replicas * s.cards;
  }
  return { cpuCores, memoryGib, cards };
}

/** Why a task would break its tenant's quota, or null. */
export function quotaBreach(
  task: Task,
  used: { cpuCores: number; memoryGib: number; cards: number },
  q: Quota | undefined,
): string | null {
  if (!q) return null;
  const r = task.replicas,
    d = task.demand;
  const want = { cpuCores: r * d.cpuCores, memoryGib: r * d.memoryGib, cards: r * (d.accelerator?.count ?? 0) };
  for (const k of ['cpuCores', 'memoryGib', 'cards'] as const) {
    const limit = q[k];
    if (limit !== undefined && used[k] + want[k] > limit) {
      return `tenant ${task.tenant} quota: ${k} ${used[k]} used + ${want[k]} requested > ${limit}`;
    }
  }
  return null;
}
