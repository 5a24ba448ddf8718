import {
  formatTime,
  type JobCancelRelay,
  type JobRelay,
  type JobUpdate,
  type PlacementRequest,
  type SelectionRelay,
  type TaskTemplate,
  type ClusterReport,
  type SelectionAnswer,
  type JobHistoryEntry,
  type PlacementAnswer,
  type MeteringLine,
} from '@cpnet/protocol';
import { stopwatch } from '@cpnet/kernel/system';
import { applyEntry, isFinal, newJob, tenantKey, type JobRecord } from './job-machine.ts';
import { toTask, type ClusterFacts } from './mapping.ts';
import { observedTime, totals } from './metering.ts';
import { beyondCeiling } from './ceiling.ts';
import { selectAcross } from './selection.ts';
import { RecoveryCore } from './recovery.ts';
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
export class SchedulingService extends RecoveryCore {
  private readonly timers: (() => void)[] = [];
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
    // The one usage count (the library's tenantUsage): every unfinished job submitted here, queued ones whole, and
    // the submissions checked before this one that wait for their identifiers (`holdQuota`).
    const task = toTask(template, { id: 'quota', tenant: tenantKey(this.me, tenant) });
    const held = this.holdQuota(tenant, task, quota);
    if ('breach' in held) throw new QuotaExceeded(held.breach);
    let id: string;
    try {
      id = await this.d.newJobId();
    } finally {
      held.release(); // the job is tracked next, in this same turn
    }
    const job = newJob({ id, tenant, origin: this.me, template, at: this.now(), node: this.me });
    this.jobs.set(id, job);
    this.trackTenant(job);
    this.emitWithSave(job, 'job.submit', { subject: id, data: this.jobData(job) });
    this.d.log?.info({ job: id, traceparent: traceparentOf(id, this.me) }, 'job submitted');
    // Wall time: the latency of the node's own work, a performance figure (not a scenario duration).
    const elapsed = stopwatch();
    // The answer is the job as placement left it (a gateway's `running` may follow at once).
    // Jobs already wait for this node's capacity: the new one joins them and fair admission decides who goes first.
    const contended = this.fairWaiting().ids.size > 0;
    let answer = await this.lock.run(id, async () => {
      if (contended) {
        const detail = "fair admission: jobs already wait for this node's capacity; admitted in fair order";
        this.record(job, { state: 'queued', node: this.me, detail });
        this.d.emit('job.queue', {
          subject: job.id,
          data: this.jobData(job, { explanation: { chosen: null, rejected: [{ target: this.me, reason: detail }] } }),
        });
      } else await this.placeOrQueue(job, { exclude: [], excludeClusters: [], allowUp: true });
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
    if (contended) {
      await this.admitRound();
      answer = structuredClone(this.jobs.get(id) ?? answer);
    }
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
      let handBack = false;
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
        // Handed back by the node it went to (it re-places the job and asks here): the upstream stays.
        if (job.downstream !== from) job.upstream = from;
        else handBack = true;
        if (body.attempt > job.attempt) job.attempt = body.attempt;
      }
      const before = job.history.length;
      const reserve = body.ext?.reserveYuan;
      const r = await this.place(job, {
        exclude: body.exclude,
        excludeClusters: body.excludeClusters,
        allowUp: body.direction === 'up',
        ...(typeof reserve === 'number' && Number.isFinite(reserve) && reserve >= 0 ? { reserveYuan: reserve } : {}),
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
      if (handBack) {
        // The asker is below: the steps go in the answer to it, and up toward the origin from here.
        await this.flush(job);
      } else {
        this.relayed.set(job.id, job.history.length);
        this.emitPending(job);
        await this.d.store.save(job);
      }
      return { ok: true, owner: r.owner, cluster: r.cluster, costYuan: Math.max(0, r.costYuan), history };
    });
  }

  /** Job history relayed from below (owner → origin, hop by hop). */
  onRelay(body: JobRelay): Promise<boolean> {
    return this.lock.run(body.job, async () => {
      const job = this.jobs.get(body.job) ?? (await this.d.store.get(body.job));
      if (!job) return false;
      let any = false;
      for (const e of body.entries) {
        if (!applyEntry(job, e).appended) continue;
        any = true;
        // The lifecycle reaches the origin's monitor: each step that happened below is an event here too.
        this.emitRelayed(job, e, (...x) => this.d.emit(...x));
      }
      if (isFinal(job.state)) this.jobs.delete(job.id);
      // The relay's metering lines are stored by the flush, in the commit of the job's row (and relayed onward).
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
    // From its arrival until applied, a report that crosses it is not fresh at the cluster (`cluster-view.ts`).
    const settle = u.state === 'running' ? () => undefined : this.view.inFlight(u.cluster);
    return this.lock
      .run(u.job, async () => {
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
      })
      .finally(settle);
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

  /** This subtree's metering totals for the parent. */
  async meteringSummary(): Promise<{ node: string; at: string } & ReturnType<typeof totals>> {
    return { node: this.me, at: formatTime(this.now()), ...(await this.d.store.totals()) };
  }
}
