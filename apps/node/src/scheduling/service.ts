import type { z } from 'zod';
import { chooseSubtree, type SubtreeSummary } from '@cpnet/scheduler';
import { formatTime, PROTOCOL_VERSION, type JobCancelRelay, type JobRelay, type JobUpdate, type PlacementRequest, type SelectionRelay } from '@cpnet/protocol';
import { realEvery } from '../deps.ts';
import { quotaBreach } from './quota.ts';
import { ClusterView } from './cluster-view.ts';
import { applyEntry, isFinal, newJob, type HistoryEntry, type JobRecord } from './job-machine.ts';
import { mergeSummaries, summaryFromWire, summaryToWire, toTask, type ClusterFacts, type WireClusterReport, type WireSchedulingSummary, type WireSelectionAnswer, type WireTemplate } from './mapping.ts';
import { meterRun, totals } from './metering.ts';
import { KeyedLock } from './locks.ts';
import { selectAcross } from './selection.ts';
import { DEFAULT_SCHEDULING, type MeteringLineT, type PlacementResult, type SchedulingDeps, type SchedulingOptions } from './ports.ts';

type Refusal = { node: string; reason: string };
type Placed = { ok: true; owner: string; cluster: string; costYuan: number } | { ok: false; refusals: Refusal[] };
interface PlaceHow { exclude: readonly string[]; excludeClusters: readonly string[]; allowUp: boolean }

/** Thrown when a tenant's quota would be broken (the route answers 422). */
export class QuotaExceeded extends Error {}

/**
 * Scheduling at one node (互联调度): places jobs on its clusters, in child subtrees or through its parent; dispatches
 * to gateways; tracks every job to one final state; re-places on failure; fails back; preempts; meters.
 */
export class SchedulingService {
  readonly view: ClusterView;
  readonly options: SchedulingOptions;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly relayed = new Map<string, number>();
  private readonly lock = new KeyedLock();
  private readonly children = new Map<string, { summary: SubtreeSummary; at: number; down: boolean }>();
  private readonly lastTry = new Map<string, number>();
  /** Cancellations for children taken as down, sent when they report again (not through the outbox, whose queue a dead receiver would block). */
  private readonly owed = new Map<string, { job: string; reason: 'replaced'; attempt: number; at: string }[]>();
  private readonly timers: (() => void)[] = [];
  private ticking = false;
  /** Submit → dispatched latencies of jobs submitted here (ms), the latest 1,000. */
  private readonly latencies: number[] = [];

  constructor(private readonly d: SchedulingDeps) {
    this.options = { ...DEFAULT_SCHEDULING, ...d.options };
    this.view = new ClusterView({ clock: d.clock, quotas: this.options.quotas, failback: this.options.failback });
  }

  private get me(): string { return this.d.code; }
  private now(): number { return this.d.clock.now(); }

  /** Loads unfinished jobs from the store (a restart resumes them) and starts the timers. */
  async start(): Promise<void> {
    for (const j of await this.d.store.active()) { this.jobs.set(j.id, j); this.relayed.set(j.id, j.history.length); }
    const every = this.d.every ?? realEvery;
    this.timers.push(every(this.options.tickMs, () => void this.tick()));
    if (this.d.parent) this.timers.push(every(this.options.summaryMs, () => void this.pushSummaries()));
  }

  stop(): void {
    for (const stop of this.timers.splice(0)) stop();
  }

  /** A job this node holds in memory (unfinished, any role). */
  job(id: string): JobRecord | undefined { return this.jobs.get(id); }

  /** A page of the jobs submitted here, in id order; the ones in flight as held in memory (newer than a pending save). */
  async list(q: { tenant?: string; after?: string; limit: number }): Promise<JobRecord[]> {
    const rows = await this.d.store.list({ ...q, origin: this.me });
    return rows.map((r) => this.jobs.get(r.id) ?? r);
  }

  /** A job from memory or, when finished, from the store. */
  async stored(id: string): Promise<JobRecord | null> { return this.jobs.get(id) ?? (await this.d.store.get(id)); }

  // ── clusters ────────────────────────────────────────────────────────────────

