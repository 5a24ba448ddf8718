import { ok, type TimeSource } from '@cpnet/kernel';
import { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import { quotaBreach, tenantUsage, type HeldJob, type Quota, type Usage } from './jobs.ts';
import type { Cluster, Health, Task } from './model.ts';
import { resolveNeed } from './need.ts';
import { planPreemption } from './preempt.ts';
import { DEFAULT_REGISTRY, type Registry } from './policy.ts';
import { select, selectChecked, type Selection, type SelectOptions } from './select.ts';
import { give, sliceAt, take, type Slice } from './slices.ts';
import { GROUP_CANDIDATES, isGrouped, planGroup } from './group.ts';
import { checkClusters, checkTask, inputError, type Checked, type InputError } from './validate.ts';

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
  /** Virtual time a reservation is held before it expires, ms (default 60 000). */
  readonly reservationTtlMs?: number;
  /** Ranking policy and plugins (default: expected cost, no plugins). */
  readonly registry?: Registry;
  readonly method?: string;
  /**
   * Aging: a queued job's priority grows by this many points per hour (virtual) it has waited, so `drain` cannot
   * starve low-priority work behind a stream of higher-priority jobs. Default 0 (off, priority then arrival);
   * `fair.ts`'s admission uses 2.
   */
  readonly agingPerHour?: number;
}

/** The step of a placement that decided a failure. */
export type FailedStep = 'input' | 'quota' | 'filter' | 'gang' | 'spread' | 'affinity' | 'preemption' | 'duplicate';

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
      /** Starts with the deciding step: "gang: 4 of 6 replicas fit …", "quota: …", "filter: cpu excluded …". */
      readonly reason: string;
      readonly step: FailedStep;
      readonly queued: boolean;
      readonly selection?: Selection;
      /** For step 'input': the field that was wrong. */
      readonly error?: InputError;
    };

/** Options of submit and reserve. */
export interface PlaceOptions {
  /** Clusters ruled out for this job (a gateway refused it, or it failed there). */
  readonly exclude?: readonly string[];
  /**
   * Work of a priority below this may be preempted (default the task's own priority). A job whose priority aged
   * while it waited passes its base priority: the aged one keeps it from being preempted, but it is no licence to
   * evict work of its own base priority.
   */
  readonly preemptBelow?: number;
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

/** The spread group of a row: its province code or its provider (node prefix). */
const spreadKey = (ix: ClusterIndex, by: 'province' | 'provider', row: number): string =>
  by === 'province' ? String(ix.prov[row]) : ix.prefixes[row]!;
const DEFAULT_FAILBACK: FailbackPolicy = { minHealthyMs: 300_000, minImprovement: 0.05, minMoveIntervalMs: 600_000 };

/** Checks a scheduler's options: clusters, quotas, the failback policy and the TTL. */
function checkOptions(o: SchedulerOptions): InputError | null {
  const c = checkClusters(o.clusters);
  if (!c.ok) return c.error;
  for (const [tenant, q] of Object.entries(o.quotas ?? {}))
    for (const k of ['cpuCores', 'memoryGib', 'cards'] as const) {
      const v = q[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0))
        return inputError(`quotas.${tenant}.${k}`, `must be a finite number ≥ 0, got ${v}`).error;
    }
  for (const [k, v] of Object.entries(o.failback ?? {}))
    if (!(Number.isFinite(v) && v >= 0))
      return inputError(`failback.${k}`, `must be a finite number ≥ 0, got ${v}`).error;
  const ttl = o.reservationTtlMs;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0))
    return inputError('reservationTtlMs', `must be a finite number > 0, got ${ttl}`).error;
  const ag = o.agingPerHour;
  if (ag !== undefined && !(Number.isFinite(ag) && ag >= 0))
    return inputError('agingPerHour', `must be a finite number ≥ 0, got ${ag}`).error;
  const reg = o.registry ?? DEFAULT_REGISTRY;
  if (o.method !== undefined && !reg.policies.has(o.method))
    return inputError('method', `must be one of ${[...reg.policies.keys()].join(', ')}, got ${o.method}`).error;
  return null;
}

