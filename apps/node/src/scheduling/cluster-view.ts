import {
  Scheduler,
  summariseRows,
  type Cluster,
  type ClusterLifecycle,
  type FailbackPolicy,
  type Health,
  type InputError,
  type Quota,
  type SubtreeView,
  type SummaryRow,
} from '@cpnet/scheduler';
import type { TimeSource } from '@cpnet/kernel';
import type { ClusterReport } from '@cpnet/protocol';
import { toCluster, type ClusterFacts } from './mapping.ts';
import { externalUse, freeOf, heldUse, NO_USE, useKey, type Use } from './capacity-account.ts';

// Row codes of the scheduler's index, in its order.
const HEALTHS: readonly Health[] = ['healthy', 'degraded', 'down'];
const LIFECYCLES: readonly ClusterLifecycle[] = ['active', 'registered', 'suspended', 'revoked'];

interface Seen {
  report?: ClusterReport;
  /**
   * The scheduler row last put from `report` and the current facts. While both are the same objects the index row
   * differs from it only in health and availability, which `setHealth`/`markDown` and `account` keep: the same entry
   * again (a gateway naming the cluster unchanged) is not rebuilt and re-checked.
   */
  row?: Cluster;
  /** The aggregation's verdict (its one liveness judge), as last told; never derived here. */
  health: Health;
  /** Use there that this node does not hold (other work the gateway runs), from the latest fresh report. */
  external: Use;
  /** Node time of the latest change in what this node holds there, or of an order or update settling. */
  changedAt: number;
  /** `useKey` of the held use when last counted: a change made before `adjust` ran is still noticed. */
  heldKey: string;
  /** Dispatches and cancels sent to the gateway and not yet answered, and job updates from it being applied. */
  inFlight: number;
}

/**
 * This node's own clusters as the scheduler sees them: registration facts, the latest gateway report, and the health
 * the aggregation judged. Fed by the aggregation's change events (`node-services.ts`); it never judges liveness
 * itself. Free capacity is one account (`capacity-account.ts`): K1 less the jobs this node holds there (authoritative)
 * less the use it does not hold, which only a fresh report sets: one that arrived after the node's latest change
 * there, with no dispatch, cancel or job update in flight (a report the gateway took before a dispatch or a finish
 * never undoes it).
 */