  /** A cluster registered here, or its lifecycle changed; jobs it ran before a restart are put back. */
  upsertCluster(facts: ClusterFacts): void {
    this.view.upsert(facts);
    for (const j of this.jobs.values()) {
      if (j.owner === this.me && j.cluster === facts.id && !isFinal(j.state) && !this.view.scheduler.job(j.id)) {
        this.view.scheduler.resume(toTask(j.template, { id: j.id, tenant: j.tenant }), { clusterId: facts.id, preferredClusterId: j.preferredCluster ?? undefined, costYuan: j.costYuan });
      }
    }
    this.view.adjust(facts.id);
  }

  /** A gateway's report: capacity and liveness of its clusters. */
  onReport(clusters: readonly WireClusterReport[], at: number): void {
    for (const c of clusters) this.view.report(c, at);
  }

  // ── selections ──────────────────────────────────────────────────────────────

  /** `POST /cpn/v1/selections`: dry run, across the hierarchy when the local view cannot satisfy the template. */
  select(template: WireTemplate, topK: number): Promise<WireSelectionAnswer> {
    return selectAcross(this.selectionContext(), { template, topK, exclude: [], allowUp: true });
  }

  /** A selection relayed by the parent (down) or a child (up). */
  onSelectionRelay(body: z.output<typeof SelectionRelay>): Promise<WireSelectionAnswer> {
    return selectAcross(this.selectionContext(), { template: body.template, topK: body.topK, exclude: body.exclude, allowUp: body.direction === 'up' });
  }

  private selectionContext() {
    return { code: this.me, parent: this.d.parent, view: this.view, peers: this.d.peers, children: () => this.liveChildren() };
  }

  // ── jobs ────────────────────────────────────────────────────────────────────

  /** `POST /cpn/v1/jobs`: quota checked here, then placed locally or escalated; answers once dispatched or queued. */
  async submit(template: WireTemplate, tenant: string): Promise<JobRecord> {
    const quota = this.options.quotas[tenant];
    // Usage is summed over the jobs held here, so only for a tenant that has a quota.
    const breach = quota ? quotaBreach(toTask(template, { id: 'quota', tenant }), this.tenantUsage(tenant), quota) : null;
    if (breach) throw new QuotaExceeded(breach);
    const id = await this.d.newJobId();
    const job = newJob({ id, tenant, origin: this.me, template, at: this.now(), node: this.me });
    this.jobs.set(id, job);
    const t0 = performance.now();
    // The answer is the job as placement left it (a gateway's `running` may follow at once).
    const answer = await this.lock.run(id, async () => {
      await this.placeOrQueue(job, { exclude: [], excludeClusters: [], allowUp: true });
      await this.flush(job);
      return structuredClone(job);
    });
    if (answer.state === 'dispatched') {
      this.latencies.push(performance.now() - t0);
      if (this.latencies.length > 1000) this.latencies.shift();
    }
    return answer;
  }

  /** `DELETE /cpn/v1/jobs/<id>`: cancels (idempotent); a job already in another final state is left as it is. */
  cancel(id: string, by: string): Promise<JobRecord | null> {
    return this.lock.run(id, async () => {
      const job = this.jobs.get(id) ?? (await this.d.store.get(id));
      if (!job) return null;
      if (isFinal(job.state)) return job;
      await this.stopHere(job, { reason: 'cancelled', detail: `cancelled by ${by}` });
      await this.flush(job);
      return job;
    });
  }

  /** A placement asked by the parent (down) or a child (escalation up). */
  async onPlacement(body: z.output<typeof PlacementRequest>, from: string): Promise<PlacementResult> {
    return this.lock.run(body.job, async () => {
      let job = this.jobs.get(body.job);
      if (!job || isFinal(job.state)) {
        job = newJob({ id: body.job, tenant: body.tenant, origin: body.origin, template: body.template, at: this.now(), node: this.me, upstream: from, attempt: body.attempt });
      } else {
        job.upstream = from;
        if (body.attempt > job.attempt) job.attempt = body.attempt;
      }
      const before = job.history.length;
      const r = await this.place(job, { exclude: body.exclude, excludeClusters: body.excludeClusters, allowUp: body.direction === 'up' });
      if (!r.ok) {
        this.emitPending(job);
        return { ok: false, refusals: r.refusals, summary: r.refusals.map((x) => `${x.node}: ${x.reason}`).join('; ') || 'no subtree could place the job' };
      }
      this.jobs.set(job.id, job);
      const history = job.history.slice(before);
      this.relayed.set(job.id, job.history.length);
      this.emitPending(job);
      await this.d.store.save(job);
      return { ok: true, owner: r.owner, cluster: r.cluster, costYuan: Math.max(0, r.costYuan), history };
    });
  }

