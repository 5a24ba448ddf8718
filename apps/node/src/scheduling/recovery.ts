import { quotaBreach, type Health } from '@cpnet/scheduler';
import type { z } from 'zod';
import {
  formatTime,
  type Ceiling,
  type MeteringLine,
  type SchedulingFigures,
  type SchedulingSummary,
} from '@cpnet/protocol';
import { isFinal, type JobRecord } from './job-machine.ts';
import { figuresFromWire, figuresToWire, mergeSummaries } from './mapping.ts';
import { ceilingOf, raise } from './ceiling.ts';
import { FairAdmissionCore } from './fair-admission.ts';

/**
 * What keeps placements right after they are made (互联调度's failover half): re-placement when a cluster or a child
 * subtree fails or a gateway refuses — every slice of a split or gang job, not only its first — failback with
 * hysteresis, queued jobs retried (their quota re-checked on the one usage count), children's summaries and
 * liveness, the ceilings that tell a never-placeable job, and the summary pushed to the parent.
 */
export abstract class RecoveryCore extends FairAdmissionCore {
  /**
   * Cancellations for children taken as down, sent when they report again (not through the outbox, whose queue a
   * dead receiver would block).
   */
  private readonly owed = new Map<string, { job: string; reason: 'replaced'; attempt: number; at: string }[]>();
  /** Children's ceilings (kept while a child is down: it may come back). */
  private readonly childCeilings = new Map<string, Ceiling>();
  /** The hierarchy's ceiling as the parent answered it. */
  private above: Ceiling | null = null;
  private ticking = false;
  /** A summary to the parent in flight (the next one waits: only the newest matters). */
  private pushing = false;
  /** Told when a child goes silent (no summary for `childDownAfterMs`) and when it reports again. */
  onChildHealth?: (child: string, o: { down: boolean; reason: string }) => void;

  /** Re-places a job (its cluster or subtree failed, or a gateway refused it). */
  protected async replace(
    job: JobRecord,
    o: {
      reason: string;
      excludeClusters: readonly string[];
      exclude: readonly string[];
      /** The clusters its slices ran on, when the scheduler no longer holds them (a failed cluster released them). */
      ranOn?: readonly string[];
    },
  ): Promise<void> {
    const from = job.cluster ?? job.downstream ?? undefined;
    if (job.owner === this.me) {
      // Every slice is placed again, so the ones still running elsewhere stop (the failed cluster's is gone anyway).
      const ranOn = o.ranOn ?? this.view.scheduler.job(job.id)?.slices.map((x) => x.clusterId) ?? [];
      for (const c of new Set(ranOn)) if (!o.excludeClusters.includes(c)) this.cancels.stop(c, job, 'replaced');
      this.view.scheduler.release(job.id);
    }
    this.record(job, {
      state: 'replaced',
      node: this.me,
      ...(job.cluster ? { cluster: job.cluster } : {}),
      detail: o.reason,
    });
    this.d.emit('job.replace', {
      subject: job.id,
      severity: 'warning',
      data: this.jobData(job, { movedFrom: from, reason: o.reason }),
    });
    job.downstream = null;
    await this.placeOrQueue(job, {
      exclude: o.exclude,
      excludeClusters: o.excludeClusters,
      // Also at a node that is not the origin: asking the node the job came from hands it back (see `flush`).
      allowUp: true,
    });
  }

  /** Final stop at this node (cancel): gateway or downstream told, state recorded. */
  protected async stopHere(job: JobRecord, o: { reason: 'cancelled'; detail: string }): Promise<void> {
    let lines: MeteringLine[] = [];
    if (job.owner === this.me && job.cluster) lines = await this.stopRun(job, 'cancelled');
    else if (job.downstream)
      await this.d.peers.cancel(job.downstream, {
        job: job.id,
        reason: 'cancelled',
        attempt: job.attempt,
        at: formatTime(this.now()),
      });
    this.record(job, { state: 'cancelled', node: this.me, detail: o.detail });
    this.d.emit('job.kill', { subject: job.id, data: this.jobData(job, { by: o.detail }) });
    this.jobs.delete(job.id);
    this.pendingLines.set(job.id, lines);
  }

  protected async stopRun(job: JobRecord, reason: 'cancelled' | 'replaced'): Promise<MeteringLine[]> {
    const cluster = job.cluster!;
    const lines = this.meter(job, this.now());
    this.cancels.stop(cluster, job, reason);
    this.view.scheduler.release(job.id);
    this.view.adjust(cluster);
    this.wakeQueue();
    return lines;
  }

