import { nextStep, type PlaceOutcome, type PlannerView, type Refusal, type Task } from '@cpnet/scheduler';
import { formatTime, PROTOCOL_VERSION, type PlacementAnswer } from '@cpnet/protocol';
import { systemClock } from '@cpnet/kernel/system';
import { applyEntry, isFinal, type JobRecord } from './job-machine.ts';
import { JobBook } from './bookkeeping.ts';
import { explainPlacement, wireTransfer } from './job-events.ts';
import { traceparentOf } from '../monitoring/trace.ts';
import { OwedCancels } from './owed-cancels.ts';

/** Where a placement ended: the owner and cluster, or every refusal on the way. */
export type Placed =
  { ok: true; owner: string; cluster: string; costYuan: number } | { ok: false; refusals: Refusal[] };
/** What a placement may use: subtrees and clusters to leave out, and whether it may go to the parent. */
export interface PlaceHow {
  exclude: readonly string[];
  excludeClusters: readonly string[];
  allowUp: boolean;
  /** The asker's own bill when it offered the job west first (`ext.reserveYuan`): only something cheaper is used. */
  reserveYuan?: number;
}
const round2 = (x: number): number => Math.round(x * 100) / 100;
/** Gateway refusals tolerated on this node's clusters before the walk moves on to other nodes. */
const GATEWAY_TRIES = 4;

/**
 * The executor of the planner's steps at one node: `nextStep` (@cpnet/scheduler) decides where a job goes — local
 * first (preempting when its view shows it), children by rank, the parent last, latency-tolerant work offered west
 * first — and this class runs each step (reserve, dispatch, ask a peer, escalate, record, emit) and feeds the answer
 * back, until a placement holds or the planner gives up. Also preemption, re-placement and stopping a run.
 */
export abstract class PlacementCore extends JobBook {
  /** Stop orders to gateways, sent again each tick until acknowledged (a stopped run must free its cluster). */
  protected readonly cancels = new OwedCancels({ gateways: this.d.gateways, now: () => this.now(), log: this.d.log });
  /** Tries a queued or displaced job again (the service holds the job's lock). */
  protected abstract retry(id: string): Promise<void>;

  protected async placeOrQueue(job: JobRecord, how: PlaceHow): Promise<void> {
    this.lastTry.set(job.id, this.now());
    const r = await this.place(job, how);
    if (r.ok) return;
    const why = r.refusals.map((x) => `${x.node}: ${x.reason}`).join('; ');
    this.record(job, { state: 'queued', node: this.me, detail: why.slice(0, 1900) });
    this.d.emit('job.queue', {
      subject: job.id,
      data: this.jobData(job, {
        refusals: r.refusals,
        explanation: {
          chosen: null,
          rejected: r.refusals.slice(0, 10).map((x) => ({ target: x.node, reason: x.reason })),
        },
      }),
    });
  }

  /** What the planner sees here: this node's index and held jobs (read only), its live children's summaries. */
  protected plannerView(): PlannerView {
    const s = this.view.scheduler;
    return {
      code: this.me,
      parent: this.d.parent,
      index: s.index,
      children: this.liveChildren(),
      heldOn: (id) => s.jobsOn(id),
      clock: this.d.clock,
    };
  }