  /** Job history relayed from below (owner → origin, hop by hop). */
  onRelay(body: z.output<typeof JobRelay>): Promise<boolean> {
    return this.lock.run(body.job, async () => {
      const job = this.jobs.get(body.job) ?? (await this.d.store.get(body.job));
      if (!job) return false;
      for (const l of body.metering ?? []) await this.d.store.addMetering(l);
      let any = false;
      for (const e of body.entries) any = applyEntry(job, e).appended || any;
      if (isFinal(job.state)) this.jobs.delete(job.id);
      if (any || (body.metering?.length ?? 0) > 0) await this.flush(job, body.metering ?? []);
      return true;
    });
  }

  /** A cancellation relayed from above (origin → owner). */
  onCancelRelay(body: z.output<typeof JobCancelRelay>, from: string): Promise<boolean> {
    return this.lock.run(body.job, async () => {
      const job = this.jobs.get(body.job);
      if (!job || isFinal(job.state)) return false;
      if (body.reason === 'replaced') {
        // The node above re-placed the job elsewhere (this node was taken as down): stop it here, quietly.
        if (job.owner === this.me && job.cluster) await this.stopRun(job, 'replaced');
        job.upstream = null;
        this.jobs.delete(job.id);
        applyEntry(job, { state: 'cancelled', at: formatTime(this.now()), node: this.me, detail: `re-placed by ${from}` });
        await this.d.store.save(job);
        return true;
      }
      await this.stopHere(job, { reason: 'cancelled', detail: `cancelled through ${from}` });
      await this.flush(job);
      return true;
    });
  }

  /** A gateway's `job-update`. */
  onJobUpdate(u: z.output<typeof JobUpdate>): Promise<boolean> {
    return this.lock.run(u.job, async () => {
      const job = this.jobs.get(u.job);
      if (!job || u.attempt !== job.attempt || job.cluster !== u.cluster) return false;
      const entry = (state: HistoryEntry['state']): HistoryEntry => ({ state, at: u.at, node: this.me, cluster: u.cluster, attempt: u.attempt, ...(u.detail ? { detail: u.detail } : {}) });
      let lines: MeteringLineT[] = [];
      if (u.state === 'running') {
        applyEntry(job, entry('running'));
      } else if (u.state === 'finished' || u.state === 'failed' || u.state === 'cancelled') {
        lines = this.meter(job, Date.parse(u.at));
        this.view.scheduler.release(job.id);
        this.view.adjust(u.cluster);
        applyEntry(job, entry(u.state));
        this.d.emit(u.state === 'finished' ? 'job.finish' : u.state === 'failed' ? 'job.fail' : 'job.kill', { subject: job.id, severity: u.state === 'failed' ? 'warning' : 'info', data: { cluster: u.cluster } });
        this.jobs.delete(job.id);
        this.wakeQueue();
      } else if (u.state === 'refused') {
        lines = this.meter(job, Date.parse(u.at));
        await this.replace(job, { reason: `gateway refused on ${u.cluster}: ${u.detail ?? 'no reason given'}`, excludeClusters: [u.cluster], exclude: [] });
      }
      await this.flush(job, lines);
      return true;
    });
  }

  /** A child's scheduling summary (also its heartbeat). */
  onSummary(w: WireSchedulingSummary, from: string): void {
    const prev = this.children.get(from);
    this.children.set(from, { summary: summaryFromWire({ ...w, node: from }), at: this.now(), down: false });
    if (prev?.down) {
      this.d.log?.info({ child: from }, 'child reporting again');
      for (const c of this.owed.get(from) ?? []) void this.d.peers.cancel(from, c);
      this.owed.delete(from);
    }
  }