export class ClusterView {
  readonly scheduler: Scheduler;
  private readonly facts = new Map<string, ClusterFacts>();
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly o: {
      clock: TimeSource;
      quotas?: Readonly<Record<string, Quota>>;
      failback?: Partial<FailbackPolicy>;
      /** Told when the scheduler refuses a cluster's figures (the field and rule named); the cluster is left out. */
      refused?: (id: string, error: InputError) => void;
    },
  ) {
    this.scheduler = new Scheduler({
      clusters: [],
      clock: o.clock,
      quotas: o.quotas,
      failback: o.failback,
      reservationTtlMs: 30_000,
    });
  }

  /**
   * A cluster registered, or its lifecycle changed. A new cluster starts with `facts.health`; a known one keeps the
   * health last judged (it changes only through `setHealth` / `markDown`, so the scheduler's failback timer sees it).
   */
  upsert(facts: ClusterFacts): void {
    this.facts.set(facts.id, facts);
    const s = this.seen.get(facts.id) ?? {
      health: facts.health,
      external: NO_USE,
      changedAt: -Infinity,
      heldKey: useKey(NO_USE),
      inFlight: 0,
    };
    this.seen.set(facts.id, s);
    const c = this.row(facts, s, s.report);
    s.row = this.put(c) ? c : undefined;
    this.adjust(facts.id);
  }

  /** The scheduler row: registration and report figures, with the judged health (not the report's own). */
  private row(facts: ClusterFacts, s: Seen, report: ClusterReport | undefined): Cluster {
    return toCluster(facts, report, s.health);
  }

  /** Into the scheduler's index; a refusal (a figure out of range) is reported with its field, never dropped silently. */
  private put(c: Cluster): boolean {
    const r = this.scheduler.index.upsert(c);
    if (!r.ok) this.o.refused?.(c.id, r.error);
    return r.ok;
  }

  /**
   * A gateway's report for one cluster, `at` the node time it arrived: figures only. Its health reaches the scheduler
   * through the aggregation's verdict (`setHealth`), which may be worse (silence) and is the one that triggers
   * re-placement. Its use beyond this node's jobs counts only when it is fresh (see the class).
   */
  report(r: ClusterReport, at: number): { known: boolean } {
    const facts = this.facts.get(r.cluster);
    if (!facts) return { known: false };
    const s = this.seen.get(r.cluster)!;
    let c = r === s.report ? s.row : undefined;
    if (!c) {
      // One scheduler row per report: its capacity and availability are the report's, whatever the health.
      c = this.row(facts, s, r);
      // A refused report changes nothing: the last good one stays in force.
      if (!this.put(c)) return { known: true };
      s.report = r;
      s.row = c;
    }
    const row = this.scheduler.index.rowOf(r.cluster);
    const held = heldUse(this.scheduler.jobsOn(r.cluster), row);
    if (s.inFlight === 0 && at > s.changedAt && useKey(held) === s.heldKey)
      s.external = externalUse(c.capacity, c.available, held);
    this.account(r.cluster, held, c.capacity);
    return { known: true };
  }

  /**
   * An order to the gateway of `id` (dispatch, cancel) or an update from it is under way: reports are not fresh until
   * it settles. Answers the function that settles it (idempotent).
   */
  inFlight(id: string): () => void {
    const s = this.seen.get(id);
    if (!s) return () => undefined;
    s.inFlight += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      s.inFlight -= 1;
      s.changedAt = this.o.clock.now();
    };
  }

  /**
   * The aggregation judged a cluster healthy or degraded (a transition to down goes through the service's
   * `clusterDown`, which moves the jobs, then `markDown`).
   */
  setHealth(id: string, health: Exclude<Health, 'down'>): void {
    const s = this.seen.get(id);
    if (!s) return;
    s.health = health;
    this.scheduler.setHealth(id, health);
  }

  /** Marks a cluster down in the scheduler index (without letting the scheduler move jobs: the service does). */
  markDown(id: string): void {
    const s = this.seen.get(id);
    if (s) s.health = 'down';
    const ix = this.scheduler.index;
    if (ix.rowOf(id) < 0) return;
    for (const m of this.scheduler.setHealth(id, 'down')) this.scheduler.release(m.jobId);
  }

  healthOf(id: string): Health {
    const r = this.scheduler.index.rowOf(id);
    return r < 0 ? 'down' : HEALTHS[this.scheduler.index.health[r]!]!;
  }

  has(id: string): boolean {
    return this.facts.has(id);
  }

  factsOf(id: string): ClusterFacts | undefined {
    return this.facts.get(id);
  }

  /** Price in force at a cluster (the latest report's, else the registration's). */
  priceOf(id: string): { perCoreHourYuan: number; perCardHourYuan: number } {
    const s = this.seen.get(id),
      f = this.facts.get(id);
    return s?.report?.price ?? f?.registration.price ?? { perCoreHourYuan: 0, perCardHourYuan: 0 };
  }

  /** Node and province of a cluster (for answers). */
  place(id: string): { node: string; province: string } | undefined {
    const f = this.facts.get(id);
    return f ? { node: f.node, province: f.registration.province } : undefined;
  }

  /** Recomputes a cluster's free capacity: K1 less the jobs held there less the use this node does not hold. */
  adjust(id: string): void {
    const row = this.scheduler.index.rowOf(id);
    if (row >= 0) this.account(id, heldUse(this.scheduler.jobsOn(id), row));
  }

  /** `capacity`: the cluster's K1 when the caller has it at hand (else taken from its facts and latest report). */
  private account(id: string, held: Use, capacity?: Cluster['capacity']): void {
    const s = this.seen.get(id),
      f = this.facts.get(id);
    if (!s || !f) return;
    const key = useKey(held);
    if (key !== s.heldKey) {
      s.heldKey = key;
      s.changedAt = this.o.clock.now();
    }
    const k1 = capacity ?? toCluster(f, s.report).capacity;
    this.scheduler.index.setAvailable(id, freeOf(k1, held, s.external));
  }

  /**
   * K1 summed over the clusters active and not down — `capacityOf(this.clusters())` without building every row
   * (fair admission asks on every submit and every round: building the rows was 2 % of a node's CPU in the scale run).
   */
  activeCapacity(): { cpuCores: number; memoryGib: number; cards: number } {
    const ix = this.scheduler.index;
    let cpuCores = 0,
      memoryGib = 0,
      cards = 0;
    for (const f of this.facts.values()) {
      const row = ix.rowOf(f.id);
      if (row < 0 || LIFECYCLES[ix.life[row]!] !== 'active' || HEALTHS[ix.health[row]!] === 'down') continue;
      const k1 = this.seen.get(f.id)?.report?.k1 ?? f.registration.capacity;
      cpuCores += k1.cpuCores;
      memoryGib += k1.memoryGib;
      for (const a of k1.accelerators) cards += a.count;
    }
    return { cpuCores, memoryGib, cards };
  }

  /** The identifiers of these clusters. */
  ids(): string[] {
    return [...this.facts.keys()];
  }

  /**
   * Each cluster's lifecycle and K1 (the latest report's, else the registration's) — what a ceiling reads, without
   * building every row (`subtreeCeiling` runs on every summary sent and every child's summary answered).
   */
  *capacities(): Generator<{ lifecycle: Cluster['lifecycle']; capacity: Cluster['capacity'] | ClusterReport['k1'] }> {
    for (const f of this.facts.values())
      yield { lifecycle: f.lifecycle, capacity: this.seen.get(f.id)?.report?.k1 ?? f.registration.capacity };
  }

  /** The clusters as scheduler rows with their current availability. */
  clusters(): Cluster[] {
    const ix = this.scheduler.index;
    return [...this.facts.values()].map((f) => {
      const row = ix.rowOf(f.id);
      const c = toCluster(f, this.seen.get(f.id)?.report);
      const accelerators = c.capacity.accelerators.map((a) => ({
        ...a,
        count: ix.acc[ix.modelOf(a.model)]?.avail[row] ?? 0,
      }));
      return {
        ...c,
        health: HEALTHS[ix.health[row]!]!,
        lifecycle: LIFECYCLES[ix.life[row]!]!,
        available: {
          cpuCores: ix.cpuAvail[row]!,
          memoryGib: ix.memAvail[row]!,
          storageGib: ix.stoAvail[row]!,
          bandwidthGbps: ix.bwAvail[row]!,
          accelerators,
        },
      };
    });
  }

  /**
   * The summary of these clusters for the parent — `summarise(prefix, this.clusters())` without building a row per
   * cluster: each cluster's figures are the row last put into the index (checked then), its state the index's. One
   * object is refilled for every cluster (the summary keeps none), so a summary allocates nothing per cluster that has
   * no accelerators. A cluster the index never took (every figure it sent refused) counts as not live.
   */
  summary(prefix: string): SubtreeView {
    const ix = this.scheduler.index;
    const cards: { model: string; count: number }[] = [];
    const available = { cpuCores: 0, memoryGib: 0, accelerators: cards };
    const scratch: { -readonly [K in keyof SummaryRow]: SummaryRow[K] } = {
      lifecycle: 'active',
      health: 'down',
      arch: 'x86_64',
      provinceCode: '',
      securityLevel: 0,
      pricePerCoreHourYuan: 0,
      pricePerCardHourYuan: 0,
      reliability: 0,
      pue: 0,
      carbonIntensity: 0,
      greenShare: 0,
      latencyMsTo: {},
      capacity: { cpuCores: 0 },
      available,
    };
    const rows = function* (view: ClusterView): Generator<SummaryRow> {
      for (const f of view.facts.values()) {
        const r = ix.rowOf(f.id);
        if (r < 0) {
          scratch.health = 'down';
          yield scratch;
          continue;
        }
        const s = view.seen.get(f.id);
        const c = s?.row ?? toCluster(f, s?.report);
        scratch.lifecycle = LIFECYCLES[ix.life[r]!]!;
        scratch.health = HEALTHS[ix.health[r]!]!;
        scratch.arch = c.arch;
        scratch.provinceCode = c.provinceCode;
        scratch.securityLevel = c.securityLevel;
        scratch.pricePerCoreHourYuan = c.pricePerCoreHourYuan;
        scratch.pricePerCardHourYuan = c.pricePerCardHourYuan;
        scratch.reliability = c.reliability;
        scratch.pue = c.pue;
        scratch.carbonIntensity = c.carbonIntensity;
        scratch.greenShare = c.greenShare;
        scratch.latencyMsTo = c.latencyMsTo;
        scratch.capacity = c.capacity;
        available.cpuCores = ix.cpuAvail[r]!;
        available.memoryGib = ix.memAvail[r]!;
        cards.length = 0;
        for (const a of c.capacity.accelerators)
          cards.push({ model: a.model, count: ix.acc[ix.modelOf(a.model)]?.avail[r] ?? 0 });
        yield scratch;
      }
    };
    return summariseRows(prefix, rows(this));
  }
}
