import {
  demandOf,
  quotaBreach,
  tenantUsage,
  type CountedJob,
  type Quota,
  type SubtreeView,
  type Task,
  type Usage,
} from '@cpnet/scheduler';
import { formatTime, type JobHistoryEntry, type MeteringLine } from '@cpnet/protocol';
import { ClusterView } from './cluster-view.ts';
import { applyEntry, isFinal, tenantKey, type JobRecord } from './job-machine.ts';
import { toTask } from './mapping.ts';
import { meterRun } from './metering.ts';
import { DEFAULT_SCHEDULING, type SchedulingDeps, type SchedulingOptions } from './ports.ts';
import { jobEventData, relayedEvent } from './job-events.ts';
import { KeyedLock } from './locks.ts';
import { traceparentOf } from '../monitoring/trace.ts';

/**
 * The bookkeeping half of a node's scheduling: the jobs it holds, their history and events (saved in one commit),
 * relays toward the origin, metering, and the one quota usage count. PlacementCore adds the executor of the
 * planner's steps; SchedulingService the API and the background work.
 */
export abstract class JobBook {
  readonly view: ClusterView;
  readonly options: SchedulingOptions;
  protected readonly lock = new KeyedLock();
  protected readonly jobs = new Map<string, JobRecord>();
  protected readonly relayed = new Map<string, number>();
  protected readonly children = new Map<string, { summary: SubtreeView; at: number; down: boolean }>();
  protected readonly lastTry = new Map<string, number>();

  protected readonly d: SchedulingDeps;

  constructor(deps: SchedulingDeps) {
    const g = deps.gateways;
    // Every order to a gateway is in flight at its cluster until answered: a report crossing it is not fresh (its
    // figures may or may not count the order), so it cannot undo what the node holds there (`cluster-view.ts`).
    const tracked = <T>(cluster: string, p: Promise<T>): Promise<T> => p.finally(this.view.inFlight(cluster));
    const d = (this.d = {
      ...deps,
      gateways: { dispatch: (m) => tracked(m.cluster, g.dispatch(m)), cancel: (c, m) => tracked(c, g.cancel(c, m)) },
    });
    this.options = { ...DEFAULT_SCHEDULING, ...d.options };
    // The owner's scheduler counts usage per tenant pair (`account@node`): a bare key is a tenant of this node.
    const quotas = Object.fromEntries(
      Object.entries(this.options.quotas).map(([k, q]) => [k.includes('@') ? k : tenantKey(d.code, k), q]),
    );
    this.view = new ClusterView({
      clock: d.clock,
      quotas,
      failback: this.options.failback,
      refused: (id, e) =>
        d.log?.warn(
          { cluster: id, field: e.field, reason: e.message },
          `cluster ${id} refused: ${e.field}: ${e.message}`,
        ),
    });
  }

  protected get me(): string {
    return this.d.code;
  }
  protected now(): number {
    return this.d.clock.now();
  }

  protected readonly pendingLines = new Map<string, MeteringLine[]>();
  /** Events of a placement, emitted with the job's save: one commit for both (the event log is in the same database). */
  protected readonly pendingEvents = new Map<string, Parameters<SchedulingDeps['emit']>[]>();

  protected emitWithSave(job: JobRecord, ...e: Parameters<SchedulingDeps['emit']>): void {
    const list = this.pendingEvents.get(job.id) ?? [];
    list.push(e);
    this.pendingEvents.set(job.id, list);
  }

  protected emitPending(job: JobRecord): void {
    for (const e of this.pendingEvents.get(job.id) ?? []) this.d.emit(...e);
    this.pendingEvents.delete(job.id);
  }

  /** The metering line of the job's current run on this node's cluster (none when it did not run here). */
  protected meter(job: JobRecord, end: number): MeteringLine[] {
    if (job.owner !== this.me || !job.cluster || job.dispatchedAt === null) return [];
    const running = job.history.find(
      (h) => h.state === 'running' && h.attempt === job.attempt && h.cluster === job.cluster,
    );
    const from = running ? Date.parse(running.at) : job.dispatchedAt;
    const facts = this.view.factsOf(job.cluster);
    return [
      meterRun({
        job: job.id,
        tenant: tenantKey(job.origin, job.tenant),
        provider: facts?.provider ?? job.cluster,
        cluster: job.cluster,
        template: job.template,
        price: this.view.priceOf(job.cluster),
        from,
        to: end,
      }),
    ];
  }