  /** Runs the planner's steps for one job until it is placed (here or below/above) or every option refused. */
  protected async place(job: JobRecord, how: PlaceHow): Promise<Placed> {
    const task = this.taskOf(job);
    const view = this.plannerView();
    // Whatever this node's scheduler still held for the job is given back before the plan looks at capacity.
    this.view.scheduler.release(job.id);
    const asked: Refusal[] = []; // one per node tried, fed back to the planner
    const report: Refusal[] = []; // every reason, for the answer and the queue's explanation
    const seen = new Set<string>();
    const note = (r: Refusal) => {
      const k = `${r.node}\u0000${r.reason}`;
      if (seen.has(k)) return;
      seen.add(k);
      report.push(r);
    };
    const gatewayRefused: string[] = [];
    const refusedHere: { target: string; reason: string }[] = [];
    const exclude = [...new Set([...how.exclude, this.me])];
    let localReason = 'no cluster fits';
    for (;;) {
      const planned = nextStep(
        view,
        {
          task,
          // Aging orders the queue and protects the placed job; it preempts only by its base priority.
          preemptBelow: this.baseTaskOf(job).priority,
          allowUp: how.allowUp,
          excludeNodes: how.exclude,
          excludeClusters: [...how.excludeClusters, ...gatewayRefused],
          ...(how.reserveYuan !== undefined ? { reserveYuan: how.reserveYuan } : {}),
        },
        asked,
      );
      if (!planned.ok) return { ok: false, refusals: [...report, { node: this.me, reason: planned.error.message }] };
      for (const n of planned.value.notes) {
        note(n);
        // This node's clusters are judged once per walk: what the plan refused here is not planned again.
        if (n.node === this.me && !asked.some((x) => x.node === this.me)) {
          localReason = n.reason;
          asked.push(n);
        }
      }
      const step = planned.value.step;
      if (step.kind === 'give-up') return { ok: false, refusals: report };
      if (step.kind === 'place-local') {
        const r = await this.placeLocal(job, task, {
          exclude: [...how.excludeClusters, ...gatewayRefused],
          refusedHere,
        });
        if (r.ok) return r;
        localReason = r.reason;
        if (r.refusedCluster && gatewayRefused.length + 1 < GATEWAY_TRIES) {
          gatewayRefused.push(r.refusedCluster);
          continue;
        }
        asked.push({ node: this.me, reason: r.reason });
        note({ node: this.me, reason: r.reason });
        continue;
      }
      let a: PlacementAnswer;
      if (step.kind === 'ask-child') {
        const c = step.choice;
        this.record(job, {
          state: 'scheduled',
          node: this.me,
          detail:
            `subtree ${c.prefix} (rank ${c.rank}, score ${c.score.toFixed(2)}, est. ` +
            `${c.estimatedCostYuan.toFixed(2)} 元${c.western ? ', west' : ''}` +
            (c.transfer
              ? `; data: ${round2(c.transfer.movedGib)} GiB moved into ${c.transfer.province}, ` +
                `${round2(c.transfer.yuan)} 元, ${Math.round(c.transfer.secondsToStart)} s to start`
              : '') +
            ')',
        });
        this.emitWithSave(job, 'job.schedule', {
          subject: job.id,
          data: this.jobData(job, {
            subtree: c.prefix,
            ranked: step.ranked.map((r) => r.prefix),
            excluded: planned.value.notes
              .filter((n) => n.node !== this.me)
              .map((n) => ({ prefix: n.node, reason: n.reason })),
            explanation: {
              chosen: c.prefix,
              rejected: [
                ...report.map((x) => ({ target: x.node, reason: x.reason })),
                ...step.ranked
                  .filter((r) => r.rank > c.rank)
                  .map((r) => ({
                    target: r.prefix,
                    reason: `ranked ${r.rank} (score ${r.score.toFixed(2)})`,
                    ...(r.transfer ? { transfer: wireTransfer(r.transfer) } : {}),
                  })),
              ].slice(0, 10),
              // The data move the subtree's rank assumed (its cheapest province for the data).
              ...(c.transfer ? { transfer: wireTransfer(c.transfer) } : {}),
            },
          }),
        });
        a = await this.d.peers.place(
          c.prefix,
          this.ask(job, {
            direction: 'down',
            exclude,
            excludeClusters: how.excludeClusters,
            reserveYuan: how.reserveYuan,
          }),
        );
        if (!a.ok)
          this.d.emit('job.schedule', {
            subject: job.id,
            severity: 'warning',
            data: this.jobData(job, { subtree: c.prefix, refused: a.summary }),
          });
      } else {
        const west = step.why === 'east-data-west-compute';
        this.record(job, {
          state: 'escalated',
          node: this.me,
          detail: west
            ? `to ${step.prefix}: latency-tolerant work is offered to the whole hierarchy first (东数西算)`
            : `to ${step.prefix}: ${localReason}`.slice(0, 1900),
        });
        this.emitWithSave(job, 'job.escalate', {
          subject: job.id,
          data: this.jobData(
            job,
            west
              ? { via: step.prefix, reason: 'latency-tolerant (东数西算)' }
              : {
                  via: step.prefix,
                  reason: localReason,
                  explanation: {
                    chosen: null,
                    rejected: report.slice(0, 10).map((x) => ({ target: x.node, reason: x.reason })),
                  },
                },
          ),
        });
        a = await this.d.peers.place(
          step.prefix,
          this.ask(job, {
            direction: 'up',
            exclude,
            excludeClusters: how.excludeClusters,
            reserveYuan: step.reserveYuan,
          }),
        );
      }
      if (a.ok) return this.adopt(job, a, step.prefix);
      for (const r of a.refusals) note(r);
      asked.push({ node: step.prefix, reason: a.summary });
    }
  }

