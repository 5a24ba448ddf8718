import type { Task } from './model.ts';
import type { Slice } from './slices.ts';
import { checkTask } from './validate.ts';

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
  /** Preempts only work below this priority (`PlaceOptions.preemptBelow`); default its task's priority. */
  preemptBelow?: number;
  /** Placed by `reserve` and not committed: it expires at `expiresAt` wherever it is moved. */
  reservation?: boolean;
  /** Virtual time (ms) it has been waiting since, while queued — for aging. */
  queuedSince?: number;
}

/** Resources counted against a quota. */
export interface Usage {
  cpuCores: number;
  memoryGib: number;
  cards: number;
}

/** The whole demand of a task (every replica). */
export function demandOf(task: Task): Usage {
  const r = task.replicas,
    d = task.demand;
  return { cpuCores: r * d.cpuCores, memoryGib: r * d.memoryGib, cards: r * (d.accelerator?.count ?? 0) };
}

/** The jobs a tenant's quota counts: any job the scheduler (or a node) holds — placed, reserved or queued. */
export interface CountedJob {
  readonly task: Task;
  readonly status: string;
  readonly slices: readonly Slice[];
  readonly unplaced: number;
}

/**
 * The one quota usage count: placed and reserved slices, the whole demand of queued jobs, and a split job's
 * replicas still waiting — so a queue that drains can never take a tenant over its quota.
 */
export function tenantUsage(jobs: Iterable<CountedJob>, tenant: string): Usage {
  const t: Usage = { cpuCores: 0, memoryGib: 0, cards: 0 };
  for (const j of jobs) {
    if (j.task.tenant !== tenant) continue;
    const d = j.task.demand;
    const waiting = j.status === 'queued' ? j.task.replicas : j.unplaced;
    const u = j.status === 'queued' ? { cpuCores: 0, memoryGib: 0, cards: 0 } : usageOf(j);
    t.cpuCores += u.cpuCores + waiting * d.cpuCores;
    t.memoryGib += u.memoryGib + waiting * d.memoryGib;
    t.cards += u.cards + waiting * (d.accelerator?.count ?? 0);
  }
  return t;
}

/** Per-tenant limits; absent fields are unlimited. */
export interface Quota {
  readonly cpuCores?: number;
  readonly memoryGib?: number;
  readonly cards?: number;
}

/** Resources a job holds. */
export function usageOf(job: { readonly slices: readonly Slice[] }): Usage {
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
export function quotaBreach(task: Task, used: Usage, q: Quota | undefined): string | null {
  if (!q) return null;
  if (!checkTask(task).ok) return `task ${String(task?.id)} is not valid, so its quota cannot be judged`;
  const want = demandOf(task);
  for (const k of ['cpuCores', 'memoryGib', 'cards'] as const) {
    const limit = q[k];
    if (limit !== undefined && used[k] + want[k] > limit) {
      return `tenant ${task.tenant} quota: ${k} ${used[k]} used + ${want[k]} requested > ${limit}`;
    }
  }
  return null;
}
