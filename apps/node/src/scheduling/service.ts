import { quotaBreach } from '@cpnet/scheduler';
import {
  formatTime,
  PROTOCOL_VERSION,
  type Ceiling,
  type JobCancelRelay,
  type JobRelay,
  type JobUpdate,
  type PlacementRequest,
  type SelectionRelay,
  type TaskTemplate,
  type ClusterReport,
  type SelectionAnswer,
  type SchedulingSummary,
  type JobHistoryEntry,
  type PlacementAnswer,
  type MeteringLine,
} from '@cpnet/protocol';
import { stopwatch } from '@cpnet/kernel/system';
import { applyEntry, isFinal, newJob, tenantKey, type JobRecord } from './job-machine.ts';
import { mergeSummaries, summaryFromWire, summaryToWire, toTask, type ClusterFacts } from './mapping.ts';
import { observedTime, totals } from './metering.ts';
import { beyondCeiling, ceilingOf, raise } from './ceiling.ts';
import { KeyedLock } from './locks.ts';
import { selectAcross } from './selection.ts';
import { PlacementCore } from './placement.ts';
import { traceparentOf } from '../monitoring/trace.ts';
import type { SchedulingDeps } from './ports.ts';

/** Thrown when a tenant's quota would be broken (the route answers 422). */
export class QuotaExceeded extends Error {}

/** Thrown when no cluster in the hierarchy could ever hold a job (the route answers 422 with the reason). */
export class NeverPlaceable extends Error {}

/**
 * Scheduling at one node (互联调度): places jobs on its clusters, in child subtrees or through its parent; dispatches
 * to gateways; tracks every job to one final state; re-places on failure; fails back; preempts; meters.
 */
export class SchedulingService extends PlacementCore {
  private readonly lock = new KeyedLock();
  /**
   * Cancellations for children taken as down, sent when they report again (not through the outbox, whose queue a
   * dead receiver would block).
   */
  private readonly owed = new Map<string, { job: string; reason: 'replaced'; attempt: number; at: string }[]>();
  private readonly timers: (() => void)[] = [];
  /** Children's ceilings (kept while a child is down: it may come back). */
  private readonly childCeilings = new Map<string, Ceiling>();
  /** The hierarchy's ceiling as the parent answered it. */
  private above: Ceiling | null = null;
  private ticking = false;
  /** Told when a child goes silent (no summary for `childDownAfterMs`) and when it reports again. */
  onChildHealth?: (child: string, o: { down: boolean; reason: string }) => void;
  /** Submit → dispatched latencies of jobs submitted here (wall ms), the latest 1,000. */
  private readonly latencies: number[] = [];

  /** Loads unfinished jobs from the store (a restart resumes them) and starts the timers. */
  async start(): Promise<void> {
    for (const j of await this.d.store.active()) {
      this.jobs.set(j.id, j);
      this.relayed.set(j.id, j.history.length);
      if (j.origin === this.me) this.trackTenant(j);
    }
    const { clock } = this.d;
    this.timers.push(clock.setInterval(() => void this.tick(), this.options.tickMs));
    if (this.d.parent) this.timers.push(clock.setInterval(() => void this.pushSummaries(), this.options.summaryMs));
  }

  stop(): void {
    for (const stop of this.timers.splice(0)) stop();
  }