  /** Metering lines matching a query, with totals. */
  async metering(q: Parameters<SchedulingDeps['store']['metering']>[0]): Promise<{ lines: MeteringLineT[]; totals: ReturnType<typeof totals> }> {
    const lines = await this.d.store.metering(q);
    return { lines, totals: totals(lines) };
  }

  /** Jobs in flight and counters, for the /monitor snapshot. */
  snapshot(): { jobs: { id: string; tenant: string; state: JobRecord['state']; from: string | null; cluster: string | null; to: string | null }[]; jobsByState: Record<string, number>; p50Ms: number | null; p99Ms: number | null } {
    const jobs = [...this.jobs.values()].filter((j) => j.origin === this.me || j.owner === this.me);
    const jobsByState: Record<string, number> = {};
    for (const j of jobs) jobsByState[j.state] = (jobsByState[j.state] ?? 0) + 1;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null);
    return {
      jobs: jobs.map((j) => ({ id: j.id, tenant: j.tenant, state: j.state, from: j.template.constraints.userProvince ?? null, cluster: j.cluster, to: j.cluster ? (this.view.place(j.cluster)?.province ?? null) : null })),
      jobsByState, p50Ms: q(0.5), p99Ms: q(0.99),
    };
  }

  // ── placement ───────────────────────────────────────────────────────────────

  private async placeOrQueue(job: JobRecord, how: PlaceHow): Promise<void> {
    this.lastTry.set(job.id, this.now());
    const r = await this.place(job, how);
    if (r.ok) return;
    const why = r.refusals.map((x) => `${x.node}: ${x.reason}`).join('; ');
    this.record(job, { state: 'queued', node: this.me, detail: why.slice(0, 1900) });
    this.d.emit('job.queue', { subject: job.id, data: { refusals: r.refusals } });
  }

  /**
   * Local clusters, then child subtrees (best summary first, owner confirms), then the parent. Latency-tolerant work
   * goes to the parent first (东数西算): the ancestors see every subtree's summary and may send it to cheaper, greener
   * western hubs; if they find nothing better it comes back here.
   */
  private async place(job: JobRecord, how: PlaceHow): Promise<Placed> {
    const refusals: Refusal[] = [];
    const parentFirst = this.d.parent;
    const westward = job.template.latencyTolerant && how.allowUp && parentFirst !== null && !how.exclude.includes(parentFirst);
    if (westward) {
      this.record(job, { state: 'escalated', node: this.me, detail: `to ${parentFirst}: latency-tolerant work is offered to the whole hierarchy first (东数西算)` });
      this.emitWithSave(job, 'job.escalate', { subject: job.id, data: { to: parentFirst, reason: 'latency-tolerant (东数西算)' } });
      const a = await this.d.peers.place(parentFirst, this.ask(job, { direction: 'up', exclude: [...new Set([...how.exclude, this.me])], excludeClusters: how.excludeClusters }));
      if (a.ok) return this.adopt(job, a, parentFirst);
      refusals.push(...a.refusals);
      how = { ...how, allowUp: false };
    }
    const local = await this.placeLocal(job, how.excludeClusters);
    if (local.ok) return local;
    refusals.push({ node: this.me, reason: local.reason });
    const exclude = [...new Set([...how.exclude, this.me])];
    const task = toTask(job.template, { id: job.id, tenant: job.tenant });
    const decision = chooseSubtree(this.liveChildren().filter((c) => !exclude.includes(c.prefix)), task);
    for (const x of decision.excluded) refusals.push({ node: x.prefix, reason: x.reason });
    for (const c of decision.ranked) {
      this.record(job, { state: 'scheduled', node: this.me, detail: `subtree ${c.prefix} (rank ${c.rank}, score ${c.score.toFixed(2)}, est. ${c.estimatedCostYuan.toFixed(2)} 元${c.western ? ', west' : ''})` });
      this.emitWithSave(job, 'job.schedule', { subject: job.id, data: { subtree: c.prefix, ranked: decision.ranked.map((r) => r.prefix), excluded: decision.excluded } });
      const a = await this.d.peers.place(c.prefix, this.ask(job, { direction: 'down', exclude, excludeClusters: how.excludeClusters }));
      if (a.ok) return this.adopt(job, a, c.prefix);
      refusals.push(...a.refusals);
      this.d.emit('job.schedule', { subject: job.id, severity: 'warning', data: { subtree: c.prefix, refused: a.summary } });
    }
    const parent = this.d.parent;
    if (how.allowUp && parent && !exclude.includes(parent)) {
      this.record(job, { state: 'escalated', node: this.me, detail: `to ${parent}: ${local.reason}`.slice(0, 1900) });
      this.emitWithSave(job, 'job.escalate', { subject: job.id, data: { to: parent, reason: local.reason } });
      const a = await this.d.peers.place(parent, this.ask(job, { direction: 'up', exclude, excludeClusters: how.excludeClusters }));
      if (a.ok) return this.adopt(job, a, parent);
      refusals.push(...a.refusals);
    }
    return { ok: false, refusals };
  }

  private ask(job: JobRecord, o: { direction: 'up' | 'down'; exclude: readonly string[]; excludeClusters: readonly string[] }) {
    return { job: job.id, origin: job.origin, tenant: job.tenant, template: job.template, attempt: job.attempt, direction: o.direction, exclude: [...o.exclude], excludeClusters: [...o.excludeClusters] };
  }

  private adopt(job: JobRecord, a: Extract<PlacementResult, { ok: true }>, via: string): Placed {
    for (const e of a.history) applyEntry(job, e);
    job.downstream = via; job.owner = a.owner; job.cluster = a.cluster; job.costYuan = a.costYuan;
    return { ok: true, owner: a.owner, cluster: a.cluster, costYuan: a.costYuan };
  }

  /** Reserve on the best local cluster (preempting lower priority), confirm with its gateway, commit, dispatch. */
  private async placeLocal(job: JobRecord, excludeClusters: readonly string[]): Promise<{ ok: true; owner: string; cluster: string; costYuan: number } | { ok: false; reason: string }> {
    const s = this.view.scheduler;
    if (s.index.size === 0) return { ok: false, reason: 'no clusters registered here' };
    const task = toTask(job.template, { id: job.id, tenant: job.tenant });
    const exclude = [...excludeClusters];
    let last = 'no cluster fits';
    for (let tries = 0; tries < 4; tries++) {
      s.release(job.id);
      const r = s.reserve(task, { exclude });
      if (!r.ok) { s.release(job.id); return { ok: false, reason: r.reason ?? last }; }
      for (const v of r.preempted) await this.evict(v, job);
      const cluster = r.slices[0]!.clusterId;
      this.record(job, { state: 'scheduled', node: this.me, cluster, detail: `cost ${r.costYuan.toFixed(2)} 元${r.preempted.length ? `; preempts ${r.preempted.join(', ')}` : ''}` });
      this.emitWithSave(job, 'job.schedule', { subject: job.id, data: { cluster, costYuan: r.costYuan, preempted: r.preempted, slices: r.slices.map((x) => ({ cluster: x.clusterId, replicas: x.replicas })) } });
      const refused = await this.dispatchSlices(job, r.slices);
      if (refused === null) {
        s.commit(job.id);
        if (job.preferredCluster && job.preferredCluster !== cluster && this.view.has(job.preferredCluster)) {
          // Re-placed: failback must aim at the first cluster, which the scheduler only knows through resume.
          s.release(job.id);
          s.resume(task, { clusterId: cluster, preferredClusterId: job.preferredCluster, lastMovedAt: this.now(), costYuan: r.costYuan });
        }
        for (const x of r.slices) this.view.adjust(x.clusterId);
        job.owner = this.me; job.downstream = null; job.costYuan = r.costYuan;
        return { ok: true, owner: this.me, cluster, costYuan: r.costYuan };
      }
      s.release(job.id);
      exclude.push(refused.cluster);
      last = `gateway of ${refused.cluster} refused: ${refused.reason}`;
      this.d.emit('job.schedule', { subject: job.id, severity: 'warning', data: { cluster: refused.cluster, refused: refused.reason } });
    }
    return { ok: false, reason: last };
  }

  /** Dispatches each slice; the gateway's acceptance is the owner's confirmation. Returns the first refusal. */
  private async dispatchSlices(job: JobRecord, slices: readonly { clusterId: string; replicas: number }[]): Promise<{ cluster: string; reason: string } | null> {
    const sent: string[] = [];
    for (const sl of slices) {
      const ack = await this.withTimeout(this.d.gateways.dispatch({ protocol: PROTOCOL_VERSION, seq: 0, job: job.id, cluster: sl.clusterId, attempt: job.attempt, template: job.template, replicas: sl.replicas, at: formatTime(this.now()) }));
      if (!ack.ok) {
        for (const c of sent) void this.d.gateways.cancel(c, { protocol: PROTOCOL_VERSION, seq: 0, job: job.id, reason: 'replaced', at: formatTime(this.now()) });
        return { cluster: sl.clusterId, reason: ack.error.message };
      }
      sent.push(sl.clusterId);
    }
    const at = formatTime(this.now());
    for (const c of sent) this.record(job, { state: 'confirmed', node: this.me, cluster: c, at, detail: 'gateway accepted; capacity committed' });
    for (const c of sent) {
      this.record(job, { state: 'dispatched', node: this.me, cluster: c, at });
      this.emitWithSave(job, 'job.dispatch', { subject: job.id, data: { cluster: c, attempt: job.attempt } });
    }
    return null;
  }

  private withTimeout<T extends { ok: boolean }>(p: Promise<T>): Promise<T | { ok: false; error: { code: string; message: string } }> {
    return Promise.race([p, new Promise<{ ok: false; error: { code: string; message: string } }>((resolve) => setTimeout(() => resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `no acknowledgement within ${this.options.ackTimeoutMs} ms` } }), this.options.ackTimeoutMs).unref())]);
  }

  /** A victim of preemption: stopped on its gateway, metered, then re-placed (or queued). */
  private async evict(victimId: string, by: JobRecord): Promise<void> {
    this.view.scheduler.release(victimId);
    const v = this.jobs.get(victimId);
    if (!v || isFinal(v.state)) return;
    const lines = this.meter(v, this.now());
    const cluster = v.cluster;
    if (cluster) void this.d.gateways.cancel(cluster, { protocol: PROTOCOL_VERSION, seq: 0, job: v.id, reason: 'preempted', at: formatTime(this.now()) });
    this.record(v, { state: 'preempted', node: this.me, ...(cluster ? { cluster } : {}), detail: `by ${by.id} (priority ${by.template.priority} > ${v.template.priority})` });
    this.d.emit('job.evict', { subject: v.id, severity: 'warning', data: { cluster, by: by.id } });
    await this.flush(v, lines);
    this.lastTry.set(v.id, 0);
    setImmediate(() => void this.retry(v.id));
  }

  /** Re-places a job (its cluster or subtree failed, or a gateway refused it). */
  private async replace(job: JobRecord, o: { reason: string; excludeClusters: readonly string[]; exclude: readonly string[] }): Promise<void> {
    const from = job.cluster ?? job.downstream ?? undefined;
    if (job.owner === this.me) this.view.scheduler.release(job.id);
    this.record(job, { state: 'replaced', node: this.me, ...(job.cluster ? { cluster: job.cluster } : {}), detail: o.reason });
    this.d.emit('job.replace', { subject: job.id, severity: 'warning', data: { from, reason: o.reason } });
    job.downstream = null;
    await this.placeOrQueue(job, { exclude: o.exclude, excludeClusters: o.excludeClusters, allowUp: job.upstream === null });
  }

  /** Final stop at this node (cancel): gateway or downstream told, state recorded. */
  private async stopHere(job: JobRecord, o: { reason: 'cancelled'; detail: string }): Promise<void> {
    let lines: MeteringLineT[] = [];
    if (job.owner === this.me && job.cluster) lines = await this.stopRun(job, 'cancelled');
    else if (job.downstream) await this.d.peers.cancel(job.downstream, { job: job.id, reason: 'cancelled', attempt: job.attempt, at: formatTime(this.now()) });
    this.record(job, { state: 'cancelled', node: this.me, detail: o.detail });
    this.d.emit('job.kill', { subject: job.id, data: { by: o.detail } });
    this.jobs.delete(job.id);
    this.pendingLines.set(job.id, lines);
  }

  private readonly pendingLines = new Map<string, MeteringLineT[]>();
  /** Events of a placement, emitted with the job's save: one commit for both (the event log is in the same database). */
  private readonly pendingEvents = new Map<string, Parameters<SchedulingDeps['emit']>[]>();

  private emitWithSave(job: JobRecord, ...e: Parameters<SchedulingDeps['emit']>): void {
    const list = this.pendingEvents.get(job.id) ?? [];
    list.push(e);
    this.pendingEvents.set(job.id, list);
  }

  private emitPending(job: JobRecord): void {
    for (const e of this.pendingEvents.get(job.id) ?? []) this.d.emit(...e);
    this.pendingEvents.delete(job.id);
  }

  private async stopRun(job: JobRecord, reason: 'cancelled' | 'replaced'): Promise<MeteringLineT[]> {
    const cluster = job.cluster!;
    const lines = this.meter(job, this.now());
    void this.d.gateways.cancel(cluster, { protocol: PROTOCOL_VERSION, seq: 0, job: job.id, reason, at: formatTime(this.now()) });
    this.view.scheduler.release(job.id);
    this.view.adjust(cluster);
    this.wakeQueue();
    return lines;
  }

  /** The metering line of the job's current run on this node's cluster (none when it did not run here). */
  private meter(job: JobRecord, end: number): MeteringLineT[] {
    if (job.owner !== this.me || !job.cluster || job.dispatchedAt === null) return [];
    const running = job.history.find((h) => h.state === 'running' && h.attempt === job.attempt && h.cluster === job.cluster);
    const from = running ? Date.parse(running.at) : job.dispatchedAt;
    const facts = this.view.factsOf(job.cluster);
    return [meterRun({ job: job.id, tenant: job.tenant, provider: facts?.provider ?? job.cluster, cluster: job.cluster, template: job.template, price: this.view.priceOf(job.cluster), from, to: end })];
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────

  private record(job: JobRecord, e: Omit<HistoryEntry, 'at' | 'attempt'> & { at?: string }): void {
    applyEntry(job, { ...e, at: e.at ?? formatTime(this.now()), attempt: job.attempt });
  }

  /** Saves the job, stores metering lines, and relays what is new toward the origin. */
  private async flush(job: JobRecord, lines: MeteringLineT[] = []): Promise<void> {
    const all = [...lines, ...(this.pendingLines.get(job.id) ?? [])];
    this.pendingLines.delete(job.id);
    this.emitPending(job);
    await this.d.store.save(job);
    for (const l of all) await this.d.store.addMetering(l);
    const from = this.relayed.get(job.id) ?? 0;
    const fresh = job.history.slice(from);
    // A finished job's bookkeeping goes (a late duplicate relay re-sends its history once; receivers ignore repeats).
    if (isFinal(job.state)) { this.relayed.delete(job.id); this.lastTry.delete(job.id); } else this.relayed.set(job.id, job.history.length);
    if (job.upstream && (fresh.length > 0 || all.length > 0)) {
      const entries = fresh.length > 0 ? fresh : job.history.slice(-1);
      for (let i = 0; i < entries.length; i += 100) await this.d.peers.relay(job.upstream, { job: job.id, entries: entries.slice(i, i + 100), ...(i === 0 && all.length ? { metering: all } : {}) });
    }
  }

  private tenantUsage(tenant: string): { cpuCores: number; memoryGib: number; cards: number } {
    const u = { cpuCores: 0, memoryGib: 0, cards: 0 };
    for (const j of this.jobs.values()) {
      if (j.tenant !== tenant || j.origin !== this.me || isFinal(j.state)) continue;
      const r = j.template.replicas, dm = j.template.demand;
      u.cpuCores += r * dm.cpuCores; u.memoryGib += r * dm.memoryGib; u.cards += r * (dm.accelerators?.count ?? 0);
    }
    return u;
  }

  private liveChildren(): SubtreeSummary[] {
    return [...this.children.values()].filter((c) => !c.down).map((c) => c.summary);
  }

  // ── background: liveness, failover, failback, queue, summaries ──────────────

  private wakeQueue(): void {
    for (const j of this.jobs.values()) if (j.state === 'queued') this.lastTry.set(j.id, 0);
  }

  /** One round of background work (also callable from tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const id of this.view.silent(this.options.downAfterMs)) await this.clusterDown(id, `cluster ${id} stopped reporting`);
      const now = this.now();
      for (const [prefix, c] of this.children) {
        if (c.down || now - c.at < this.options.childDownAfterMs) continue;
        c.down = true;
        this.d.log?.warn({ child: prefix }, 'child stopped reporting; re-placing its jobs');
        for (const j of [...this.jobs.values()].filter((x) => x.downstream === prefix && !isFinal(x.state))) {
          await this.lock.run(j.id, async () => {
            if (j.downstream !== prefix || isFinal(j.state)) return;
            this.owed.set(prefix, [...(this.owed.get(prefix) ?? []), { job: j.id, reason: 'replaced', attempt: j.attempt, at: formatTime(this.now()) }]);
            await this.replace(j, { reason: `node ${prefix} stopped reporting`, excludeClusters: [], exclude: [prefix] });
            await this.flush(j);
          });
        }
      }
      for (const m of this.view.scheduler.failback()) await this.failback(m.jobId, m.from, m.to!);
      for (const j of [...this.jobs.values()]) {
        if (j.state !== 'queued' || now - (this.lastTry.get(j.id) ?? 0) < this.options.retryMs) continue;
        await this.retry(j.id);
      }
    } catch (e) {
      this.d.log?.warn({ err: e }, 'scheduling tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Marks a cluster down and re-places the jobs it ran. */
  async clusterDown(id: string, reason: string): Promise<void> {
    this.view.markDown(id);
    for (const j of [...this.jobs.values()].filter((x) => x.owner === this.me && x.cluster === id && !isFinal(x.state))) {
      await this.lock.run(j.id, async () => {
        if (j.cluster !== id || isFinal(j.state)) return;
        const lines = this.meter(j, this.now());
        await this.replace(j, { reason, excludeClusters: [id], exclude: [] });
        await this.flush(j, lines);
      });
    }
  }

  private async failback(jobId: string, from: string, to: string): Promise<void> {
    await this.lock.run(jobId, async () => {
      const j = this.jobs.get(jobId);
      if (!j || isFinal(j.state) || j.cluster !== from) return;
      const lines = this.meter(j, this.now());
      void this.d.gateways.cancel(from, { protocol: PROTOCOL_VERSION, seq: 0, job: j.id, reason: 'replaced', at: formatTime(this.now()) });
      this.record(j, { state: 'replaced', node: this.me, cluster: from, detail: `failback to preferred cluster ${to}` });
      this.d.emit('job.replace', { subject: j.id, data: { from, to, failback: true } });
      this.record(j, { state: 'scheduled', node: this.me, cluster: to, detail: 'failback' });
      const slices = this.view.scheduler.job(j.id)?.slices ?? [];
      const refused = await this.dispatchSlices(j, slices.map((s) => ({ clusterId: s.clusterId, replicas: s.replicas })));
      if (refused) {
        this.view.scheduler.release(j.id);
        await this.placeOrQueue(j, { exclude: [], excludeClusters: [to], allowUp: j.upstream === null });
      } else {
        j.owner = this.me;
      }
      this.view.adjust(from); this.view.adjust(to);
      await this.flush(j, lines);
    });
  }

  private async retry(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      const j = this.jobs.get(id);
      if (!j || isFinal(j.state) || !['queued', 'preempted', 'replaced', 'submitted'].includes(j.state)) return;
      await this.placeOrQueue(j, { exclude: [], excludeClusters: [], allowUp: j.upstream === null });
      await this.flush(j);
    });
  }

  private async pushSummaries(): Promise<void> {
    const parts = [this.view.summary(this.me), ...this.liveChildren()];
    const merged = mergeSummaries(this.me, parts);
    await this.d.peers.summary(summaryToWire(merged, this.now())).catch(() => undefined);
  }

  /** This subtree's metering totals for the parent. */
  async meteringSummary(): Promise<{ node: string; at: string } & ReturnType<typeof totals>> {
    return { node: this.me, at: formatTime(this.now()), ...(await this.d.store.totals()) };
  }
}
