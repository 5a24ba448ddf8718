import { chooseSubtree, type SubtreeView } from '@cpnet/scheduler';
import {
  formatTime,
  PROTOCOL_VERSION,
  type JobHistoryEntry,
  type PlacementAnswer,
  type MeteringLine,
} from '@cpnet/protocol';
import { systemClock } from '@cpnet/kernel/system';
import { ClusterView } from './cluster-view.ts';
import { applyEntry, isFinal, tenantKey, type JobRecord } from './job-machine.ts';
import { toTask } from './mapping.ts';
import { meterRun } from './metering.ts';
import { DEFAULT_SCHEDULING, type SchedulingDeps, type SchedulingOptions } from './ports.ts';
import { explainPlacement, jobEventData, relayedEvent } from './job-events.ts';
import { traceparentOf } from '../monitoring/trace.ts';

type Refusal = { node: string; reason: string };
/** Where a placement ended: the owner and cluster, or every refusal on the way. */
export type Placed =
  { ok: true; owner: string; cluster: string; costYuan: number } | { ok: false; refusals: Refusal[] };
/** What a placement may use: subtrees and clusters to leave out, and whether it may go to the parent. */
export interface PlaceHow {
  exclude: readonly string[];
  excludeClusters: readonly string[];
  allowUp: boolean;
}

/**
 * The placement half of a node's scheduling: the jobs it holds, where it places them (own clusters, child subtrees,
 * the parent), dispatch and confirmation, preemption and re-placement, and the bookkeeping that saves a job and
 * relays its history toward the origin. SchedulingService adds the API, the relays in, and the background work.
 */
export abstract class PlacementCore {
  readonly view: ClusterView;
  readonly options: SchedulingOptions;
  protected readonly jobs = new Map<string, JobRecord>();
  protected readonly relayed = new Map<string, number>();
  protected readonly children = new Map<string, { summary: SubtreeView; at: number; down: boolean }>();
  protected readonly lastTry = new Map<string, number>();

  constructor(protected readonly d: SchedulingDeps) {
    this.options = { ...DEFAULT_SCHEDULING, ...d.options };
    // The owner's scheduler counts usage per tenant pair (`account@node`): a bare key is a tenant of this node.
    const quotas = Object.fromEntries(
      Object.entries(this.options.quotas).map(([k, q]) => [k.includes('@') ? k : tenantKey(d.code, k), q]),
    );
    this.view = new ClusterView({ clock: d.clock, quotas, failback: this.options.failback });
  }

  protected get me(): string {
    return this.d.code;
  }
  protected now(): number {
    return this.d.clock.now();
  }

  /** Tries a queued or displaced job again (the service holds the job's lock). */
  protected abstract retry(id: string): Promise<void>;

  // ── placement ───────────────────────────────────────────────────────────────

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