/** Stateful placement over a cluster index: reservations, priority and preemption, quotas, failover, failback. */
export class Scheduler {
  /** The live columnar index (availability reflects placements). */
  readonly index: ClusterIndex;
  private readonly clock: TimeSource;
  private readonly quotas: Readonly<Record<string, Quota>>;
  private readonly policy: FailbackPolicy;
  private readonly ttl: number;
  private readonly aging: number;
  private readonly costModel: CostModel | undefined;
  private readonly registry: Registry;
  private readonly method: string;
  private readonly byId = new Map<string, HeldJob>();
  /** Ids of jobs placed as reservations (some may since be committed or released): expiry looks only at these. */
  private readonly reservations = new Set<string>();
  /** Jobs holding a slice on each row: a cluster's jobs without scanning them all. */
  private readonly onRow = new Map<number, Set<HeldJob>>();
  private readonly healthSince: Map<number, number> = new Map();
  private seq = 0;

  /** A scheduler, or the first field of the options that is wrong. */
  static create(o: SchedulerOptions): Checked<Scheduler> {
    const e = checkOptions(o);
    return e ? { ok: false, error: e } : ok(new Scheduler(o));
  }

  /** Throws a TypeError naming the field when the options are wrong; use `Scheduler.create` for untrusted input. */
  constructor(o: SchedulerOptions) {
    const e = checkOptions(o);
    if (e) throw new TypeError(e.message);
    const ix = ClusterIndex.build(o.clusters);
    this.index = ix.ok ? ix.value : new ClusterIndex();
    this.registry = o.registry ?? DEFAULT_REGISTRY;
    this.method = o.method ?? 'expected-cost';
    this.clock = o.clock;
    this.quotas = o.quotas ?? {};
    this.policy = { ...DEFAULT_FAILBACK, ...o.failback };
    this.ttl = o.reservationTtlMs ?? 60_000;
    this.aging = o.agingPerHour ?? 0;
    this.costModel = o.costModel;
  }

  /** Dry-run selection against the current availability: nothing is reserved. */
  select(task: Task, options: SelectOptions = {}): Checked<Selection> {
    this.expire();
    return select(this.index, task, {
      clock: this.clock,
      costModel: this.costModel,
      registry: this.registry,
      method: this.method,
      ...options,
    });
  }