  /** A job this node holds in memory (unfinished, any role). */
  job(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  /** A page of the jobs submitted here, in id order; the ones in flight as held in memory (newer than a pending save). */
  async list(q: { tenant?: string; after?: string; limit: number }): Promise<JobRecord[]> {
    const rows = await this.d.store.list({ ...q, origin: this.me });
    return rows.map((r) => this.jobs.get(r.id) ?? r);
  }

  /** A job from memory or, when finished, from the store. */
  async stored(id: string): Promise<JobRecord | null> {
    return this.jobs.get(id) ?? (await this.d.store.get(id));
  }

  // ── clusters ────────────────────────────────────────────────────────────────

  /** A cluster registered here, or its lifecycle changed; jobs it ran before a restart are put back. */
  upsertCluster(facts: ClusterFacts): void {
    this.view.upsert(facts);
    for (const j of this.jobs.values()) {
      if (j.owner === this.me && j.cluster === facts.id && !isFinal(j.state) && !this.view.scheduler.job(j.id)) {
        this.view.scheduler.resume(toTask(j.template, { id: j.id, tenant: tenantKey(j.origin, j.tenant) }), {
          clusterId: facts.id,
          preferredClusterId: j.preferredCluster ?? undefined,
          costYuan: j.costYuan,
        });
      }
    }
    this.view.adjust(facts.id);
  }

  /** A gateway's report: capacity and liveness of its clusters. */
  onReport(clusters: readonly ClusterReport[], at: number): void {
    for (const c of clusters) this.view.report(c, at);
  }

  // ── selections ──────────────────────────────────────────────────────────────

  /** `POST /cpn/v1/selections`: dry run, across the hierarchy when the local view cannot satisfy the template. */
  select(template: TaskTemplate, topK: number): Promise<SelectionAnswer> {
    return selectAcross(this.selectionContext(), { template, topK, exclude: [], allowUp: true });
  }

  /** A selection relayed by the parent (down) or a child (up). */
  onSelectionRelay(body: SelectionRelay): Promise<SelectionAnswer> {
    return selectAcross(this.selectionContext(), {
      template: body.template,
      topK: body.topK,
      exclude: body.exclude,
      allowUp: body.direction === 'up',
    });
  }

  private selectionContext() {
    return {
      code: this.me,
      parent: this.d.parent,
      view: this.view,
      peers: this.d.peers,
      children: () => this.liveChildren(),
    };
  }

  // ── jobs ────────────────────────────────────────────────────────────────────

  /** `POST /cpn/v1/jobs`: quota checked here, then placed locally or escalated; answers once dispatched or queued. */
  async submit(template: TaskTemplate, tenant: string): Promise<JobRecord> {
    const quota = this.options.quotas[tenant] ?? this.options.defaultQuota;
    // Usage is summed over the tenant's unfinished jobs submitted here (an index per tenant keeps it cheap).
    const task = toTask(template, { id: 'quota', tenant });
    // The fast bound first; a breach is confirmed on the exact count (finished jobs dropped).
    const breach =
      quota && quotaBreach(task, this.tenantUsage(tenant), quota)
        ? quotaBreach(task, this.tenantUsage(tenant, true), quota)
        : null;
    if (breach) throw new QuotaExceeded(breach);
    const id = await this.d.newJobId();
    const job = newJob({ id, tenant, origin: this.me, template, at: this.now(), node: this.me });
    this.jobs.set(id, job);
    this.trackTenant(job);
    this.emitWithSave(job, 'job.submit', { subject: id, data: this.jobData(job) });
    this.d.log?.info({ job: id, traceparent: traceparentOf(id, this.me) }, 'job submitted');
    // Wall time: the latency of the node's own work, a performance figure (not a scenario duration).
    const elapsed = stopwatch();
    // The answer is the job as placement left it (a gateway's `running` may follow at once).
    const answer = await this.lock.run(id, async () => {
      await this.placeOrQueue(job, { exclude: [], excludeClusters: [], allowUp: true });
      // Not placed, and bigger than the largest cluster anywhere in reach: it would be retried forever. Judged only
      // after placement failed, so a ceiling heard a summary interval ago cannot refuse what could be placed now.
      const ceiling = job.state === 'queued' ? this.hierarchyCeiling() : null;
      const never = ceiling ? beyondCeiling(template, ceiling) : null;
      if (never) {
        this.record(job, { state: 'failed', node: this.me, detail: `no cluster could ever hold this job: ${never}` });
        this.d.emit('job.fail', {
          subject: job.id,
          severity: 'warning',
          data: this.jobData(job, { reason: 'never-placeable' }),
        });
        this.jobs.delete(job.id);
      }
      await this.flush(job);
      if (never) throw new NeverPlaceable(`no cluster in the hierarchy could ever hold this job (${job.id}): ${never}`);
      return structuredClone(job);
    });
    if (answer.state === 'dispatched') {
      this.latencies.push(elapsed());
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
  async onPlacement(body: PlacementRequest, from: string): Promise<PlacementAnswer> {
    // The caller's span is this hop's parent: the log line ties the two nodes' parts of the trace together.
    this.d.log?.info(
      { job: body.job, from, parentTraceparent: body.traceparent, traceparent: traceparentOf(body.job, this.me) },
      'placement asked',
    );
    return this.lock.run(body.job, async () => {
      let job = this.jobs.get(body.job);
      if (!job || isFinal(job.state)) {
        job = newJob({
          id: body.job,
          tenant: body.tenant,
          origin: body.origin,
          template: body.template,
          at: this.now(),
          node: this.me,
          upstream: from,
          attempt: body.attempt,
        });
      } else {
        job.upstream = from;
        if (body.attempt > job.attempt) job.attempt = body.attempt;
      }
      const before = job.history.length;
      const r = await this.place(job, {
        exclude: body.exclude,
        excludeClusters: body.excludeClusters,
        allowUp: body.direction === 'up',
      });
      if (!r.ok) {
        this.emitPending(job);
        return {
          ok: false,
          refusals: r.refusals,
          summary: r.refusals.map((x) => `${x.node}: ${x.reason}`).join('; ') || 'no subtree could place the job',
        };
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
  onRelay(body: JobRelay): Promise<boolean> {
    return this.lock.run(body.job, async () => {
      const job = this.jobs.get(body.job) ?? (await this.d.store.get(body.job));
      if (!job) return false;
      for (const l of body.metering ?? []) await this.d.store.addMetering(l);
      let any = false;
      for (const e of body.entries) {
        if (!applyEntry(job, e).appended) continue;
        any = true;
        // The lifecycle reaches the origin's monitor: each step that happened below is an event here too.
        this.emitRelayed(job, e, (...x) => this.d.emit(...x));
      }
      if (isFinal(job.state)) this.jobs.delete(job.id);
      if (any || (body.metering?.length ?? 0) > 0) await this.flush(job, body.metering ?? []);
      return true;
    });
  }

  /** A cancellation relayed from above (origin → owner). */
  onCancelRelay(body: JobCancelRelay, from: string): Promise<boolean> {
    return this.lock.run(body.job, async () => {
      const job = this.jobs.get(body.job);
      if (!job || isFinal(job.state)) return false;
      if (body.reason === 'replaced') {
        // The node above re-placed the job elsewhere (this node was taken as down): stop it here, quietly.
        if (job.owner === this.me && job.cluster) await this.stopRun(job, 'replaced');
        job.upstream = null;
        this.jobs.delete(job.id);
        applyEntry(job, {
          state: 'cancelled',
          at: formatTime(this.now()),
          node: this.me,
          detail: `re-placed by ${from}`,
        });
        await this.d.store.save(job);
        return true;
      }
      await this.stopHere(job, { reason: 'cancelled', detail: `cancelled through ${from}` });
      await this.flush(job);
      return true;
    });
  }

  /**
   * A gateway's `job-update`: applied (true), not about a run held here (false), or refused with the reason when its
   * time is implausible. The provider's time is only trusted inside what this node saw (from the dispatch to the
   * update's arrival), so a provider cannot bill hours that did not pass here.
   */
  onJobUpdate(u: JobUpdate): Promise<boolean | { refused: string }> {
    return this.lock.run(u.job, async () => {
      const job = this.jobs.get(u.job);
      if (!job || u.attempt !== job.attempt || job.cluster !== u.cluster) return false;
      const observed = { dispatchedAt: job.dispatchedAt, arrivedAt: this.now() };
      const when = observedTime(Date.parse(u.at), observed);
      if (!when.ok) {
        this.d.emit('security.alert', {
          subject: job.id,
          severity: 'warning',
          data: {
            kind: 'implausible-time',
            source: u.cluster,
            target: job.id,
            threat: true,
            cluster: u.cluster,
            state: u.state,
            claimed: u.at,
            reason: when.error,
          },
        });
        return { refused: when.error };
      }
      const entry = (state: JobHistoryEntry['state']): JobHistoryEntry => ({
        state,
        at: formatTime(when.value),
        node: this.me,
        cluster: u.cluster,
        attempt: u.attempt,
        ...(u.detail ? { detail: u.detail } : {}),
      });
      let lines: MeteringLine[] = [];
      if (u.state === 'running') {
        if (applyEntry(job, entry('running')).appended)
          this.d.emit('job.run', { subject: job.id, data: this.jobData(job) });
      } else if (u.state === 'finished' || u.state === 'failed' || u.state === 'cancelled') {
        lines = this.meter(job, when.value);
        this.view.scheduler.release(job.id);
        this.view.adjust(u.cluster);
        applyEntry(job, entry(u.state));
        this.d.emit(u.state === 'finished' ? 'job.finish' : u.state === 'failed' ? 'job.fail' : 'job.kill', {
          subject: job.id,
          severity: u.state === 'failed' ? 'warning' : 'info',
          data: this.jobData(job),
        });
        this.jobs.delete(job.id);
        this.wakeQueue();
      } else if (u.state === 'refused') {
        lines = this.meter(job, when.value);
        await this.replace(job, {
          reason: `gateway refused on ${u.cluster}: ${u.detail ?? 'no reason given'}`,
          excludeClusters: [u.cluster],
          exclude: [],
        });
      }
      await this.flush(job, lines);
      return true;
    });
  }

  /** The largest cluster of this subtree per resource: its own clusters and its children's ceilings. */
  subtreeCeiling(): Ceiling {
    const c = ceilingOf(this.view.clusters());
    for (const x of this.childCeilings.values()) raise(c, x);
    return c;
  }

  /**
   * The largest cluster per resource of the whole hierarchy as this node last heard it (its subtree, and what the
   * parent answered to its last summary); null until it has heard from its parent or while no cluster is known.
   */
  hierarchyCeiling(): Ceiling | null {
    if (this.d.parent && !this.above) return null;
    const c = this.subtreeCeiling();
    if (this.above) raise(c, this.above);
    return c.cpuCores > 0 ? c : null;
  }

  /** A child's scheduling summary (also its heartbeat). */
  onSummary(w: SchedulingSummary, from: string): void {
    if (w.ceiling) this.childCeilings.set(from, w.ceiling);
    const prev = this.children.get(from);
    this.children.set(from, { summary: summaryFromWire({ ...w, node: from }), at: this.now(), down: false });
    if (prev?.down) {
      this.d.log?.info({ child: from }, 'child reporting again');
      this.onChildHealth?.(from, { down: false, reason: `${from} sends its scheduling summary again` });
      for (const c of this.owed.get(from) ?? []) void this.d.peers.cancel(from, c);
      this.owed.delete(from);
    }
  }

  /** Metering lines matching a query, with totals. */
  async metering(
    q: Parameters<SchedulingDeps['store']['metering']>[0],
  ): Promise<{ lines: MeteringLine[]; totals: ReturnType<typeof totals> }> {
    const lines = await this.d.store.metering(q);
    return { lines, totals: totals(lines) };
  }

  /** Jobs in flight and counters, for the /monitor snapshot. */
  snapshot(): {
    jobs: {
      id: string;
      tenant: string;
      state: JobRecord['state'];
      from: string | null;
      cluster: string | null;
      to: string | null;
      origin: string;
      owner: string | null;
    }[];
    jobsByState: Record<string, number>;
    p50Ms: number | null;
    p99Ms: number | null;
  } {
    const jobs = [...this.jobs.values()].filter((j) => j.origin === this.me || j.owner === this.me);
    const jobsByState: Record<string, number> = {};
    for (const j of jobs) jobsByState[j.state] = (jobsByState[j.state] ?? 0) + 1;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null;
    return {
      jobs: jobs.map((j) => ({
        id: j.id,
        tenant: tenantKey(j.origin, j.tenant),
        state: j.state,
        from: j.template.constraints.userProvince ?? null,
        cluster: j.cluster,
        to: j.cluster ? (this.view.place(j.cluster)?.province ?? null) : null,
        origin: j.origin,
        owner: j.owner,
      })),
      jobsByState,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
    };
  }

  /** One round of background work (also callable from tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const id of this.view.silent(this.options.downAfterMs))
        await this.clusterDown(id, `cluster ${id} stopped reporting`);
      const now = this.now();
      for (const [prefix, c] of this.children) {
        if (c.down || now - c.at < this.options.childDownAfterMs) continue;
        c.down = true;
        this.d.log?.warn({ child: prefix }, 'child stopped reporting; re-placing its jobs');
        this.onChildHealth?.(prefix, {
          down: true,
          reason: `no scheduling summary from ${prefix} for ${this.options.childDownAfterMs} ms`,
        });
        for (const j of [...this.jobs.values()].filter((x) => x.downstream === prefix && !isFinal(x.state))) {
          await this.lock.run(j.id, async () => {
            if (j.downstream !== prefix || isFinal(j.state)) return;
            this.owed.set(prefix, [
              ...(this.owed.get(prefix) ?? []),
              { job: j.id, reason: 'replaced', attempt: j.attempt, at: formatTime(this.now()) },
            ]);
            await this.replace(j, {
              reason: `node ${prefix} stopped reporting`,
              excludeClusters: [],
              exclude: [prefix],
            });
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
    for (const j of [...this.jobs.values()].filter(
      (x) => x.owner === this.me && x.cluster === id && !isFinal(x.state),
    )) {
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
      void this.d.gateways.cancel(from, {
        protocol: PROTOCOL_VERSION,
        seq: 0,
        job: j.id,
        reason: 'replaced',
        at: formatTime(this.now()),
      });
      this.record(j, {
        state: 'replaced',
        node: this.me,
        cluster: from,
        detail: `failback to preferred cluster ${to}`,
      });
      this.d.emit('job.replace', {
        subject: j.id,
        data: this.jobData(j, { movedFrom: from, movedTo: to, failback: true }),
      });
      this.record(j, { state: 'scheduled', node: this.me, cluster: to, detail: 'failback' });
      const slices = this.view.scheduler.job(j.id)?.slices ?? [];
      const refused = await this.dispatchSlices(
        j,
        slices.map((s) => ({ clusterId: s.clusterId, replicas: s.replicas })),
      );
      if (refused) {
        this.view.scheduler.release(j.id);
        await this.placeOrQueue(j, { exclude: [], excludeClusters: [to], allowUp: j.upstream === null });
      } else {
        j.owner = this.me;
      }
      this.view.adjust(from);
      this.view.adjust(to);
      await this.flush(j, lines);
    });
  }

  protected async retry(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      const j = this.jobs.get(id);
      if (!j || isFinal(j.state) || !['queued', 'preempted', 'replaced', 'submitted'].includes(j.state)) return;
      if (j.state === 'queued' && this.now() - j.submittedAt >= this.options.maxQueueMs) {
        // Not retried forever: what no cluster took within the maximum wait fails, with the last refusals.
        const last = j.history.at(-1)?.detail ?? 'no cluster could take it';
        this.record(j, {
          state: 'failed',
          node: this.me,
          detail: `queued longer than ${this.options.maxQueueMs} ms (scheduling.maxQueueMs): ${last}`.slice(0, 1900),
        });
        this.d.emit('job.fail', {
          subject: j.id,
          severity: 'warning',
          data: this.jobData(j, { reason: 'max-queue-wait' }),
        });
        this.jobs.delete(j.id);
        await this.flush(j);
        return;
      }
      await this.placeOrQueue(j, { exclude: [], excludeClusters: [], allowUp: j.upstream === null });
      await this.flush(j);
    });
  }

  private async pushSummaries(): Promise<void> {
    const parts = [this.view.summary(this.me), ...this.liveChildren()];
    const merged = mergeSummaries(this.me, parts);
    const body = { ...summaryToWire(merged, this.now()), ceiling: this.subtreeCeiling() };
    const above = await this.d.peers.summary(body).catch(() => null);
    if (above) this.above = above;
  }

  /** This subtree's metering totals for the parent. */
  async meteringSummary(): Promise<{ node: string; at: string } & ReturnType<typeof totals>> {
    return { node: this.me, at: formatTime(this.now()), ...(await this.d.store.totals()) };
  }
}
