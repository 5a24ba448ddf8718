import {
  admitChecked,
  agedPriority,
  dominantShare,
  vectorOf,
  type Cluster,
  type FairVector,
  type HeldJob,
  type Task,
} from '@cpnet/scheduler';

/**
 * Fair admission at a node (the scheduler's `fair.ts`): when jobs submitted here wait for this node's own capacity,
 * they are admitted by weighted dominant-resource fairness among tenants, with aging priority and EASY backfill.
 * Only the order of the queue changes; placement then runs as before (it may still choose another subtree).
 */

/** The node's fairness settings (`scheduling.fairness`). */
export interface FairnessOptions {
  /** Tenant weights by tenant name as submitted here (or `account@node`); absent tenants weigh 1. */
  readonly weights: Readonly<Record<string, number>>;
  /** Priority points a waiting job gains per hour it waits (node time). */
  readonly agingPerHour: number;
  /** Short jobs (declared `durationHours`) may run ahead when they do not delay the head. */
  readonly backfill: boolean;
}

/** A job waiting here for admission. */
export interface WaitingHere {
  readonly id: string;
  readonly task: Task;
  /** Since when it waits (node ms). */
  readonly since: number;
}

/** One admission round's answer: ids to place now (in order), and why each other one waits. */
export interface Round {
  readonly admit: readonly string[];
  readonly why: ReadonlyMap<string, string>;
  /** The head of the queue (the first that does not fit the free capacity), or null. */
  readonly head: string | null;
  /** The free capacity the round saw (a key: a job is retried again when it changes). */
  readonly freeKey: string;
}

const HOUR = 3_600_000;
const ZERO: FairVector = { cpuCores: 0, memoryGib: 0, cards: 0 };
const add = (a: FairVector, b: FairVector): FairVector => ({
  cpuCores: a.cpuCores + b.cpuCores,
  memoryGib: a.memoryGib + b.memoryGib,
  cards: a.cards + b.cards,
});

/** The contended capacity: this node's clusters that can take work (active, not down). */
export function capacityOf(clusters: readonly Cluster[]): FairVector {
  let c = ZERO;
  for (const x of clusters) {
    if (x.lifecycle !== 'active' || x.health === 'down') continue;
    c = add(c, {
      cpuCores: x.capacity.cpuCores,
      memoryGib: x.capacity.memoryGib,
      cards: x.capacity.accelerators.reduce((s, a) => s + a.count, 0),
    });
  }
  return c;
}

/** What a held job takes of this node's capacity (its slices' replicas) and when it ends (its declared duration). */
export const runningOf = (h: HeldJob): { task: Task; end: number } => ({
  task: { ...h.task, replicas: h.slices.reduce((s, x) => s + x.replicas, 0) },
  end: h.placedAt + h.task.durationHours * HOUR,
});

const pct = (x: number): string => `${Math.round(x * 100)} %`;
const bare = (tenant: string): string => tenant.split('@')[0] ?? tenant;

/**
 * One round at `now`: the waiting jobs that fit this node's capacity at all take part (a bigger one is left to the
 * hierarchy, as before). Tenant keys are `account@node`; a weight is looked up by the full key, then the bare name.
 */
export function admissionRound(o: {
  readonly capacity: FairVector;
  readonly waiting: readonly WaitingHere[];
  readonly running: readonly { task: Task; end: number }[];
  readonly now: number;
  readonly fairness: FairnessOptions;
}): Round {
  const { capacity, fairness, now } = o;
  const weightOf = (t: string): number => fairness.weights[t] ?? fairness.weights[bare(t)] ?? 1;
  const tenants = new Set([...o.waiting, ...o.running].map((j) => j.task.tenant));
  const weights = Object.fromEntries([...tenants].map((t) => [t, weightOf(t)]));
  const a = admitChecked(
    { waiting: o.waiting.map((w) => ({ task: w.task, since: w.since })), running: o.running, now },
    { capacity, weights, agingPerHour: fairness.agingPerHour, backfill: fairness.backfill },
  );
  let used = ZERO;
  const held = new Map<string, FairVector>();
  for (const r of o.running) {
    const v = vectorOf(r.task);
    used = add(used, v);
    held.set(r.task.tenant, add(held.get(r.task.tenant) ?? ZERO, v));
  }
  const freeKey = [capacity.cpuCores - used.cpuCores, capacity.memoryGib - used.memoryGib, capacity.cards - used.cards]
    .map((x) => Math.round(x * 1000) / 1000)
    .join('/');
  const shares = [...tenants]
    .map((t) => ({ t, s: dominantShare(held.get(t) ?? ZERO, capacity), w: weightOf(t) }))
    .sort((x, y) => x.s / x.w - y.s / y.w || (x.t < y.t ? -1 : 1));
  const table = shares.map((x) => `${bare(x.t)} ${pct(x.s)} at weight ${x.w}`).join(', ');
  const admitted = new Set(a.admitted);
  const why = new Map<string, string>();
  for (const w of o.waiting) {
    if (admitted.has(w.id)) continue;
    const mine = shares.find((x) => x.t === w.task.tenant)!;
    const aged = Math.round(agedPriority({ task: w.task, since: w.since }, now, fairness.agingPerHour) * 10) / 10;
    const head = a.reservation?.taskId === w.id;
    const start =
      head && Number.isFinite(a.reservation!.at)
        ? `, due to start by ${new Date(a.reservation!.at).toISOString()}`
        : '';
    why.set(
      w.id,
      head
        ? `fair admission: next in line (priority ${aged} with aging), waiting for capacity to free here${start}; ` +
            `shares of this node's capacity: ${table}`
        : `fair admission: tenant ${bare(w.task.tenant)} holds ${pct(mine.s)} of this node's capacity at weight ` +
            `${mine.w} (share ÷ weight ${Math.round((mine.s / mine.w) * 100) / 100}); tenants with a smaller share ` +
            `per weight, and higher aged priority within a tenant, go first (this job: priority ${aged}); ` +
            `shares: ${table}`,
    );
  }
  return { admit: a.admitted, why, freeKey, head: a.reservation?.taskId ?? null };
}
