import { ok } from '@cpnet/kernel';
import type { Task } from './model.ts';
import { checkTask, inputError, type Checked, type InputError } from './validate.ts';

/**
 * Fair sharing without starvation, for admission to contended capacity (as Kueue admits against quota, before
 * placement): tenants with weights share it by weighted dominant-resource fairness (DRF, Ghodsi et al. 2011; Kueue's
 * fair sharing is the reference — cohorts with borrowing are not done), a waiting job's priority ages, and EASY
 * backfill lets short jobs with a declared duration run ahead when they do not delay the head of the queue.
 * Pure: time (virtual ms) is a parameter.
 */

/** The three resources DRF weighs. */
export interface FairVector {
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly cards: number;
}

/** Options of fair admission. */
export interface FairOptions {
  /** The contended capacity (the pool's quota). */
  readonly capacity: FairVector;
  /** Tenant weights, > 0 (absent tenants weigh 1). */
  readonly weights?: Readonly<Record<string, number>>;
  /** Priority points a waiting job gains per hour it waits (default 2). */
  readonly agingPerHour?: number;
  /** Let short jobs (declared `durationHours`) run ahead without delaying the head (default true). */
  readonly backfill?: boolean;
}

/** A job waiting for admission since `since` (virtual ms). */
export interface WaitingJob {
  readonly task: Task;
  readonly since: number;
}

/** A job admitted at `start` that ends at `end` (virtual ms; start + its declared duration). */
export interface RunningJob {
  readonly task: Task;
  readonly end: number;
}

/** The queue at one moment: waiting and running jobs, and the time (virtual ms). */
export interface QueueState {
  readonly waiting: readonly WaitingJob[];
  readonly running: readonly RunningJob[];
  readonly now: number;
}

/** One admission round. */
export interface Admission {
  /** Ids admitted now, in order. */
  readonly admitted: readonly string[];
  /** Which of them were backfilled past a blocked head. */
  readonly backfilled: readonly string[];
  /** The head that does not fit yet and the time (virtual ms) by which it will, from the running jobs' ends. */
  readonly reservation: { readonly taskId: string; readonly at: number } | null;
}

const HOUR = 3_600_000;
export const vectorOf = (t: Task): FairVector => ({
  cpuCores: t.demand.cpuCores * t.replicas,
  memoryGib: t.demand.memoryGib * t.replicas,
  cards: (t.demand.accelerator?.count ?? 0) * t.replicas,
});
const KEYS = ['cpuCores', 'memoryGib', 'cards'] as const;
const fitsIn = (v: FairVector, free: FairVector): boolean =>
  v.cpuCores <= free.cpuCores + 1e-9 && v.memoryGib <= free.memoryGib + 1e-9 && v.cards <= free.cards + 1e-9;
const minus = (a: FairVector, b: FairVector): FairVector => ({
  cpuCores: a.cpuCores - b.cpuCores,
  memoryGib: a.memoryGib - b.memoryGib,
  cards: a.cards - b.cards,
});
const plus = (a: FairVector, b: FairVector): FairVector => minus(a, minus({ cpuCores: 0, memoryGib: 0, cards: 0 }, b));

/** A vector's dominant share of the capacity. */
export function dominantShare(v: FairVector, capacity: FairVector): number {
  let s = 0;
  for (const k of KEYS) if (capacity[k] > 0) s = Math.max(s, v[k] / capacity[k]);
  return s;
}

/** Checks fair-admission options, naming the field. */
export function checkFairOptions(o: FairOptions, at = 'options'): { ok: false; error: InputError } | null {
  if (typeof o !== 'object' || o === null) return inputError(at, 'must be an object');
  for (const k of KEYS) {
    const x = o.capacity?.[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      return inputError(`${at}.capacity.${k}`, `must be a finite number ≥ 0, got ${String(x)}`);
  }
  for (const [t, w] of Object.entries(o.weights ?? {}))
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0)
      return inputError(`${at}.weights.${t}`, `must be a finite number > 0, got ${String(w)}`);
  const a = o.agingPerHour;
  if (a !== undefined && !(typeof a === 'number' && Number.isFinite(a) && a >= 0))
    return inputError(`${at}.agingPerHour`, `must be a finite number ≥ 0, got ${String(a)}`);
  return null;
}

/** A job's priority after waiting until `now`: priority + agingPerHour × hours waited. */
export const agedPriority = (j: WaitingJob, now: number, agingPerHour: number): number =>
  j.task.priority + (agingPerHour * Math.max(0, now - j.since)) / HOUR;