  /** At the origin, a step done at another node (relayed or in a placement answer) is an event here too. */
  protected emitRelayed(job: JobRecord, e: JobHistoryEntry, emit: SchedulingDeps['emit']): void {
    const ev = relayedEvent(job, e, this.me);
    if (ev) emit(ev.type, { ...ev.detail, data: this.jobData(job, ev.detail.data) });
  }

  /** The `data` of a job event (JobEventData) at this node; `extra` first. */
  protected jobData(job: JobRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return jobEventData(job, { me: this.me, provinceOf: (c) => this.view.place(c)?.province ?? null, extra });
  }

  protected record(job: JobRecord, e: Omit<JobHistoryEntry, 'at' | 'attempt'> & { at?: string }): void {
    applyEntry(job, { ...e, at: e.at ?? formatTime(this.now()), attempt: job.attempt });
  }

  /** Saves the job, stores metering lines, and relays what is new toward the origin. */
  protected async flush(job: JobRecord, lines: MeteringLine[] = []): Promise<void> {
    const all = [...lines, ...(this.pendingLines.get(job.id) ?? [])];
    this.pendingLines.delete(job.id);
    this.emitPending(job);
    // The job's row and its metering lines are queued together, so they share one group commit (awaited one by
    // one, each waited for a commit of its own); all are durable before the relay below is queued.
    await Promise.all([this.d.store.save(job), ...all.map((l) => this.d.store.addMetering(l))]);
    const from = this.relayed.get(job.id) ?? 0;
    const fresh = job.history.slice(from);
    // A finished job's bookkeeping goes (a late duplicate relay re-sends its history once; receivers ignore repeats).
    if (isFinal(job.state)) {
      this.relayed.delete(job.id);
      this.lastTry.delete(job.id);
    } else this.relayed.set(job.id, job.history.length);
    if (job.upstream && (fresh.length > 0 || all.length > 0)) {
      const entries = fresh.length > 0 ? fresh : job.history.slice(-1);
      for (let i = 0; i < entries.length; i += 100)
        await this.d.peers.relay(job.upstream, {
          job: job.id,
          entries: entries.slice(i, i + 100),
          ...(i === 0 && all.length ? { metering: all } : {}),
          traceparent: traceparentOf(job.id, this.me),
        });
    }
    if (job.upstream && job.downstream === job.upstream && !isFinal(job.state)) await this.handOver(job);
  }

  /**
   * A job this node re-placed by asking the node it came from (the hand-back of a re-placement at a node that is not
   * the origin): that node holds it again and relays from its new owner, so this copy ends here, quietly (its
   * history has just been relayed; the `cancelled` entry stays in this node's store only).
   */
  private async handOver(job: JobRecord): Promise<void> {
    const to = job.upstream!;
    job.upstream = null;
    this.jobs.delete(job.id);
    this.relayed.delete(job.id);
    this.lastTry.delete(job.id);
    applyEntry(job, {
      state: 'cancelled',
      at: formatTime(this.now()),
      node: this.me,
      attempt: job.attempt,
      detail: `handed back to ${to}, which placed it again`,
    });
    await this.d.store.save(job);
  }

  // ── quota usage ─────────────────────────────────────────────────────────────

  /**
   * Per tenant, the ids of the jobs submitted here (finished ones are dropped as they are met) and `bound`: the whole
   * demand of every job tracked since the last exact count. The bound only grows between counts and is never below
   * the exact count, so a submission it admits is admitted by the exact count too: O(1) for all but the submissions
   * near the quota.
   */
  private readonly byTenant = new Map<string, { ids: Set<string>; bound: Usage }>();
  private readonly tasks = new WeakMap<JobRecord, Task>();

  /** Counts a job submitted here toward its tenant's usage. */
  protected trackTenant(job: JobRecord): void {
    let e = this.byTenant.get(job.tenant);
    if (!e) this.byTenant.set(job.tenant, (e = { ids: new Set(), bound: { cpuCores: 0, memoryGib: 0, cards: 0 } }));
    if (e.ids.has(job.id)) return;
    e.ids.add(job.id);
    addDemand(e.bound, this.taskOf(job));
  }

  /** Per tenant, the demand of submissions that passed their quota check and wait for their job's identifier. */
  private readonly quotaHeld = new Map<string, Usage>();

