import type { z } from 'zod';
import type { Cluster, Health, RankedCluster, Selection, SubtreeView, Task } from '@cpnet/scheduler';
import type {
  Candidate,
  ClusterReport,
  Exclusion,
  RegisterCluster,
  ResourceVector,
  SchedulingFigures,
  SchedulingSummary,
  SelectionAnswer,
  TaskTemplate,
} from '@cpnet/protocol';
import { formatTime } from '@cpnet/protocol';

/** What a node knows about a registered cluster besides its reports: registration, owner, lifecycle, health. */
export interface ClusterFacts {
  readonly id: string;
  readonly node: string;
  readonly provider: string;
  readonly registration: RegisterCluster;
  readonly lifecycle: Cluster['lifecycle'];
  readonly health: Health;
  /** 0–1; protocol has no field for it, 0.99 unless the node learns better. */
  readonly reliability?: number;
}

const DEFAULT_RELIABILITY = 0.99;

function resources(v: ResourceVector): Cluster['capacity'] {
  return {
    cpuCores: v.cpuCores,
    memoryGib: v.memoryGib,
    storageGib: v.storageGib,
    bandwidthGbps: v.bandwidthGbps,
    accelerators: v.accelerators.map((a) => ({
      model: a.model,
      count: a.count,
      fp16Tflops: a.fp16Tflops,
      fp32Tflops: a.fp32Tflops,
    })),
  };
}

/**
 * A scheduler cluster row from the registration and the latest report (K1, K2, price, PUE, green share, latency);
 * its health is `judged` when given (the aggregation's verdict), else the worse of the facts' and the report's.
 */
export function toCluster(facts: ClusterFacts, report?: ClusterReport, judged?: Health): Cluster {
  const reg = facts.registration;
  const k1 = report ? report.k1 : reg.capacity;
  const k2 = report ? report.k2 : reg.capacity;
  const price = report?.price ?? reg.price;
  const reported = report?.metrics.health;
  // The worse of the node's own verdict (silence = down) and the gateway's.
  const order: Health[] = ['healthy', 'degraded', 'down'];
  const health =
    judged ?? (reported && order.indexOf(reported) > order.indexOf(facts.health) ? reported : facts.health);
  return {
    id: facts.id,
    nodePrefix: facts.node,
    provinceCode: reg.province,
    ...(reg.industry ? { industry: reg.industry } : {}),
    arch: reg.arch,
    capacity: resources(k1),
    available: resources(k2),
    pricePerCoreHourYuan: price.perCoreHourYuan,
    pricePerCardHourYuan: price.perCardHourYuan,
    pue: report?.pue ?? reg.pue,
    greenShare: report?.greenShare ?? reg.greenShare,
    carbonIntensity: reg.carbonIntensity,
    reliability: facts.reliability ?? DEFAULT_RELIABILITY,
    securityLevel: reg.securityLevel,
    lifecycle: facts.lifecycle,
    health,
    // A gateway reports one latency figure: taken as the latency to users in the cluster's own province; the
    // scheduler estimates other provinces from distance.
    latencyMsTo: report ? { [reg.province]: report.metrics.latencyMs } : {},
  };
}