  /**
   * Local clusters, then child subtrees (best summary first, owner confirms), then the parent. Latency-tolerant work
   * goes to the parent first (东数西算): the ancestors see every subtree's summary and may send it to cheaper, greener
   * western hubs; if they find nothing better it comes back here.
   */
  protected async place(job: JobRecord, how: PlaceHow): Promise<Placed> {
    const refusals: Refusal[] = [];
    const parentFirst = this.d.parent;
    const westward =
      job.template.latencyTolerant && how.allowUp && parentFirst !== null && !how.exclude.includes(parentFirst);
    if (westward) {
      this.record(job, {
        state: 'escalated',
        node: this.me,
        detail: `to ${parentFirst}: latency-tolerant work is offered to the whole hierarchy first (东数西算)`,
      });
      this.emitWithSave(job, 'job.escalate', {
        subject: job.id,
        data: this.jobData(job, { via: parentFirst, reason: 'latency-tolerant (东数西算)' }),
      });
      const a = await this.d.peers.place(
        parentFirst,
        this.ask(job, {
          direction: 'up',
          exclude: [...new Set([...how.exclude, this.me])],
          excludeClusters: how.excludeClusters,
        }),
      );
      if (a.ok) return this.adopt(job, a, parentFirst);
      refusals.push(...a.refusals);
      how = { ...how, allowUp: false };
    }
    const local = await this.placeLocal(job, how.excludeClusters);
    if (local.ok) return local;
    refusals.push({ node: this.me, reason: local.reason });
    const exclude = [...new Set([...how.exclude, this.me])];
    const task = toTask(job.template, { id: job.id, tenant: tenantKey(job.origin, job.tenant) });
    const chosen = chooseSubtree(
      this.liveChildren().filter((c) => !exclude.includes(c.prefix)),
      task,
    );
    const decision = chosen.ok
      ? chosen.value
      : { ranked: [], excluded: [{ prefix: 'children', reason: chosen.error.message }] };
    for (const x of decision.excluded) refusals.push({ node: x.prefix, reason: x.reason });
    for (const c of decision.ranked) {
      this.record(job, {
        state: 'scheduled',
        node: this.me,
        detail:
          `subtree ${c.prefix} (rank ${c.rank}, score ${c.score.toFixed(2)}, est. ` +
          `${c.estimatedCostYuan.toFixed(2)} 元${c.western ? ', west' : ''})`,
      });
      this.emitWithSave(job, 'job.schedule', {
        subject: job.id,
        data: this.jobData(job, {
          subtree: c.prefix,
          ranked: decision.ranked.map((r) => r.prefix),
          excluded: decision.excluded,
          explanation: {
            chosen: c.prefix,
            rejected: [
              ...refusals.map((x) => ({ target: x.node, reason: x.reason })),
              ...decision.ranked
                .filter((r) => r.rank > c.rank)
                .map((r) => ({ target: r.prefix, reason: `ranked ${r.rank} (score ${r.score.toFixed(2)})` })),
            ].slice(0, 10),
          },
        }),
      });
      const a = await this.d.peers.place(
        c.prefix,
        this.ask(job, { direction: 'down', exclude, excludeClusters: how.excludeClusters }),
      );
      if (a.ok) return this.adopt(job, a, c.prefix);
      refusals.push(...a.refusals);
      this.d.emit('job.schedule', {
        subject: job.id,
        severity: 'warning',
        data: this.jobData(job, { subtree: c.prefix, refused: a.summary }),
      });
    }
    const parent = this.d.parent;
    if (how.allowUp && parent && !exclude.includes(parent)) {
      this.record(job, { state: 'escalated', node: this.me, detail: `to ${parent}: ${local.reason}`.slice(0, 1900) });
      this.emitWithSave(job, 'job.escalate', {
        subject: job.id,
        data: this.jobData(job, {
          via: parent,
          reason: local.reason,
          explanation: {
            chosen: null,
            rejected: refusals.slice(0, 10).map((x) => ({ target: x.node, reason: x.reason })),
          },
        }),
      });
      const a = await this.d.peers.place(
        parent,
        this.ask(job, { direction: 'up', exclude, excludeClusters: how.excludeClusters }),
      );
      if (a.ok) return this.adopt(job, a, parent);
      refusals.push(...a.refusals);
    }
    return { ok: false, refusals };
  }