  /**
   * A submission's quota check; when it passes, its demand is held until `release` (call it once `trackTenant`
   * counted the job, or the submission failed first). Submissions in flight together — a batch, concurrent requests
   * — each count the ones checked before them while they wait for their identifiers: without the hold all of them
   * were checked against the usage before any was tracked, and a batch could pass its quota many times over.
   */
  protected holdQuota(
    tenant: string,
    task: Task,
    quota: Quota | null | undefined,
  ): { breach: string } | { release(): void } {
    const held = this.quotaHeld.get(tenant) ?? { cpuCores: 0, memoryGib: 0, cards: 0 };
    const plus = (u: Usage): Usage => ({
      cpuCores: u.cpuCores + held.cpuCores,
      memoryGib: u.memoryGib + held.memoryGib,
      cards: u.cards + held.cards,
    });
    // The O(1) bound first; the exact count only when the bound would breach.
    const breach =
      quota && quotaBreach(task, plus(this.tenantBound(tenant)), quota)
        ? quotaBreach(task, plus(this.tenantUsage(tenant)), quota)
        : null;
    if (breach) return { breach };
    addDemand(held, task);
    this.quotaHeld.set(tenant, held);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        subtractDemand(held, task);
        if (held.cpuCores <= 0 && held.memoryGib <= 0 && held.cards <= 0) this.quotaHeld.delete(tenant);
      },
    };
  }

  /** An upper bound of `tenantUsage(tenant)` in O(1) (see `byTenant`). */
  protected tenantBound(tenant: string): Usage {
    return { ...(this.byTenant.get(tenant)?.bound ?? { cpuCores: 0, memoryGib: 0, cards: 0 }) };
  }

  /**
   * The tenant's usage as its quota counts it — the library's `tenantUsage`, the one count: what this node's
   * scheduler holds for the job (slices, a split job's replicas still waiting), else the job's whole demand (queued
   * here, or placed at another node). `skip` leaves one job out (re-checking a queued job before it is placed).
   */
  protected tenantUsage(tenant: string, skip?: string): Usage {
    const e = this.byTenant.get(tenant);
    const key = tenantKey(this.me, tenant);
    const counted: CountedJob[] = [];
    const bound: Usage = { cpuCores: 0, memoryGib: 0, cards: 0 };
    for (const id of e?.ids ?? []) {
      const j = this.jobs.get(id);
      if (!j || isFinal(j.state) || j.origin !== this.me) {
        e!.ids.delete(id);
        continue;
      }
      addDemand(bound, this.taskOf(j));
      if (id === skip) continue;
      const held = j.owner === this.me ? this.view.scheduler.job(id) : undefined;
      counted.push(
        held && held.status !== 'queued'
          ? { task: this.taskOf(j), status: held.status, slices: held.slices, unplaced: held.unplaced }
          : { task: this.taskOf(j), status: 'queued', slices: [], unplaced: 0 },
      );
    }
    if (e) e.bound = bound;
    return tenantUsage(counted, key);
  }

  /**
   * The priority a job had aged to when fair admission let it in: it keeps it while placed, so a fresh job of the
   * base priority it overtook cannot preempt it at once (which would undo the aging).
   */
  protected readonly admittedAt = new Map<string, number>();

  /** The job as the scheduler library sees it (tenant `account@origin`), built once per job. */
  protected taskOf(job: JobRecord): Task {
    const t = this.baseTaskOf(job);
    const aged = this.admittedAt.get(job.id);
    return aged !== undefined && aged > t.priority ? { ...t, priority: aged } : t;
  }

  /** The job as submitted (its template's priority, not aged): what it may preempt by. */
  protected baseTaskOf(job: JobRecord): Task {
    let t = this.tasks.get(job);
    if (!t) this.tasks.set(job, (t = toTask(job.template, { id: job.id, tenant: tenantKey(job.origin, job.tenant) })));
    return t;
  }

  protected liveChildren(): SubtreeView[] {
    return [...this.children.values()].filter((c) => !c.down).map((c) => c.summary);
  }

  protected wakeQueue(): void {
    for (const j of this.jobs.values()) if (j.state === 'queued') this.lastTry.set(j.id, 0);
  }
}

function addDemand(u: Usage, task: Task): void {
  const d = demandOf(task);
  u.cpuCores += d.cpuCores;
  u.memoryGib += d.memoryGib;
  u.cards += d.cards;
}

function subtractDemand(u: Usage, task: Task): void {
  const d = demandOf(task);
  u.cpuCores -= d.cpuCores;
  u.memoryGib -= d.memoryGib;
  u.cards -= d.cards;
}
