import type { TimeSource } from '@cpnet/kernel';
import { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import { quotaBreach, usageOf, type HeldJob, type Quota } from './jobs.ts';
import type { Cluster, Health, Task } from './model.ts';
import { resolveNeed } from './need.ts';
import { planPreemption } from './preempt.ts';
import { select, type Selection, type SelectOptions } from './select.ts';
import { fits, give, sliceAt, take, type Slice } from './slices.ts';

/** Hysteresis of failback: nothing moves back until the preferred cluster has been healthy long enough and the gain is worth it. */
export interface FailbackPolicy {
  readonly minHealthyMs: number;
  /** Minimum relative cost improvement, e.g. 0.05 = 5 %. */
  readonly minImprovement: number;
  /** Minimum time between two moves of one job. */
  readonly minMoveIntervalMs: number;
}

/** Options of a scheduler. */
export interface SchedulerOptions {
  readonly clusters: readonly Cluster[];
  readonly clock: TimeSource;
  readonly quotas?: Readonly<Record<string, Quota>>;
  readonly costModel?: CostModel;
  readonly failback?: Partial<FailbackPolicy>;
  readonly reservationTtlMs?: number;
}

/** The answer to submit / reserve / a re-placement. */
export type PlaceOutcome =
  | {
      readonly ok: true;
      readonly jobId: string;
      readonly slices: readonly Slice[];
      readonly unplaced: number;
      readonly preempted: readonly string[];
      readonly costYuan: number;
    }
  | {
      readonly ok: false;
      readonly jobId: string;
      readonly reason: string;
      readonly queued: boolean;
      readonly selection?: Selection;
    };

/** Options of submit and reserve. */
export interface PlaceOptions {
  /** Clusters ruled out for this job (a gateway refused it, or it failed there). */
  readonly exclude?: readonly string[];
}

/** Where a restored job runs. */
export interface RestoreAt {
  readonly clusterId: string;
  readonly replicas?: number;
  readonly preferredClusterId?: string;
  readonly placedAt?: number;
  readonly lastMovedAt?: number;
  readonly costYuan?: number;
}

/** A job moved by failover or failback. */
export interface Move {
  readonly jobId: string;
  readonly from: string;
  readonly to: string | null;
}

const DEFAULT_FAILBACK: FailbackPolicy = { minHealthyMs: 300_000, minImprovement: 0.05, minMoveIntervalMs: 600_000 };

/** Stateful placement over a cluster index: reservations, priority and preemption, quotas, failover, failback. */
export class Scheduler {
  /** The live columnar index (availability reflects placements). */
  readonly index: ClusterIndex;
  private readonly clock: TimeSource;
  private readonly quotas: Readonly<Record<string, Quota>>;
  private readonly policy: FailbackPolicy;
  private readonly ttl: number;
  private readonly costModel: CostModel | undefined;
  private readonly byId = new Map<string, HeldJob>();
  /** Ids of jobs placed as reservations (some may since be committed or released): expiry looks only at these. */
  private readonly reservations = new Set<string>();
  /** Jobs holding a slice on each row: a cluster's jobs without scanning them all. */
  private readonly onRow = new Map<number, Set<HeldJob>>();
  private readonly healthSince: Map<number, number> = new Map();
  private seq = 0;

  constructor(o: SchedulerOptions) {
    this.index = ClusterIndex.build(o.clusters);
    this.clock = o.clock;
    this.quotas = o.quotas ?? {};
    this.policy = { ...DEFAULT_FAILBACK, ...o.failback };
    this.ttl = o.reservationTtlMs ?? 60_000;
    this.costModel = o.costModel;
  }

  /** Dry-run selection against the current availability: nothing is reserved. */
  select(task: Task, options: SelectOptions = {}): Selection {
    this.expire();
    return select(this.index, task, { clock: this.clock, costModel: this.costModel, ...options });
  }

  /** Places a task now (preempting lower-priority work if needed); on failure it is queued. */
  submit(task: Task, options: PlaceOptions = {}): PlaceOutcome {
    this.expire();
    return this.admit(task, 'running', options);
  }

  /** Places a task as a reservation that expires after the TTL unless committed. */
  reserve(task: Task, options: PlaceOptions = {}): PlaceOutcome {
    this.expire();
    return this.admit(task, 'reserved', options);
  }

  /**
   * Puts back a job already running on a known cluster (a node restarting from its database): no selection, the
   * slice is taken at that cluster; `preferredClusterId` keeps failback pointing at the first placement.
   */
  resume(task: Task, at: RestoreAt): boolean {
    const row = this.index.rowOf(at.clusterId);
    if (row < 0 || this.byId.has(task.id)) return false;
    const home = at.preferredClusterId === undefined ? row : this.index.rowOf(at.preferredClusterId);
    const s = sliceAt(this.index, resolveNeed(this.index, task), { row, replicas: at.replicas ?? task.replicas });
    take(this.index, s);
    const job: HeldJob = {
      id: task.id,
      task,
      status: 'running',
      slices: [],
      unplaced: 0,
      preferredRow: home < 0 ? row : home,
      placedAt: at.placedAt ?? this.clock.now(),
      lastMovedAt: at.lastMovedAt ?? -Infinity,
      seq: this.seq++,
      expiresAt: Infinity,
      costYuan: at.costYuan ?? 0,
    };
    this.setSlices(job, [s]);
    this.byId.set(task.id, job);
    return true;
  }

  /** Turns a reservation into a running job. */
  commit(jobId: string): boolean {
    this.expire();
    const j = this.byId.get(jobId);
    if (!j || j.status !== 'reserved') return false;
    j.status = 'running';
    this.reservations.delete(jobId);
    return true;
  }

  /** Releases a reservation or a job (finished, cancelled): its resources return to the index. */
  release(jobId: string): boolean {
    const j = this.byId.get(jobId);
    if (!j) return false;
    this.unplace(j);
    this.byId.delete(jobId);
    this.reservations.delete(jobId);
    return true;
  }

  /** Tries the queue in priority order (then arrival); returns what was placed. */
  drain(): PlaceOutcome[] {
    this.expire();
    const out: PlaceOutcome[] = [];
    for (const j of this.queued()) {
      const r = this.placeJob(j, { preempt: false });
      if (r.ok) out.push(r);
    }
    return out;
  }

  /** Jobs waiting, highest priority first. */
  queued(): HeldJob[] {
    return [...this.byId.values()]
      .filter((j) => j.status === 'queued')
      .sort((a, b) => b.task.priority - a.task.priority || a.seq - b.seq);
  }

  /** A job by id. */
  job(id: string): HeldJob | undefined {
    return this.byId.get(id);
  }

  /** Jobs holding capacity on a cluster (running or reserved). */
  jobsOn(clusterId: string): HeldJob[] {
    const row = this.index.rowOf(clusterId);
    return row < 0 ? [] : this.jobsOnRow(row);
  }

  /** All jobs the scheduler holds. */
  jobs(): HeldJob[] {
    return [...this.byId.values()];
  }

  /** Resources a tenant holds (running and reserved). */
  usage(tenant: string): { cpuCores: number; memoryGib: number; cards: number } {
    const t = { cpuCores: 0, memoryGib: 0, cards: 0 };
    for (const j of this.byId.values()) {
      if (j.task.tenant !== tenant || j.status === 'queued') continue;
      const u = usageOf(j);
      t.cpuCores += u.cpuCores;
      t.memoryGib += u.memoryGib;
      t.cards += u.cards;
    }
    return t;
  }

  /** Records a health change; when a cluster goes down its jobs are re-placed elsewhere (or queued). */
  setHealth(clusterId: string, health: Health): Move[] {
    this.expire();
    const row = this.index.rowOf(clusterId);
    if (row < 0) return [];
    this.index.setHealth(clusterId, health);
    this.healthSince.set(row, this.clock.now());
    if (health !== 'down') return [];
    const moves: Move[] = [];
    for (const j of this.jobsOnRow(row)) {
      this.unplace(j);
      const r = this.placeJob(j, { preempt: true });
      moves.push({ jobId: j.id, from: clusterId, to: r.ok ? r.slices[0]!.clusterId : null });
    }
    return moves;
  }

  /** Moves jobs back to their preferred cluster when it has recovered, with hysteresis. */
  failback(): Move[] {
    this.expire();
    const now = this.clock.now();
    const moves: Move[] = [];
    for (const j of this.jobs()) {
      if (j.status !== 'running' || j.slices.length !== 1) continue;
      const cur = j.slices[0]!,
        home = j.preferredRow;
      if (cur.row === home || this.index.health[home] !== 0) continue;
      if (now - (this.healthSince.get(home) ?? -Infinity) < this.policy.minHealthyMs) continue;
      if (now - j.lastMovedAt < this.policy.minMoveIntervalMs) continue;
      const only = new Uint8Array(this.index.size).fill(1);
      only[home] = 0;
      const sel = this.select(j.task, { k: 1, explain: 'codes', excludeRows: only });
      const c = sel.candidates[0];
      if (!c || c.costYuan > j.costYuan * (1 - this.policy.minImprovement)) continue;
      give(this.index, cur);
      const next = sliceAt(this.index, resolveNeed(this.index, j.task), { row: home, replicas: cur.replicas });
      take(this.index, next);
      this.setSlices(j, [next]);
      j.costYuan = c.costYuan;
      j.lastMovedAt = now;
      moves.push({ jobId: j.id, from: cur.clusterId, to: next.clusterId });
    }
    return moves;
  }

  private admit(task: Task, status: 'running' | 'reserved', options: PlaceOptions): PlaceOutcome {
    if (this.byId.has(task.id))
      return { ok: false, jobId: task.id, reason: `job ${task.id} already exists`, queued: false };
    const job: HeldJob = {
      id: task.id,
      task,
      status: 'queued',
      slices: [],
      unplaced: 0,
      preferredRow: -1,
      placedAt: 0,
      lastMovedAt: -Infinity,
      seq: this.seq++,
      expiresAt: Infinity,
      costYuan: 0,
    };
    if (options.exclude && options.exclude.length > 0) job.excluded = new Set(options.exclude);
    const quota = this.quotas[task.tenant];
    // Usage sums every job held, so it is computed only for a tenant with a quota.
    const breach = quota ? quotaBreach(task, this.usage(task.tenant), quota) : null;
    if (breach) return { ok: false, jobId: task.id, reason: breach, queued: false };
    this.byId.set(task.id, job);
    const r = this.placeJob(job, { preempt: true });
    if (r.ok && status === 'reserved') {
      job.status = 'reserved';
      job.expiresAt = this.clock.now() + this.ttl;
      this.reservations.add(job.id);
    }
    return r;
  }

  /** Places a (queued) job: select, then take capacity atomically per mode; preempts for single mode. */
  private placeJob(job: HeldJob, o: { preempt: boolean }): PlaceOutcome {
    const task = job.task,
      ix = this.index;
    const need = resolveNeed(ix, task);
    const mode = task.mode ?? 'single';
    const sel = this.select(task, {
      k: mode === 'single' ? 1 : task.replicas,
      explain: 'codes',
      excludeRows: this.excludedRows(job),
    });
    const slices: Slice[] = [];
    let left = task.replicas,
      cost = 0;
    for (const c of sel.candidates) {
      if (left === 0) break;
      const n = Math.min(left, c.replicasFit);
      if (n <= 0) continue;
      const s = sliceAt(ix, need, { row: c.row, replicas: n });
      take(ix, s);
      slices.push(s);
      left -= n;
      cost += (c.costYuan * n) / task.replicas;
    }
    const placed = slices.length > 0 && (left === 0 || mode === 'split');
    if (placed) return this.settle(job, { slices, unplaced: left, cost, preempted: [] });
    for (const s of slices) give(ix, s);
    if (o.preempt && mode === 'single') {
      const p = this.preempt(job, sel);
      if (p) return p;
    }
    job.status = 'queued';
    return {
      ok: false,
      jobId: job.id,
      reason: sel.mainObstacle?.message ?? 'no cluster fits',
      queued: true,
      selection: sel,
    };
  }

  private preempt(job: HeldJob, sel: Selection): PlaceOutcome | null {
    const need = resolveNeed(this.index, job.task);
    const plans = planPreemption(this.index, {
      need,
      priority: job.task.priority,
      codes: sel.reasonCodes,
      jobsOnRow: (r) => this.jobsOnRow(r),
    });
    for (const plan of plans.slice(0, 5)) {
      const saved = plan.victims.map((v) => v.slices);
      for (const v of plan.victims) this.unplace(v);
      const only = new Uint8Array(this.index.size).fill(1);
      only[plan.row] = 0;
      const one = this.select(job.task, { k: 1, explain: 'codes', excludeRows: only });
      const c = one.candidates[0];
      if (c && c.replicasFit >= job.task.replicas) {
        const s = sliceAt(this.index, need, { row: c.row, replicas: job.task.replicas });
        take(this.index, s);
        for (const v of plan.victims) v.status = 'queued';
        return this.settle(job, {
          slices: [s],
          unplaced: 0,
          cost: c.costYuan,
          preempted: plan.victims.map((v) => v.id),
        });
      }
      plan.victims.forEach((v, i) => this.restore(v, saved[i]!));
    }
    return null;
  }

  private settle(
    job: HeldJob,
    p: { slices: Slice[]; unplaced: number; cost: number; preempted: string[] },
  ): PlaceOutcome {
    const now = this.clock.now();
    const first = job.preferredRow < 0;
    this.setSlices(job, p.slices);
    job.unplaced = p.unplaced;
    job.costYuan = p.cost;
    job.status = 'running';
    if (first) {
      job.preferredRow = p.slices[0]!.row;
      job.placedAt = now;
    } else job.lastMovedAt = now;
    return {
      ok: true,
      jobId: job.id,
      slices: p.slices,
      unplaced: p.unplaced,
      preempted: p.preempted,
      costYuan: p.cost,
    };
  }

  private unplace(j: HeldJob): void {
    for (const s of j.slices) give(this.index, s);
    this.setSlices(j, []);
    j.status = 'queued';
  }

  /** Sets a job's slices, keeping the per-row index in step. */
  private setSlices(j: HeldJob, slices: Slice[]): void {
    for (const s of j.slices) this.onRow.get(s.row)?.delete(j);
    j.slices = slices;
    for (const s of slices) {
      let set = this.onRow.get(s.row);
      if (!set) {
        set = new Set();
        this.onRow.set(s.row, set);
      }
      set.add(j);
    }
  }

  private restore(j: HeldJob, prev: Slice[]): void {
    // Victims of an abandoned plan go back exactly where they were: their slices were only just released.
    this.setSlices(
      j,
      prev.filter((s) => fits(this.index, s)),
    );
    for (const s of j.slices) take(this.index, s);
    j.status = j.slices.length > 0 ? 'running' : 'queued';
  }

  private excludedRows(job: HeldJob): Uint8Array | undefined {
    if (!job.excluded || job.excluded.size === 0) return undefined;
    const rows = new Uint8Array(this.index.size);
    for (const id of job.excluded) {
      const r = this.index.rowOf(id);
      if (r >= 0) rows[r] = 1;
    }
    return rows;
  }

  private jobsOnRow(row: number): HeldJob[] {
    return [...(this.onRow.get(row) ?? [])].filter((j) => j.status !== 'queued');
  }

  private expire(): void {
    if (this.reservations.size === 0) return;
    const now = this.clock.now();
    for (const id of [...this.reservations]) {
      const j = this.byId.get(id);
      if (!j || j.status !== 'reserved') this.reservations.delete(id);
      else if (j.expiresAt <= now) this.release(id);
    }
  }
}