  protected ask(
    job: JobRecord,
    o: {
      direction: 'up' | 'down';
      exclude: readonly string[];
      excludeClusters: readonly string[];
      reserveYuan?: number | undefined;
    },
  ) {
    return {
      // The bill to beat rides in `ext` (a 1.0 peer ignores it and places as before).
      ...(o.reserveYuan !== undefined ? { ext: { reserveYuan: o.reserveYuan } } : {}),
      job: job.id,
      origin: job.origin,
      tenant: job.tenant,
      template: job.template,
      attempt: job.attempt,
      direction: o.direction,
      exclude: [...o.exclude],
      excludeClusters: [...o.excludeClusters],
      traceparent: traceparentOf(job.id, this.me),
    };
  }

  protected adopt(job: JobRecord, a: Extract<PlacementAnswer, { ok: true }>, via: string): Placed {
    // The owner first, so that the events raised for the answer's steps name it.
    job.owner = a.owner;
    for (const e of a.history)
      if (applyEntry(job, e).appended) this.emitRelayed(job, e, (...x) => this.emitWithSave(job, ...x));
    job.downstream = via;
    job.owner = a.owner;
    job.cluster = a.cluster;
    job.costYuan = a.costYuan;
    return { ok: true, owner: a.owner, cluster: a.cluster, costYuan: a.costYuan };
  }

  /**
   * The planner's `place-local` step: reserve on this node's scheduler (the same policy and index the plan read, so
   * the same clusters; preempting as planned), confirm with the gateways, commit. A gateway's refusal names the
   * cluster, which the executor excludes before it asks the planner again.
   */
  protected async placeLocal(
    job: JobRecord,
    task: Task,
    o: { exclude: readonly string[]; refusedHere: { target: string; reason: string }[] },
  ): Promise<
    | { ok: true; owner: string; cluster: string; costYuan: number }
    | { ok: false; reason: string; refusedCluster?: string }
  > {
    const s = this.view.scheduler;
    s.release(job.id);
    const { exclude, refusedHere } = o;
    const r = s.reserve(task, { exclude, preemptBelow: this.baseTaskOf(job).priority });
    if (!r.ok) {
      s.release(job.id);
      return { ok: false, reason: r.reason };
    }
    // Held from the reservation on, though the gateway learns of it only with the dispatch.
    const settle = r.slices.map((x) => this.view.inFlight(x.clusterId));
    try {
      return await this.commitLocal(job, { task, r, refusedHere });
    } finally {
      for (const done of settle) done();
    }
  }

  /** Evicts what the reservation preempts, dispatches its slices, and commits (or releases on a refusal). */
  private async commitLocal(
    job: JobRecord,
    o: {
      task: Task;
      r: Extract<PlaceOutcome, { ok: true }>;
      refusedHere: { target: string; reason: string }[];
    },
  ): Promise<
    | { ok: true; owner: string; cluster: string; costYuan: number }
    | { ok: false; reason: string; refusedCluster: string }
  > {
    const s = this.view.scheduler;
    const { task, r, refusedHere } = o;
    for (const v of r.preempted) await this.evict(v, job);
    const cluster = r.slices[0]!.clusterId;
    this.record(job, {
      state: 'scheduled',
      node: this.me,
      cluster,
      detail: `cost ${r.costYuan.toFixed(2)} 元${r.preempted.length ? `; preempts ${r.preempted.join(', ')}` : ''}`,
    });
    this.emitWithSave(job, 'job.schedule', {
      subject: job.id,
      data: this.jobData(job, {
        costYuan: r.costYuan,
        preempted: r.preempted,
        slices: r.slices.map((x) => ({ cluster: x.clusterId, replicas: x.replicas })),
        explanation: this.explain(task, { chosen: cluster, refused: refusedHere }),
      }),
    });
    const refused = await this.dispatchSlices(job, r.slices);
    if (refused === null) {
      s.commit(job.id);
      if (job.preferredCluster && job.preferredCluster !== cluster && this.view.has(job.preferredCluster)) {
        // Re-placed: failback must aim at the first cluster, which the scheduler only knows through resume.
        s.release(job.id);
        s.resume(task, {
          clusterId: cluster,
          preferredClusterId: job.preferredCluster,
          lastMovedAt: this.now(),
          costYuan: r.costYuan,
        });
      }
      for (const x of r.slices) this.view.adjust(x.clusterId);
      job.owner = this.me;
      job.downstream = null;
      job.costYuan = r.costYuan;
      return { ok: true, owner: this.me, cluster, costYuan: r.costYuan };
    }
    s.release(job.id);
    refusedHere.push({ target: refused.cluster, reason: `gateway refused: ${refused.reason}` });
    this.d.emit('job.schedule', {
      subject: job.id,
      severity: 'warning',
      data: this.jobData(job, { refusedCluster: refused.cluster, refused: refused.reason }),
    });
    return {
      ok: false,
      reason: `gateway of ${refused.cluster} refused: ${refused.reason}`,
      refusedCluster: refused.cluster,
    };
  }

