import { PROVINCES } from '@cpnet/identifier';
import { residencyVerdict } from '@cpnet/protocol';
import { kgCo2PerItKwh, DEFAULT_COST_MODEL, type CostModel } from './cost.ts';
import { weightsFor } from './criteria.ts';
import type { Arch, Cluster, Health, SubtreeView, Task } from './model.ts';

const WEST = new Set(PROVINCES.filter((p) => p.macro === 'west').map((p) => p.code));
/** Whether a province is in the western macro-region (东数西算's compute side). */
export const isWestern = (province: string): boolean => WEST.has(province);

/** Summarises a subtree's clusters for its parent: what the parent needs to pick a child without seeing every cluster. */
export function summarise(prefix: string, clusters: readonly Cluster[]): SubtreeView {
  const live = clusters.filter((c) => c.lifecycle === 'active' && c.health !== 'down');
  const cards: Record<string, number> = {},
    bigCards: Record<string, number> = {};
  const minLatencyMsTo: Record<string, number> = {};
  let cpu = 0,
    mem = 0,
    bigCpu = 0,
    bigMem = 0,
    weight = 0,
    kg = 0,
    rel = 0;
  for (const c of live) {
    cpu += c.available.cpuCores;
    mem += c.available.memoryGib;
    bigCpu = Math.max(bigCpu, c.available.cpuCores);
    bigMem = Math.max(bigMem, c.available.memoryGib);
    for (const a of c.available.accelerators) {
      cards[a.model] = (cards[a.model] ?? 0) + a.count;
      bigCards[a.model] = Math.max(bigCards[a.model] ?? 0, a.count);
    }
    for (const [p, ms] of Object.entries(c.latencyMsTo))
      minLatencyMsTo[p] = Math.min(minLatencyMsTo[p] ?? Infinity, ms);
    weight += c.capacity.cpuCores;
    kg += c.capacity.cpuCores * kgCo2PerItKwh(c);
    rel += c.capacity.cpuCores * c.reliability;
  }
  const health: Health =
    live.length === 0
      ? 'down'
      : live.length < clusters.length || live.some((c) => c.health === 'degraded')
        ? 'degraded'
        : 'healthy';
  return {
    prefix,
    provinces: [...new Set(live.map((c) => c.provinceCode))].sort(),
    archs: [...new Set(live.map((c) => c.arch))].sort() as Arch[],
    clusters: live.length,
    available: { cpuCores: cpu, memoryGib: mem, cards },
    largest: { cpuCores: bigCpu, memoryGib: bigMem, cards: bigCards },
    minPricePerCoreHourYuan: Math.min(...live.map((c) => c.pricePerCoreHourYuan)),
    minPricePerCardHourYuan: Math.min(...live.map((c) => c.pricePerCardHourYuan)),
    kgCo2PerItKwh: weight > 0 ? kg / weight : 0,
    maxSecurityLevel: Math.max(0, ...live.map((c) => c.securityLevel)),
    meanReliability: weight > 0 ? rel / weight : 0,
    minLatencyMsTo,
    health,
  };
}

/** A ranked child subtree; the choice is approximate, so the caller confirms with the owner and tries the next on refusal. */
export interface SubtreeChoice {
  readonly prefix: string;
  readonly rank: number;
  /** Weighted score 0–1 (1 = best on every criterion among the feasible children). */
  readonly score: number;
  readonly estimatedCostYuan: number;
  readonly latencyMs: number;
  readonly western: boolean;
}

/** Ranked children, and the reason each other child was ruled out. */
export interface SubtreeDecision {
  readonly ranked: readonly SubtreeChoice[];
  readonly excluded: readonly { readonly prefix: string; readonly reason: string }[];
}

