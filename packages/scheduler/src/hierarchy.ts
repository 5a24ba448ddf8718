import { PROVINCES } from '@cpnet/identifier';
import { residencyVerdict } from '@cpnet/protocol';
import { ok } from '@cpnet/kernel';
import { kgCo2PerItKwh, DEFAULT_COST_MODEL, type CostModel } from './cost.ts';
import { shadowPricesFor } from './criteria.ts';
import type { Arch, Cluster, Health, SubtreeView, Task } from './model.ts';
import { cheapestTransfer, DEFAULT_TRANSFER, type TransferEstimate } from './transfer.ts';
import { checkClusters, checkSubtree, checkTask, type Checked } from './validate.ts';

const WEST = new Set(PROVINCES.filter((p) => p.macro === 'west').map((p) => p.code));
/** Whether a province is in the western macro-region (东数西算's compute side). */
export const isWestern = (province: string): boolean => WEST.has(province);

/**
 * What a summary reads of one cluster: its figures and its current state (a `Cluster` is one). `summariseRows` reads
 * each row once and keeps nothing of it, so a caller may pass the same object again with new values; a latency table
 * is taken as it was when first read (give a changed table as a new object, as a new report does).
 */
export interface SummaryRow {
  readonly lifecycle: Cluster['lifecycle'];
  readonly health: Health;
  readonly arch: Arch;
  readonly provinceCode: string;
  readonly securityLevel: number;
  readonly pricePerCoreHourYuan: number;
  readonly pricePerCardHourYuan: number;
  readonly reliability: number;
  readonly pue: number;
  readonly carbonIntensity: number;
  readonly greenShare: number;
  readonly latencyMsTo: Readonly<Record<string, number>>;
  readonly capacity: { readonly cpuCores: number };
  readonly available: {
    readonly cpuCores: number;
    readonly memoryGib: number;
    readonly accelerators: readonly { readonly model: string; readonly count: number }[];
  };
}

/**
 * Summarises a subtree's clusters for its parent: what the parent needs to pick a child without seeing every
 * cluster. One pass with no spread into Math.min/max, so any number of clusters fits on the stack.
 */
export function summarise(prefix: string, clusters: readonly Cluster[]): Checked<SubtreeView> {
  const checked = checkClusters(clusters);
  if (!checked.ok) return checked;
  return ok(summariseRows(prefix, clusters));
}

/**
 * The keys of a latency table, listed once per table object: enumerating province codes (integer-like keys) makes a
 * new array each time, and a node's summary reads the same tables every interval. The tables are not changed in place
 * (a new report brings a new one).
 */
const LATENCY_KEYS = new WeakMap<object, readonly string[]>();
function keysOf(table: Readonly<Record<string, number>>): readonly string[] {
  let keys = LATENCY_KEYS.get(table);
  if (keys === undefined) LATENCY_KEYS.set(table, (keys = Object.keys(table)));
  return keys;
}

/**
 * `summarise` of rows already checked (a node's own clusters, each checked when it entered the scheduler's index):
 * one streaming pass, nothing built per row. The rows may be one object refilled for each cluster.
 */
export function summariseRows(prefix: string, rows: Iterable<SummaryRow>): SubtreeView {
  const cards: Record<string, number> = {},
    bigCards: Record<string, number> = {};
  const minLatencyMsTo: Record<string, number> = {};
  const provinces = new Set<string>();
  const archs = new Set<Arch>();
  let cpu = 0,
    mem = 0,
    bigCpu = 0,
    bigMem = 0,
    weight = 0,
    kg = 0,
    rel = 0,
    minCore = Infinity,
    minCard = Infinity,
    maxSec = 0,
    all = 0,
    live = 0,
    degraded = false;
  for (const c of rows) {
    all++;
    if (c.lifecycle !== 'active' || c.health === 'down') continue;
    live++;
    if (c.health === 'degraded') degraded = true;
    provinces.add(c.provinceCode);
    archs.add(c.arch);
    if (c.pricePerCoreHourYuan < minCore) minCore = c.pricePerCoreHourYuan;
    if (c.pricePerCardHourYuan < minCard) minCard = c.pricePerCardHourYuan;
    if (c.securityLevel > maxSec) maxSec = c.securityLevel;
    cpu += c.available.cpuCores;
    mem += c.available.memoryGib;
    bigCpu = Math.max(bigCpu, c.available.cpuCores);
    bigMem = Math.max(bigMem, c.available.memoryGib);
    for (const a of c.available.accelerators) {
      cards[a.model] = (cards[a.model] ?? 0) + a.count;
      bigCards[a.model] = Math.max(bigCards[a.model] ?? 0, a.count);
    }
    for (const p of keysOf(c.latencyMsTo)) {
      const ms = c.latencyMsTo[p]!;
      const held = minLatencyMsTo[p];
      if (held === undefined || ms < held) minLatencyMsTo[p] = ms;
    }
    weight += c.capacity.cpuCores;
    kg += c.capacity.cpuCores * kgCo2PerItKwh(c);
    rel += c.capacity.cpuCores * c.reliability;
  }
  const health: Health = live === 0 ? 'down' : live < all || degraded ? 'degraded' : 'healthy';
  return {
    prefix,
    provinces: [...provinces].sort(),
    archs: [...archs].sort(),
    clusters: live,
    available: { cpuCores: cpu, memoryGib: mem, cards },
    largest: { cpuCores: bigCpu, memoryGib: bigMem, cards: bigCards },
    minPricePerCoreHourYuan: minCore,
    minPricePerCardHourYuan: minCard,
    kgCo2PerItKwh: weight > 0 ? kg / weight : 0,
    maxSecurityLevel: maxSec,
    meanReliability: weight > 0 ? rel / weight : 0,
    minLatencyMsTo,
    health,
  };
}