/** The scheduler's task from a wire template, with the job id and tenant the node assigns. */
export function toTask(t: TaskTemplate, who: { id: string; tenant: string }): Task {
  const c = t.constraints;
  const acc = t.demand.accelerators;
  const objective: Task['objective'] =
    typeof t.objective === 'string'
      ? t.objective
      : {
          cost: t.objective.cost,
          latency: t.objective.latency,
          carbon: t.objective.green,
          reliability: t.objective.reliability,
        };
  return {
    id: who.id,
    tenant: who.tenant,
    priority: t.priority,
    replicas: t.replicas,
    durationHours: t.durationHours,
    mode: t.placement,
    demand: {
      cpuCores: t.demand.cpuCores,
      memoryGib: t.demand.memoryGib,
      storageGib: t.demand.storageGib,
      bandwidthGbps: t.demand.bandwidthGbps,
      ...(acc
        ? {
            accelerator: {
              count: acc.count,
              ...(acc.model ? { model: acc.model } : {}),
              ...(acc.minFp16Tflops !== undefined ? { minFp16Tflops: acc.minFp16Tflops } : {}),
            },
          }
        : {}),
    },
    constraints: {
      ...(c.arch ? { arch: c.arch } : {}),
      ...(c.residency ? { residency: c.residency } : {}),
      ...(c.minSecurityLevel !== undefined ? { minSecurityLevel: c.minSecurityLevel } : {}),
      ...(c.userProvince ? { userProvince: c.userProvince } : {}),
      ...(c.maxLatencyMs !== undefined ? { maxLatencyMs: c.maxLatencyMs } : {}),
      ...(c.maxPricePerHourYuan !== undefined ? { maxPricePerHourYuan: c.maxPricePerHourYuan } : {}),
      ...(c.deadline ? { deadline: Date.parse(c.deadline) } : {}),
    },
    objective,
    latencyTolerant: t.latencyTolerant,
    // Issue 27 fields ride in `ext` (a 1.0 peer ignores them): `ext.data` (input GiB and province, output GiB) and
    // `ext.locality` (gang latency bound, spread, affinity groups). The scheduler checks them and names the field.
    ...(t.ext?.data !== undefined ? { data: t.ext.data as Task['data'] } : {}),
    ...(t.ext?.locality !== undefined ? { placement: t.ext.locality as Task['placement'] } : {}),
  };
}

/** Where a cluster is, for the answer's candidates. */
export type ClusterPlace = (clusterId: string) => { node: string; province: string } | undefined;

function candidate(c: RankedCluster, place: ClusterPlace): z.input<typeof Candidate> {
  const where = place(c.clusterId) ?? { node: 'CPN', province: '11' };
  const criteria: Record<string, number> = {};
  for (const [k, v] of Object.entries(c.criteria)) criteria[k] = Math.round(v.score * 100) / 100;
  return {
    cluster: c.clusterId,
    node: where.node,
    province: where.province,
    rank: c.rank,
    score: Math.round(c.closeness * 10_000) / 10_000,
    cats: Math.min(10, Math.max(0, c.catsScore)),
    criteria,
    estimatedCostYuan: Math.max(0, Math.round(c.costYuan * 100) / 100),
    // The data transfer in the cost (issue 27), in `ext` so a 1.0 reader ignores it.
    ...(c.transfer
      ? {
          ext: {
            transfer: {
              movedGib: Math.round(c.transfer.movedGib * 100) / 100,
              yuan: Math.round(c.transfer.yuan * 100) / 100,
              secondsToStart: Math.round(c.transfer.secondsToStart),
            },
          },
        }
      : {}),
  };
}

/** One sentence: the best candidate, or which constraint excluded everything (not an error). */
function selectionSummary(sel: Selection): string {
  if (sel.considered === 0) return 'no clusters are known to this node';
  if (sel.candidates.length > 0) {
    const top = sel.candidates[0]!;
    return `${sel.feasible} of ${sel.considered} clusters fit; best ${top.clusterId} (CATS ${top.catsScore})`;
  }
  const parts = Object.entries(sel.excludedBy)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, n]) => `${k} ${n}`);
  return `no cluster fits: ${sel.mainObstacle?.message ?? 'every cluster was excluded'} (excluded by ${parts.join(', ')})`;
}