/** Chooses among child subtrees from their summaries (optimistic: best price, best latency, largest cluster). */
export function chooseSubtree(
  summaries: readonly SubtreeView[],
  task: Task,
  costModel: CostModel = DEFAULT_COST_MODEL,
): SubtreeDecision {
  const c = task.constraints ?? {},
    d = task.demand,
    r = task.replicas,
    single = (task.mode ?? 'single') === 'single';
  const cards = d.accelerator?.count ?? 0,
    model = d.accelerator?.model;
  const excluded: { prefix: string; reason: string }[] = [];
  const feasible: { s: SubtreeView; cost: number; lat: number; kg: number }[] = [];
  for (const s of summaries) {
    const pool = single ? s.largest : s.available;
    const haveCards = model ? (pool.cards[model] ?? 0) : Math.max(0, ...Object.values(pool.cards));
    const allowed = s.provinces.filter((p) => residencyVerdict(c.residency, p).allowed);
    const lat = c.userProvince ? (s.minLatencyMsTo[c.userProvince] ?? Infinity) : 0;
    const reason =
      s.health === 'down'
        ? 'subtree is down'
        : allowed.length === 0
          ? `data residency allows none of ${s.provinces.join(', ')}`
          : c.arch && !s.archs.includes(c.arch)
            ? `no ${c.arch} clusters`
            : (c.minSecurityLevel ?? 0) > s.maxSecurityLevel
              ? `security level ≤ ${s.maxSecurityLevel} < ${c.minSecurityLevel}`
              : pool.cpuCores < d.cpuCores * r
                ? `${single ? 'largest cluster has' : 'subtree has'} ${pool.cpuCores} free cores < ${d.cpuCores * r}`
                : pool.memoryGib < d.memoryGib * r
                  ? `${pool.memoryGib} GiB free < ${d.memoryGib * r}`
                  : haveCards < cards * r
                    ? `${haveCards} free ${model ?? ''} cards < ${cards * r}`
                    : lat > (c.maxLatencyMs ?? Infinity)
                      ? `best latency ${lat} ms > max ${c.maxLatencyMs} ms`
                      : null;
    if (reason) {
      excluded.push({ prefix: s.prefix, reason });
      continue;
    }
    const rh = r * task.durationHours;
    const kg =
      (rh * (d.cpuCores * costModel.wattsPerCore + cards * costModel.defaultCardWatts) * s.kgCo2PerItKwh) / 1000;
    const over = task.latencyTolerant ? 0 : Math.max(0, lat - (task.latencyTargetMs ?? Infinity));
    const cost =
      rh * (d.cpuCores * s.minPricePerCoreHourYuan + cards * s.minPricePerCardHourYuan) +
      kg * costModel.carbonPriceYuanPerKg +
      over * rh * costModel.latencyPenaltyYuanPerMsHour;
    feasible.push({ s, cost, lat, kg });
  }
  const w = weightsFor(task);
  // Min-max normalisation (lower is better) over the finite values; an unknown (infinite or missing) value — a
  // subtree that reported no latency to the user's province, say — scores worst instead of poisoning the ranking.
  const norm = (xs: number[], x: number): number => {
    const finite = xs.filter(Number.isFinite);
    if (!Number.isFinite(x)) return finite.length === xs.length ? 1 : 0;
    const lo = Math.min(...finite),
      hi = Math.max(...finite);
    return hi > lo ? (hi - x) / (hi - lo) : 1;
  };
  const costs = feasible.map((f) => f.cost),
    lats = feasible.map((f) => f.lat),
    kgs = feasible.map((f) => f.kg),
    rels = feasible.map((f) => -f.s.meanReliability);
  const scored = feasible
    .map((f) => ({
      f,
      score:
        w[0]! * norm(costs, f.cost) +
        w[1]! * norm(lats, f.lat) +
        w[2]! * norm(kgs, f.kg) +
        (w[3]! + w[4]!) * norm(rels, -f.s.meanReliability),
    }))
    .sort((a, b) => b.score - a.score || a.f.s.prefix.localeCompare(b.f.s.prefix));
  return {
    ranked: scored.map((x, i) => ({
      prefix: x.f.s.prefix,
      rank: i + 1,
      score: x.score,
      estimatedCostYuan: x.f.cost,
      latencyMs: x.f.lat,
      western: x.f.s.provinces.every(isWestern),
    })),
    excluded,
  };
}

/** Tries ranked children in order until one owner accepts (the summary was approximate); reports every refusal. */
export function escalate<T>(
  decision: SubtreeDecision,
  tryChild: (prefix: string) => { ok: true; value: T } | { ok: false; reason: string },
):
  | { ok: true; prefix: string; value: T; refusals: { prefix: string; reason: string }[] }
  | { ok: false; refusals: { prefix: string; reason: string }[] } {
  const refusals: { prefix: string; reason: string }[] = [];
  for (const c of decision.ranked) {
    const r = tryChild(c.prefix);
    if (r.ok) return { ok: true, prefix: c.prefix, value: r.value, refusals };
    refusals.push({ prefix: c.prefix, reason: r.reason });
  }
  return { ok: false, refusals };
}