/** A ranked child subtree; the choice is approximate, so the caller confirms with the owner and tries the next on refusal. */
export interface SubtreeChoice {
  readonly prefix: string;
  readonly rank: number;
  /** The best expected cost over this one's, 0–1 (1 = the first choice). Display only. */
  readonly score: number;
  /** Optimistic bill, 元 (lowest prices, best latency). */
  readonly estimatedCostYuan: number;
  /** What the ranking uses: the bill with the objective's shadow prices and the expected cost of a failure, 元. */
  readonly expectedCostYuan: number;
  readonly latencyMs: number;
  readonly western: boolean;
  /** The data move the rank assumed (the cheapest into any of its provinces); only for a task that names data. */
  readonly transfer?: TransferEstimate & { readonly province: string };
}

/** Ranked children, and the reason each other child was ruled out. */
export interface SubtreeDecision {
  readonly ranked: readonly SubtreeChoice[];
  readonly excluded: readonly { readonly prefix: string; readonly reason: string }[];
}

/**
 * Chooses among child subtrees from their summaries (optimistic: best price, best latency, largest cluster),
 * ranked by expected cost in 元 — absolute, like the cluster policy, so a dominated child never reorders the others.
 */
export function chooseSubtree(
  summaries: readonly SubtreeView[],
  task: Task,
  costModel: CostModel = DEFAULT_COST_MODEL,
): Checked<SubtreeDecision> {
  const checked = checkTask(task);
  if (!checked.ok) return checked;
  for (let i = 0; i < summaries.length; i++) {
    const e = checkSubtree(summaries[i]!, `summaries[${i}]`);
    if (e) return e;
  }
  const c = task.constraints ?? {},
    d = task.demand,
    r = task.replicas,
    single = (task.mode ?? 'single') === 'single';
  const cards = d.accelerator?.count ?? 0,
    model = d.accelerator?.model;
  const excluded: { prefix: string; reason: string }[] = [];
  const feasible: {
    s: SubtreeView;
    cost: number;
    lat: number;
    expected: number;
    transfer: SubtreeChoice['transfer'] | null;
  }[] = [];
  const p = shadowPricesFor(task);
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
    const target = task.latencyTolerant ? Infinity : (task.latencyTargetMs ?? Infinity);
    const over = lat > target ? lat - target : 0;
    const resource = rh * (d.cpuCores * s.minPricePerCoreHourYuan + cards * s.minPricePerCardHourYuan);
    const carbonYuan = kg * costModel.carbonPriceYuanPerKg,
      latYuan = over * rh * costModel.latencyPenaltyYuanPerMsHour;
    // Data has weight: the cheapest move of the task's data into one of the subtree's provinces (optimistic, as the
    // prices are), so a subtree holding the data outranks a cheaper one far from it when the data is heavy.
    const transfer = cheapestTransfer(task.data, s.provinces, costModel.transfer ?? DEFAULT_TRANSFER);
    const cost = resource + carbonYuan + latYuan + (transfer?.yuan ?? 0);
    const expected =
      cost + (p.carbon - 1) * carbonYuan + (p.latency - 1) * latYuan + p.failure * (1 - s.meanReliability) * cost;
    // NaN (0 × ∞ when a price is unknown and nothing is asked of it) sorts as unknown: last.
    feasible.push({ s, cost, lat, expected: Number.isNaN(expected) ? Infinity : expected, transfer });
  }
  feasible.sort((a, b) => a.expected - b.expected || (a.s.prefix < b.s.prefix ? -1 : a.s.prefix > b.s.prefix ? 1 : 0));
  const best = feasible[0]?.expected ?? 0;
  return ok({
    ranked: feasible.map((x, i) => ({
      prefix: x.s.prefix,
      rank: i + 1,
      score: x.expected === best ? 1 : x.expected > 0 && Number.isFinite(x.expected) ? best / x.expected : 0,
      estimatedCostYuan: x.cost,
      expectedCostYuan: x.expected,
      latencyMs: x.lat,
      western: x.s.provinces.every(isWestern),
      ...(x.transfer ? { transfer: x.transfer } : {}),
    })),
    excluded,
  });
}