/** The wire answer of a scheduler selection made at `answeredBy`. */
export function toSelectionAnswer(
  sel: Selection,
  o: { answeredBy: string; escalated: boolean; place: ClusterPlace },
): z.input<typeof SelectionAnswer> {
  // The first few clusters of each constraint (the scheduler's groups, most frequent first); the counts of all are in
  // the summary. One entry per excluded cluster cost an object and a message each (tens of ms at 100,000 clusters).
  const excluded: z.input<typeof Exclusion>[] = (sel.exclusionGroups ?? []).flatMap((g) =>
    g.examples.map((e) => ({ cluster: e.clusterId, constraint: e.constraint, reason: e.message })),
  );
  return {
    answeredBy: o.answeredBy,
    escalated: o.escalated,
    candidates: sel.candidates.map((c) => candidate(c, o.place)),
    excluded,
    summary: selectionSummary(sel),
  };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The scheduler's subtree summary as wire figures (infinite prices of an empty subtree become null). */
export function figuresToWire(s: SubtreeView): z.input<typeof SchedulingFigures> {
  return {
    provinces: [...s.provinces],
    archs: [...s.archs],
    clusters: s.clusters,
    available: { ...s.available, cards: { ...s.available.cards } },
    largest: { ...s.largest, cards: { ...s.largest.cards } },
    minPricePerCoreHourYuan: finite(s.minPricePerCoreHourYuan),
    minPricePerCardHourYuan: finite(s.minPricePerCardHourYuan),
    kgCo2PerItKwh: s.kgCo2PerItKwh,
    maxSecurityLevel: s.maxSecurityLevel,
    meanReliability: Math.min(1, Math.max(0, s.meanReliability)),
    minLatencyMsTo: { ...s.minLatencyMsTo },
    health: s.health,
  };
}

/** The scheduler's subtree summary on the wire, as a 1.0 `SchedulingSummary`. */
export function summaryToWire(s: SubtreeView, at: number): z.input<typeof SchedulingSummary> {
  return { node: s.prefix, at: formatTime(at), ...figuresToWire(s) };
}

/** A child's wire figures back into the scheduler's shape (its ceiling is kept apart). */
export function figuresFromWire(prefix: string, w: SchedulingFigures): SubtreeView {
  return {
    prefix,
    provinces: w.provinces,
    archs: w.archs,
    clusters: w.clusters,
    available: w.available,
    largest: w.largest,
    minPricePerCoreHourYuan: w.minPricePerCoreHourYuan ?? Infinity,
    minPricePerCardHourYuan: w.minPricePerCardHourYuan ?? Infinity,
    kgCo2PerItKwh: w.kgCo2PerItKwh,
    maxSecurityLevel: w.maxSecurityLevel,
    meanReliability: w.meanReliability,
    minLatencyMsTo: w.minLatencyMsTo,
    health: w.health,
  };
}

/** Merges child summaries into one for this node's parent (the subtree as a whole). */
export function mergeSummaries(prefix: string, parts: readonly SubtreeView[]): SubtreeView {
  const live = parts.filter((p) => p.health !== 'down' && p.clusters > 0);
  const add = (a: Record<string, number>, b: Readonly<Record<string, number>>, f: (x: number, y: number) => number) => {
    for (const [k, v] of Object.entries(b)) a[k] = f(a[k] ?? 0, v);
  };
  const avail = { cpuCores: 0, memoryGib: 0, cards: {} as Record<string, number> },
    big = { cpuCores: 0, memoryGib: 0, cards: {} as Record<string, number> };
  const lat: Record<string, number> = {};
  let clusters = 0,
    kg = 0,
    rel = 0;
  for (const p of live) {
    clusters += p.clusters;
    avail.cpuCores += p.available.cpuCores;
    avail.memoryGib += p.available.memoryGib;
    add(avail.cards, p.available.cards, (x, y) => x + y);
    big.cpuCores = Math.max(big.cpuCores, p.largest.cpuCores);
    big.memoryGib = Math.max(big.memoryGib, p.largest.memoryGib);
    add(big.cards, p.largest.cards, Math.max);
    for (const [k, v] of Object.entries(p.minLatencyMsTo)) lat[k] = Math.min(lat[k] ?? Infinity, v);
    kg += p.kgCo2PerItKwh * p.clusters;
    rel += p.meanReliability * p.clusters;
  }
  const health: Health =
    live.length === 0
      ? 'down'
      : live.length < parts.length || live.some((p) => p.health === 'degraded')
        ? 'degraded'
        : 'healthy';
  return {
    prefix,
    provinces: [...new Set(live.flatMap((p) => p.provinces))].sort(),
    archs: [...new Set(live.flatMap((p) => p.archs))].sort(),
    clusters,
    available: avail,
    largest: big,
    minPricePerCoreHourYuan: Math.min(...live.map((p) => p.minPricePerCoreHourYuan)),
    minPricePerCardHourYuan: Math.min(...live.map((p) => p.minPricePerCardHourYuan)),
    kgCo2PerItKwh: clusters > 0 ? kg / clusters : 0,
    maxSecurityLevel: Math.max(0, ...live.map((p) => p.maxSecurityLevel)),
    meanReliability: clusters > 0 ? rel / clusters : 0,
    minLatencyMsTo: lat,
    health,
  };
}