  /** Selection on a checked task (inner calls). */
  private pick(task: Task, options: Omit<SelectOptions, 'method' | 'registry'>): Selection {
    return selectChecked(this.index, task, {
      clock: this.clock,
      costModel: this.costModel,
      ...options,
      registry: this.registry,
      method: this.method,
    });
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
    if (row < 0 || this.byId.has(task.id) || !checkTask(task).ok) return false;
    const n = at.replicas ?? task.replicas;
    if (!(Number.isInteger(n) && n >= 1 && n <= task.replicas)) return false;
    const home = at.preferredClusterId === undefined ? row : this.index.rowOf(at.preferredClusterId);
    const s = sliceAt(this.index, resolveNeed(this.index, task), { row, replicas: n });
    take(this.index, s);
    const job: HeldJob = {
      id: task.id,
      task,
      status: 'running',
      slices: [],
      unplaced: task.replicas - n,
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
    j.reservation = false;
    j.expiresAt = Infinity;
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
    for (const j of this.byId.values())
      if (j.status !== 'queued' && j.unplaced > 0) {
        const r = this.topUp(j);
        if (r) out.push(r);
      }
    return out;
  }

  /** Jobs waiting, highest (aged) priority first, then by arrival. */
  queued(): HeldJob[] {
    const now = this.aging > 0 ? this.clock.now() : 0;
    const aged = (j: HeldJob): number =>
      j.task.priority + (this.aging > 0 ? (this.aging * Math.max(0, now - (j.queuedSince ?? now))) / 3_600_000 : 0);
    return [...this.byId.values()]
      .filter((j) => j.status === 'queued')
      .sort((a, b) => aged(b) - aged(a) || a.seq - b.seq);
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

  /**
   * What counts against a tenant's quota: running and reserved slices, queued jobs' whole demand and a split job's
   * replicas still waiting (`tenantUsage`, the one count the library and the node share).
   */
  usage(tenant: string): Usage {
    return tenantUsage(this.byId.values(), tenant);
  }

  /** Records a health change; when a cluster goes down its jobs are re-placed elsewhere (or queued). */
  setHealth(clusterId: string, health: Health): Move[] {
    this.expire();
    const row = this.index.rowOf(clusterId);
    if (row < 0) return [];
    const before = this.index.health[row];
    if (!this.index.setHealth(clusterId, health).ok) return [];
    // Only a change starts the healthy-since timer: a repeated "healthy" report must not push failback back.
    if (this.index.health[row] !== before || !this.healthSince.has(row)) this.healthSince.set(row, this.clock.now());
    if (health !== 'down') return [];
    const moves: Move[] = [];
    for (const j of this.jobsOnRow(row)) moves.push(...this.displace(j, row));
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
      const sel = this.pick(j.task, { k: 1, explain: 'codes', excludeRows: only });
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
    const checked = checkTask(task);
    if (!checked.ok) {
      const id = typeof task?.id === 'string' ? task.id : '';
      return {
        ok: false,
        jobId: id,
        reason: `input: ${checked.error.message}`,
        step: 'input',
        queued: false,
        error: checked.error,
      };
    }
    if (this.byId.has(task.id))
      return {
        ok: false,
        jobId: task.id,
        reason: `duplicate: job ${task.id} already exists`,
        step: 'duplicate',
        queued: false,
      };
    const job: HeldJob = {
      id: task.id,
      task,
      status: 'queued',
      queuedSince: this.clock.now(),
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
    if (options.preemptBelow !== undefined) job.preemptBelow = options.preemptBelow;
    if (status === 'reserved') {
      job.reservation = true;
      job.expiresAt = this.clock.now() + this.ttl;
    }
    const quota = this.quotas[task.tenant];
    // Usage sums every job held (queued ones too), so it is computed only for a tenant with a quota.
    const breach = quota ? quotaBreach(task, this.usage(task.tenant), quota) : null;
    if (breach) return { ok: false, jobId: task.id, reason: `quota: ${breach}`, step: 'quota', queued: false };
    this.byId.set(task.id, job);
    if (job.reservation) this.reservations.add(job.id);
    return this.placeJob(job, { preempt: true });
  }

  /** Places a (queued) job: select, then take capacity atomically per mode; preempts for single mode. */
  private placeJob(job: HeldJob, o: { preempt: boolean }): PlaceOutcome {
    const task = job.task,
      ix = this.index;
    const need = resolveNeed(ix, task);
    const mode = task.mode ?? 'single';
    const grouped = isGrouped(task);
    const sel = this.pick(task, {
      k: mode === 'single' ? 1 : grouped ? Math.min(ix.size, GROUP_CANDIDATES) : task.replicas,
      explain: 'codes',
      excludeRows: this.excludedRows(job),
    });
    if (grouped) {
      const obstacle = sel.mainObstacle?.message ?? 'no cluster fits';
      const plan = planGroup(ix, task, { ranked: sel.candidates, obstacle });
      if (plan.ok) {
        const cost = new Map(sel.candidates.map((c) => [c.row, c.costYuan]));
        const slices = plan.parts.map((p) => sliceAt(ix, need, p));
        for (const s of slices) take(ix, s);
        const placedN = plan.parts.reduce((a, p) => a + p.replicas, 0);
        const bill = plan.parts.reduce((a, p) => a + (cost.get(p.row)! * p.replicas) / task.replicas, 0);
        return this.settle(job, { slices, unplaced: task.replicas - placedN, cost: bill, preempted: [] });
      }
      job.status = 'queued';
      job.queuedSince ??= this.clock.now();
      return sel.candidates.length === 0
        ? { ok: false, jobId: job.id, reason: `filter: ${obstacle}`, step: 'filter', queued: true, selection: sel }
        : {
            ok: false,
            jobId: job.id,
            reason: plan.reason,
            step: plan.step,
            queued: true,
            selection: sel,
          };
    }
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
      const p = this.preempt(job);
      if (p) return p;
    }
    job.status = 'queued';
    job.queuedSince ??= this.clock.now();
    const obstacle = sel.mainObstacle?.message ?? 'no cluster fits';
    return { ok: false, jobId: job.id, reason: `filter: ${obstacle}`, step: 'filter', queued: true, selection: sel };
  }

  /** Places more replicas of a split job that has some waiting; returns the outcome when any were placed. */
  private topUp(job: HeldJob): PlaceOutcome | null {
    const task = job.task,
      ix = this.index;
    const need = resolveNeed(ix, task);
    const spread = task.placement?.spread ?? [];
    const sel = this.pick(task, {
      k: spread.length > 0 ? Math.min(ix.size, GROUP_CANDIDATES) : job.unplaced,
      explain: 'codes',
      excludeRows: this.excludedRows(job),
    });
    const slices = [...job.slices];
    let left = job.unplaced,
      cost = job.costYuan;
    // Spread maxima hold for the replicas added too: a new province or provider only while under its max.
    const used = spread.map((sp) => new Set(slices.map((x) => spreadKey(ix, sp.by, x.row))));
    for (const c of sel.candidates) {
      if (spread.some((sp, i) => !used[i]!.has(spreadKey(ix, sp.by, c.row)) && used[i]!.size >= (sp.max ?? Infinity)))
        continue;
      if (left === 0) break;
      const n = Math.min(left, c.replicasFit);
      if (n <= 0) continue;
      const s = sliceAt(ix, need, { row: c.row, replicas: n });
      take(ix, s);
      slices.push(s);
      spread.forEach((sp, i) => used[i]!.add(spreadKey(ix, sp.by, c.row)));
      left -= n;
      cost += (c.costYuan * n) / task.replicas;
    }
    if (left === job.unplaced) return null;
    this.setSlices(job, slices);
    job.unplaced = left;
    job.costYuan = cost;
    return { ok: true, jobId: job.id, slices, unplaced: left, preempted: [], costYuan: cost };
  }

  /**
   * A cluster went down: only the replicas there move. A single or gang job is re-placed whole (gang: all or none);
   * a split job keeps its healthy slices and re-places the displaced replicas. A reservation stays a reservation.
   */
  private displace(j: HeldJob, row: number): Move[] {
    const from = this.index.ids[row]!;
    const mode = j.task.mode ?? 'single';
    if (mode === 'split' && j.slices.some((s) => s.row !== row)) {
      const gone = j.slices.filter((s) => s.row === row);
      for (const s of gone) give(this.index, s);
      this.setSlices(
        j,
        j.slices.filter((s) => s.row !== row),
      );
      const lost = gone.reduce((n, s) => n + s.replicas, 0);
      j.unplaced += lost;
      j.costYuan *= (j.task.replicas - j.unplaced) / Math.max(1, j.task.replicas - j.unplaced + lost);
      const before = new Set(j.slices);
      this.topUp(j);
      const to = j.slices.filter((s) => !before.has(s)).map((s) => s.clusterId);
      return to.length > 0 ? to.map((t) => ({ jobId: j.id, from, to: t })) : [{ jobId: j.id, from, to: null }];
    }
    this.unplace(j);
    const r = this.placeJob(j, { preempt: true });
    return r.ok ? r.slices.map((s) => ({ jobId: j.id, from, to: s.clusterId })) : [{ jobId: j.id, from, to: null }];
  }

  private preempt(job: HeldJob): PlaceOutcome | null {
    const need = resolveNeed(this.index, job.task);
    const plan = planPreemption(this.index, {
      task: job.task,
      ...(job.preemptBelow !== undefined ? { below: job.preemptBelow } : {}),
      need,
      clock: this.clock,
      costModel: this.costModel,
      exclude: this.excludedRows(job),
      jobsOnRow: (r) => this.jobsOnRow(r),
    });
    if (!plan) return null;
    for (const v of plan.victims) this.unplace(v);
    const s = sliceAt(this.index, need, { row: plan.row, replicas: job.task.replicas });
    take(this.index, s);
    return this.settle(job, {
      slices: [s],
      unplaced: 0,
      cost: plan.costYuan,
      preempted: plan.victims.map((v) => v.id),
    });
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
    // A reservation stays a reservation wherever it moves, with its expiry.
    job.status = job.reservation ? 'reserved' : 'running';
    delete job.queuedSince;
    if (job.reservation) this.reservations.add(job.id);
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
    j.queuedSince = this.clock.now();
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
      if (!j || !j.reservation) this.reservations.delete(id);
      else if (j.expiresAt <= now) this.release(id);
    }
  }
}