  protected ask(
    job: JobRecord,
    o: { direction: 'up' | 'down'; exclude: readonly string[]; excludeClusters: readonly string[] },
  ) {
    return {
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

  /** Reserve on the best local cluster (preempting lower priority), confirm with its gateway, commit, dispatch. */
  protected async placeLocal(
    job: JobRecord,
    excludeClusters: readonly string[],
  ): Promise<{ ok: true; owner: string; cluster: string; costYuan: number } | { ok: false; reason: string }> {
    const s = this.view.scheduler;
    if (s.index.size === 0) return { ok: false, reason: 'no clusters registered here' };
    const task = toTask(job.template, { id: job.id, tenant: tenantKey(job.origin, job.tenant) });
    const exclude = [...excludeClusters];
    const refusedHere: { target: string; reason: string }[] = [];
    let last = 'no cluster fits';
    for (let tries = 0; tries < 4; tries++) {
      s.release(job.id);
      const r = s.reserve(task, { exclude });
      if (!r.ok) {
        s.release(job.id);
        return { ok: false, reason: r.reason ?? last };
      }
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
      exclude.push(refused.cluster);
      last = `gateway of ${refused.cluster} refused: ${refused.reason}`;
      refusedHere.push({ target: refused.cluster, reason: `gateway refused: ${refused.reason}` });
      this.d.emit('job.schedule', {
        subject: job.id,
        severity: 'warning',
        data: this.jobData(job, { refusedCluster: refused.cluster, refused: refused.reason }),
      });
    }
    return { ok: false, reason: last };
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
    if (cluster)
      void this.d.gateways.cancel(cluster, {
        protocol: PROTOCOL_VERSION,
        seq: 0,
        job: v.id,
        reason: 'preempted',
        at: formatTime(this.now()),
      });
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

  /** Re-places a job (its cluster or subtree failed, or a gateway refused it). */
  protected async replace(
    job: JobRecord,
    o: { reason: string; excludeClusters: readonly string[]; exclude: readonly string[] },
  ): Promise<void> {
    const from = job.cluster ?? job.downstream ?? undefined;
    if (job.owner === this.me) this.view.scheduler.release(job.id);
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
      allowUp: job.upstream === null,
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

  protected async stopRun(job: JobRecord, reason: 'cancelled' | 'replaced'): Promise<MeteringLine[]> {
    const cluster = job.cluster!;
    const lines = this.meter(job, this.now());
    void this.d.gateways.cancel(cluster, {
      protocol: PROTOCOL_VERSION,
      seq: 0,
      job: job.id,
      reason,
      at: formatTime(this.now()),
    });
    this.view.scheduler.release(job.id);
    this.view.adjust(cluster);
    this.wakeQueue();
    return lines;
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

  // ── bookkeeping ─────────────────────────────────────────────────────────────

  /** At the origin, a step done at another node (relayed or in a placement answer) is an event here too. */
  protected emitRelayed(job: JobRecord, e: JobHistoryEntry, emit: SchedulingDeps['emit']): void {
    const ev = relayedEvent(job, e, this.me);
    if (ev) emit(ev.type, { ...ev.detail, data: this.jobData(job, ev.detail.data) });
  }

  /** The `data` of a job event (JobEventData) at this node; `extra` first. */
  protected jobData(job: JobRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return jobEventData(job, { me: this.me, provinceOf: (c) => this.view.place(c)?.province ?? null, extra });
  }

  /** Why a local placement took `chosen` (one extra codes-only selection per placement). */
  protected explain(
    task: ReturnType<typeof toTask>,
    o: { chosen: string; refused: readonly { target: string; reason: string }[] },
  ) {
    const checked = this.view.scheduler.select(task, { k: 4, explain: 'codes' });
    // The task was just placed, so it is valid; were it refused, the gateways' refusals alone explain.
    return explainPlacement(checked.ok ? checked.value : null, o);
  }

  protected record(job: JobRecord, e: Omit<JobHistoryEntry, 'at' | 'attempt'> & { at?: string }): void {
    applyEntry(job, { ...e, at: e.at ?? formatTime(this.now()), attempt: job.attempt });
  }

  /** Saves the job, stores metering lines, and relays what is new toward the origin. */
  protected async flush(job: JobRecord, lines: MeteringLine[] = []): Promise<void> {
    const all = [...lines, ...(this.pendingLines.get(job.id) ?? [])];
    this.pendingLines.delete(job.id);
    this.emitPending(job);
    await this.d.store.save(job);
    for (const l of all) await this.d.store.addMetering(l);
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
  }

  /**
   * Per tenant: the jobs submitted here since the last exact count, and the sum of their demand. The sum only grows
   * between counts (a finished job is still in it), so it can only over-state usage: a submission is checked against
   * it in O(1), and recounted exactly (finished jobs dropped) only when it would breach or the set has doubled.
   */
  private readonly tenants = new Map<string, { ids: Set<string>; u: Usage; counted: number }>();

  private tenantEntry(tenant: string) {
    let e = this.tenants.get(tenant);
    if (!e) this.tenants.set(tenant, (e = { ids: new Set(), u: { cpuCores: 0, memoryGib: 0, cards: 0 }, counted: 0 }));
    return e;
  }

  /** Counts a job submitted here toward its tenant's usage. */
  protected trackTenant(job: JobRecord): void {
    const e = this.tenantEntry(job.tenant);
    if (e.ids.has(job.id)) return;
    e.ids.add(job.id);
    addUsage(e.u, job);
    if (e.ids.size > 2 * e.counted + 1000) this.tenantUsage(job.tenant, true);
  }

  /** The tenant's usage: an upper bound, or (`exact`) the sum over its unfinished jobs submitted here. */
  protected tenantUsage(tenant: string, exact = false): Usage {
    const e = this.tenantEntry(tenant);
    if (exact) {
      e.u = { cpuCores: 0, memoryGib: 0, cards: 0 };
      for (const id of e.ids) {
        const j = this.jobs.get(id);
        if (!j || isFinal(j.state) || j.origin !== this.me) e.ids.delete(id);
        else addUsage(e.u, j);
      }
      e.counted = e.ids.size;
    }
    return { ...e.u };
  }

  protected liveChildren(): SubtreeView[] {
    return [...this.children.values()].filter((c) => !c.down).map((c) => c.summary);
  }

  protected wakeQueue(): void {
    for (const j of this.jobs.values()) if (j.state === 'queued') this.lastTry.set(j.id, 0);
  }
}

type Usage = { cpuCores: number; memoryGib: number; cards: number };

function addUsage(u: Usage, j: JobRecord): void {
  const r = j.template.replicas,
    dm = j.template.demand;
  u.cpuCores += r * dm.cpuCores;
  u.memoryGib += r * dm.memoryGib;
  u.cards += r * (dm.accelerators?.count ?? 0);
}