/**
 * One admission round at `now`: repeatedly the tenant with the least weighted dominant share (of running plus just
 * admitted work) offers its job of highest aged priority (then earliest, then id); it is admitted when it fits the
 * free capacity. The first that does not fit becomes the head with a reservation at the earliest time enough running
 * work will have ended; with backfill, later jobs (same order) that fit now are admitted when they end by then or
 * fit in what the head leaves over at that time.
 */
export function admit(state: QueueState, options: FairOptions): Checked<Admission> {
  const { waiting } = state;
  const oe = checkFairOptions(options);
  if (oe) return oe;
  for (const [i, j] of waiting.entries()) {
    const c = checkTask(j.task, `waiting[${i}].task`);
    if (!c.ok) return c;
    if (!Number.isFinite(j.since)) return inputError(`waiting[${i}].since`, `must be a finite time, got ${j.since}`);
  }
  return ok(admitChecked(state, options));
}

/** `admit` on checked input (the simulator's inner calls). */
export function admitChecked(state: QueueState, o: FairOptions): Admission {
  const { waiting, running, now } = state;
  const cap = o.capacity,
    aging = o.agingPerHour ?? 2;
  const w = (t: string): number => o.weights?.[t] ?? 1;
  let free = cap;
  const used = new Map<string, FairVector>();
  for (const r of running) {
    const v = vectorOf(r.task);
    free = minus(free, v);
    used.set(r.task.tenant, plus(used.get(r.task.tenant) ?? { cpuCores: 0, memoryGib: 0, cards: 0 }, v));
  }
  const share = (t: string): number =>
    dominantShare(used.get(t) ?? { cpuCores: 0, memoryGib: 0, cards: 0 }, cap) / w(t);
  const byTenant = new Map<string, WaitingJob[]>();
  for (const j of waiting) (byTenant.get(j.task.tenant) ?? byTenant.set(j.task.tenant, []).get(j.task.tenant)!).push(j);
  const jobOrder = (a: WaitingJob, b: WaitingJob): number =>
    agedPriority(b, now, aging) - agedPriority(a, now, aging) ||
    a.since - b.since ||
    (a.task.id < b.task.id ? -1 : a.task.id > b.task.id ? 1 : 0);
  for (const list of byTenant.values()) list.sort(jobOrder);
  const admitted: string[] = [],
    backfilled: string[] = [];
  let head: WaitingJob | null = null;
  for (;;) {
    let best: string | null = null;
    for (const t of byTenant.keys())
      if (
        byTenant.get(t)!.length > 0 &&
        (best === null || share(t) < share(best) || (share(t) === share(best) && t < best))
      )
        best = t;
    if (best === null) break;
    const j = byTenant.get(best)![0]!;
    const v = vectorOf(j.task);
    if (!fitsIn(v, free)) {
      head = j;
      byTenant.get(best)!.shift();
      break;
    }
    byTenant.get(best)!.shift();
    free = minus(free, v);
    used.set(best, plus(used.get(best) ?? { cpuCores: 0, memoryGib: 0, cards: 0 }, v));
    admitted.push(j.task.id);
  }
  if (head === null) return { admitted, backfilled, reservation: null };
  // The head's reservation: running work ends in order until the head fits.
  const hv = vectorOf(head.task);
  const ends = running.map((r) => ({ end: r.end, v: vectorOf(r.task) })).sort((a, b) => a.end - b.end);
  let at = Infinity,
    then = free;
  for (const e of ends) {
    then = plus(then, e.v);
    if (fitsIn(hv, then)) {
      at = Math.max(now, e.end);
      break;
    }
  }
  if (!fitsIn(hv, cap)) at = Infinity;
  const reservation = { taskId: head.task.id, at };
  if (o.backfill === false || at === Infinity) return { admitted, backfilled, reservation };
  let extra = minus(then, hv);
  const rest = [...byTenant.values()].flat().sort(jobOrder);
  for (const j of rest) {
    const v = vectorOf(j.task);
    if (!fitsIn(v, free)) continue;
    const endsBy = now + j.task.durationHours * HOUR <= at;
    if (!endsBy && !fitsIn(v, extra)) continue;
    free = minus(free, v);
    if (!endsBy) extra = minus(extra, v);
    admitted.push(j.task.id);
    backfilled.push(j.task.id);
  }
  return { admitted, backfilled, reservation };
}

/**
 * Weighted DRF entitlements by progressive filling: every tenant with unmet demand raises its dominant share in
 * proportion to its weight until a resource it uses is full; `perJob` is a tenant's job shape, `demand` how many
 * jobs it wants (Infinity = backlog). Answers each tenant's dominant share (fraction of the capacity).
 */