  /** The largest cluster of this subtree per resource: its own clusters and its children's ceilings. */
  subtreeCeiling(): Ceiling {
    const c = ceilingOf(this.view.capacities());
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

  /** A 1.0 child's scheduling summary (`POST /cpn/v1/scheduling/summaries`): its figures, and its heartbeat. */
  onSummary(w: SchedulingSummary, from: string): void {
    this.onFigures(from, w);
  }

  /**
   * A child's scheduling figures, from its one summary upward (`ext.scheduling` of its `SubtreeSummary`) or from a
   * 1.0 `SchedulingSummary`; also its heartbeat, stamped with this node's time on reception (not the child's `at`).
   */
  onFigures(from: string, figures: SchedulingFigures): void {
    if (figures.ceiling) this.childCeilings.set(from, figures.ceiling);
    const prev = this.children.get(from);
    this.children.set(from, { summary: figuresFromWire(from, figures), at: this.now(), down: false });
    if (prev?.down) {
      this.d.log?.info({ child: from }, 'child reporting again');
      this.onChildHealth?.(from, { down: false, reason: `${from} sends its summary again` });
      for (const c of this.owed.get(from) ?? []) void this.d.peers.cancel(from, c);
      this.owed.delete(from);
    }
  }

  /** One round of background work (also callable from tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.cancels.resend((id) => this.jobs.get(id));
      const now = this.now();
      for (const [prefix, c] of this.children) {
        if (c.down || now - c.at < this.options.childDownAfterMs) continue;
        c.down = true;
        this.d.log?.warn({ child: prefix }, 'child stopped reporting; re-placing its jobs');
        this.onChildHealth?.(prefix, {
          down: true,
          reason: `no summary from ${prefix} for ${this.options.childDownAfterMs} ms`,
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
      const fair = await this.admitRound();
      for (const j of [...this.jobs.values()]) {
        if (fair.has(j.id)) continue;
        if (j.state !== 'queued' || now - (this.lastTry.get(j.id) ?? 0) < this.options.retryMs) continue;
        await this.retry(j.id);
      }
    } catch (e) {
      this.d.log?.warn({ err: e }, 'scheduling tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /**
   * The aggregation's verdict on one of this node's clusters (the one liveness judge: a gateway's reported health
   * made worse by silence). Any transition to down — reported or by silence — re-places the cluster's jobs.
   */
  async clusterHealth(id: string, health: Health, reason: string): Promise<void> {
    if (health === 'down') await this.clusterDown(id, reason);
    else this.view.setHealth(id, health);
  }

  /** Marks a cluster down and re-places the jobs it ran. */
  async clusterDown(id: string, reason: string): Promise<void> {
    // Every job with a slice there: the record names one cluster, a split or gang job spans several. A single-slice
    // job is judged by its record only (the scheduler may already hold it at its failback target, not yet moved).
    const ranOn = new Map(this.view.scheduler.jobsOn(id).map((h) => [h.id, h.slices.map((x) => x.clusterId)]));
    this.view.markDown(id);
    const onIt = (x: JobRecord) =>
      x.owner === this.me && (x.cluster === id || (ranOn.get(x.id)?.length ?? 0) > 1) && !isFinal(x.state);
    for (const j of [...this.jobs.values()].filter(onIt)) {
      await this.lock.run(j.id, async () => {
        if (!onIt(j)) return;
        const lines = this.meter(j, this.now());
        await this.replace(j, { reason, excludeClusters: [id], exclude: [], ranOn: ranOn.get(j.id) });
        await this.flush(j, lines);
      });
    }
  }

  private async failback(jobId: string, from: string, to: string): Promise<void> {
    await this.lock.run(jobId, async () => {
      const j = this.jobs.get(jobId);
      if (!j || isFinal(j.state) || j.cluster !== from) return;
      const lines = this.meter(j, this.now());
      this.cancels.stop(from, j, 'replaced');
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
        await this.placeOrQueue(j, { exclude: [], excludeClusters: [to], allowUp: true });
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
      const quota = j.origin === this.me ? (this.options.quotas[j.tenant] ?? this.options.defaultQuota) : null;
      // Re-checked as the queue drains, on the one usage count without this job: a queued job never takes its
      // tenant over the quota (it waits; maxQueueMs ends the wait).
      if (quota && j.state === 'queued' && quotaBreach(this.taskOf(j), this.tenantUsage(j.tenant, j.id), quota)) {
        this.lastTry.set(j.id, this.now());
        return;
      }
      // The whole plan, the parent included, at any node (a non-origin node hands the job back: see `flush`).
      await this.placeOrQueue(j, { exclude: [], excludeClusters: [], allowUp: true });
      await this.flush(j);
    });
  }

  /**
   * This subtree's scheduling figures for the parent: its own view merged with its live children's (the ones the
   * liveness rule took down left out), and the subtree's ceiling.
   */
  schedulingFigures(): z.input<typeof SchedulingFigures> {
    const merged = mergeSummaries(this.me, [this.view.summary(this.me), ...this.liveChildren()]);
    return { ...figuresToWire(merged), ceiling: this.subtreeCeiling() };
  }

  /**
   * Sends this subtree's figures to the parent (every `summaryMs`; the node's peer port sends them as the one summary
   * upward or, to a 1.0 parent, as a `SchedulingSummary`); the parent's answer is the hierarchy's ceiling.
   */
  protected async pushSummaries(): Promise<void> {
    if (this.pushing) return;
    this.pushing = true;
    try {
      const above = await this.d.peers.summary(this.schedulingFigures()).catch(() => null);
      if (above) this.above = above;
    } finally {
      this.pushing = false;
    }
  }
}