  /** Dispatches each slice; the gateway's acceptance is the owner's confirmation. Returns the first refusal. */
  protected async dispatchSlices(
    job: JobRecord,
    slices: readonly { clusterId: string; replicas: number }[],
  ): Promise<{ cluster: string; reason: string } | null> {
    const sent: string[] = [];
    for (const sl of slices) {
      const ack = await this.withTimeout(
        this.d.gateways.dispatch({
          protocol: PROTOCOL_VERSION,
          seq: 0,
          job: job.id,
          cluster: sl.clusterId,
          attempt: job.attempt,
          template: job.template,
          replicas: sl.replicas,
          traceparent: traceparentOf(job.id, this.me),
          at: formatTime(this.now()),
        }),
      );
      if (!ack.ok) {
        for (const c of sent)
          void this.d.gateways.cancel(c, {
            protocol: PROTOCOL_VERSION,
            seq: 0,
            job: job.id,
            reason: 'replaced',
            at: formatTime(this.now()),
          });
        return { cluster: sl.clusterId, reason: ack.error.message };
      }
      sent.push(sl.clusterId);
    }
    const at = formatTime(this.now());
    for (const c of sent)
      this.record(job, {
        state: 'confirmed',
        node: this.me,
        cluster: c,
        at,
        detail: 'gateway accepted; capacity committed',
      });
    for (const c of sent) {
      this.record(job, { state: 'dispatched', node: this.me, cluster: c, at });
      this.emitWithSave(job, 'job.dispatch', { subject: job.id, data: this.jobData(job, { attempt: job.attempt }) });
    }
    return null;
  }

  protected withTimeout<T extends { ok: boolean }>(
    p: Promise<T>,
  ): Promise<T | { ok: false; error: { code: string; message: string } }> {
    let cancel: () => void = () => undefined;
    const timeout = new Promise<{ ok: false; error: { code: string; message: string } }>((resolve) => {
      // Wall time: the acknowledgement comes over a real socket, whatever the node's clock does meanwhile.
      cancel = (this.d.wall ?? systemClock).setTimeout(
        () =>
          resolve({
            ok: false,
            error: { code: 'UNAVAILABLE', message: `no acknowledgement within ${this.options.ackTimeoutMs} ms` },
          }),
        this.options.ackTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(cancel);
  }

  /** A victim of preemption: stopped on its gateway, metered, then re-placed (or queued). */
  protected async evict(victimId: string, by: JobRecord): Promise<void> {
    this.view.scheduler.release(victimId);
    const v = this.jobs.get(victimId);
    if (!v || isFinal(v.state)) return;
    const lines = this.meter(v, this.now());
    const cluster = v.cluster;
    if (cluster) this.cancels.stop(cluster, v, 'preempted');
    this.record(v, {
      state: 'preempted',
      node: this.me,
      ...(cluster ? { cluster } : {}),
      detail: `by ${by.id} (priority ${by.template.priority} > ${v.template.priority})`,
    });
    this.d.emit('job.evict', {
      subject: v.id,
      severity: 'warning',
      data: this.jobData(v, { evictedFrom: cluster, by: by.id }),
    });
    await this.flush(v, lines);
    this.lastTry.set(v.id, 0);
    setImmediate(() => void this.retry(v.id));
  }

  /** Why a local placement took `chosen` (one extra codes-only selection per placement). */
  protected explain(task: Task, o: { chosen: string; refused: readonly { target: string; reason: string }[] }) {
    const checked = this.view.scheduler.select(task, { k: 4, explain: 'codes' });
    // The task was just placed, so it is valid; were it refused, the gateways' refusals alone explain.
    return explainPlacement(checked.ok ? checked.value : null, o);
  }
}