export function drfEntitlements(
  capacity: FairVector,
  tenants: readonly {
    readonly tenant: string;
    readonly weight: number;
    readonly perJob: FairVector;
    readonly demand: number;
  }[],
): Map<string, number> {
  const out = new Map<string, number>(tenants.map((t) => [t.tenant, 0]));
  const active = new Set(
    tenants.filter((t) => t.demand > 0 && dominantShare(t.perJob, capacity) > 0).map((t) => t.tenant),
  );
  const left: Record<(typeof KEYS)[number], number> = { ...capacity };
  for (let guard = 0; active.size > 0 && guard < 100; guard++) {
    // Per unit of x, each active tenant takes weight × perJob / dominant-share-per-job of each resource.
    const rate: Record<(typeof KEYS)[number], number> = { cpuCores: 0, memoryGib: 0, cards: 0 };
    const per = (t: (typeof tenants)[number]): number => t.weight / dominantShare(t.perJob, capacity);
    for (const t of tenants) if (active.has(t.tenant)) for (const k of KEYS) rate[k] += per(t) * t.perJob[k];
    let dx = Infinity,
      full: (typeof KEYS)[number] | null = null;
    for (const k of KEYS)
      if (rate[k] > 0 && left[k] / rate[k] < dx) {
        dx = left[k] / rate[k];
        full = k;
      }
    // A tenant whose demand is met first stops there.
    let capped: string | null = null;
    for (const t of tenants) {
      if (!active.has(t.tenant)) continue;
      const room = (t.demand * dominantShare(t.perJob, capacity) - out.get(t.tenant)!) / t.weight;
      if (room < dx) {
        dx = room;
        capped = t.tenant;
        full = null;
      }
    }
    for (const t of tenants) {
      if (!active.has(t.tenant)) continue;
      out.set(t.tenant, out.get(t.tenant)! + t.weight * dx);
      for (const k of KEYS) left[k] -= per(t) * t.perJob[k] * dx;
    }
    if (capped !== null) active.delete(capped);
    if (full !== null) for (const t of tenants) if (active.has(t.tenant) && t.perJob[full] > 0) active.delete(t.tenant);
  }
  return out;
}

/** One arrival of a simulated queue. */
export interface Arrival {
  readonly task: Task;
  readonly at: number;
}

/** What a simulated queue did: each job's start (virtual ms; absent = never started) and time-averaged shares. */
export interface QueueRun {
  readonly startOf: ReadonlyMap<string, number>;
  /** Per tenant: time-averaged dominant share of the capacity over [from, until]. */
  readonly meanShare: ReadonlyMap<string, number>;
}

/**
 * Runs fair admission over arrivals in virtual time until `until` (event-driven: arrivals and ends); the shares are
 * averaged over [from, until]. Jobs run for their declared duration.
 */
export function simulateQueue(
  arrivals: readonly Arrival[],
  options: FairOptions & { readonly from: number; readonly until: number },
): QueueRun {
  const sorted = [...arrivals].sort((a, b) => a.at - b.at);
  const waiting: WaitingJob[] = [];
  let running: RunningJob[] = [];
  const startOf = new Map<string, number>();
  const area = new Map<string, number>();
  const byId = new Map(sorted.map((a) => [a.task.id, a.task]));
  let k = 0,
    now = sorted[0]?.at ?? 0;
  const accrue = (t0: number, t1: number): void => {
    const a = Math.max(t0, options.from),
      b = Math.min(t1, options.until);
    if (b <= a) return;
    for (const r of running)
      area.set(
        r.task.tenant,
        (area.get(r.task.tenant) ?? 0) + dominantShare(vectorOf(r.task), options.capacity) * (b - a),
      );
  };
  while (now <= options.until) {
    while (k < sorted.length && sorted[k]!.at <= now) {
      waiting.push({ task: sorted[k]!.task, since: sorted[k]!.at });
      k++;
    }
    running = running.filter((r) => r.end > now);
    const a = admitChecked({ waiting, running, now }, options);
    if (a.admitted.length > 0) {
      const ids = new Set(a.admitted);
      for (const id of a.admitted) {
        const t = byId.get(id)!;
        startOf.set(id, now);
        running.push({ task: t, end: now + t.durationHours * HOUR });
      }
      for (let i = waiting.length - 1; i >= 0; i--) if (ids.has(waiting[i]!.task.id)) waiting.splice(i, 1);
    }
    let next = k < sorted.length ? sorted[k]!.at : Infinity;
    for (const r of running) if (r.end < next) next = r.end;
    if (next === Infinity) next = options.until + 1;
    accrue(now, next);
    now = next;
  }
  const span = options.until - options.from;
  return { startOf, meanShare: new Map([...area].map(([t, v]) => [t, span > 0 ? v / span : 0])) };
}
