import type { TimeSource } from '@cpnet/kernel';
import type { ClusterIndex } from './cluster-index.ts';
import { DEFAULT_COST_MODEL, type CostModel } from './cost.ts';
import { BENEFIT, CRITERIA, weightsFor } from './criteria.ts';
import { CONSTRAINTS, R, describeExclusion, type Constraint, type ExcludedCluster } from './exclusion.ts';
import type { Criterion, Task } from './model.ts';
import { modelAt, replicasFit, resolveNeed, type Need } from './need.ts';

/** How a selection is made. */
export interface SelectOptions {
  /** Candidates returned (default 5). */
  readonly k?: number;
  /** TOPSIS (default) or a weighted sum of min-max normalised criteria. */
  readonly method?: 'topsis' | 'weighted-sum';
  /** 'all' (default): an Exclusion object for every excluded cluster; 'codes': only the reason code array (fast path). */
  readonly explain?: 'all' | 'codes';
  /** Rows the caller rules out (a failed cluster, an owner that refused). */
  readonly excludeRows?: Uint8Array;
  readonly costModel?: CostModel;
  /** Needed for deadlines; without it deadlines are not checked and a warning says so. */
  readonly clock?: TimeSource;
}

/** One criterion of a candidate: its raw value and a 0–10 score (10 = best among candidates). */
export interface CriterionScore {
  readonly value: number;
  readonly score: number;
}

/** A ranked candidate cluster. */
export interface RankedCluster {
  readonly clusterId: string;
  readonly row: number;
  readonly rank: number;
  /** TOPSIS closeness (0–1) or weighted sum (0–1). */
  readonly closeness: number;
  /** IETF CATS level-2 score: min-max normalised over the candidates, 0–10. */
  readonly catsScore: number;
  /** CATS reading: 8–10 preferred, 4–7 optional, 0–3 not steering. */
  readonly catsClass: 'preferred' | 'optional' | 'not-steering';
  readonly criteria: Readonly<Record<Criterion, CriterionScore>>;
  readonly costYuan: number;
  readonly replicasFit: number;
}

/** A dry-run answer: nothing is reserved. */
export interface Selection {
  readonly taskId: string;
  readonly method: 'topsis' | 'weighted-sum';
  readonly considered: number;
  readonly feasible: number;
  readonly candidates: readonly RankedCluster[];
  /** Reason code per row (0 = candidate); `CONSTRAINTS[code]` names it. */
  readonly reasonCodes: Uint8Array;
  readonly excludedBy: Readonly<Partial<Record<Constraint, number>>>;
  /** The constraint that excluded most clusters, with a sentence — the answer when nothing fits. */
  readonly mainObstacle: { readonly constraint: Constraint; readonly count: number; readonly message: string } | null;
  /** Present with explain 'all': one entry per excluded cluster. */
  readonly exclusions?: readonly ExcludedCluster[];
  readonly warnings: readonly string[];
}

interface Scratch {
  rows: Int32Array;
  x: Float64Array[];
}
const scratches = new WeakMap<ClusterIndex, Scratch>();
function scratchFor(ix: ClusterIndex): Scratch {
  let s = scratches.get(ix);
  if (!s || s.rows.length < ix.size) {
    const n = Math.max(ix.size, 64);
    s = { rows: new Int32Array(n), x: CRITERIA.map(() => new Float64Array(n)) };
    scratches.set(ix, s);
  }
  return s;
}

/** Filters, scores and ranks the clusters of `ix` for `task`. Pure apart from reusing scratch memory. */
export function select(ix: ClusterIndex, task: Task, options: SelectOptions = {}): Selection {
  const need = resolveNeed(ix, task);
  const now = options.clock?.now();
  const codes = new Uint8Array(ix.size);
  const s = scratchFor(ix);
  const feasible = filterAndMeasure({
    ix,
    need,
    codes,
    s,
    now,
    exclude: options.excludeRows,
    cm: options.costModel ?? DEFAULT_COST_MODEL,
  });
  const method = options.method ?? 'topsis';
  const candidates = rank(ix, need, { s, count: feasible, k: options.k ?? 5, w: weightsFor(task), method });
  const counts = new Array<number>(CONSTRAINTS.length).fill(0);
  for (let i = 0; i < codes.length; i++) counts[codes[i]!]!++;
  const excludedBy: Partial<Record<Constraint, number>> = {};
  let top = 0,
    topCount = 0;
  for (let c = 1; c < counts.length; c++) {
    if (counts[c]! > 0) excludedBy[CONSTRAINTS[c] as Constraint] = counts[c]!;
    if (counts[c]! > topCount) {
      top = c;
      topCount = counts[c]!;
    }
  }
  const mainObstacle =
    top === 0
      ? null
      : {
          constraint: CONSTRAINTS[top] as Constraint,
          count: counts[top]!,
          message: `${CONSTRAINTS[top]} excluded ${counts[top]} of ${ix.size} clusters${feasible === 0 ? '; no cluster fits' : ''}`,
        };
  const warnings = need.deadline < Infinity && now === undefined ? ['deadline not checked: no clock given'] : [];
  const result: Selection = {
    taskId: task.id,
    method,
    considered: ix.size,
    feasible,
    candidates,
    reasonCodes: codes,
    excludedBy,
    mainObstacle,
    warnings,
  };
  if ((options.explain ?? 'all') === 'codes') return result;
  const exclusions: ExcludedCluster[] = [];
  for (let r = 0; r < codes.length; r++)
    if (codes[r]! !== 0) exclusions.push(describeExclusion(ix, { row: r, code: codes[r]! }, { task, need, now }));
  return { ...result, exclusions };
}

interface FilterArgs {
  ix: ClusterIndex;
  need: Need;
  codes: Uint8Array;
  s: Scratch;
  now: number | undefined;
  exclude: Uint8Array | undefined;
  cm: CostModel;
}

/** Pass 1: one loop over the columns; writes a reason code per row and the criteria of each candidate. */
function filterAndMeasure(a: FilterArgs): number {
  const { ix, need, codes, s, exclude, cm } = a;
  const {
    life,
    health,
    arch,
    prov,
    security,
    cpuAvail,
    memAvail,
    stoAvail,
    bwAvail,
    priceCore,
    priceCard,
    kgPerKwh,
    reliability,
    queueWaitMin,
  } = ix;
  const [xCost, xLat, xCarbon, xRel, xHead] = s.x as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const rows = s.rows;
  const {
    cpu,
    mem,
    sto,
    bw,
    cards,
    replicas,
    hours,
    minReplicas,
    minSecurity,
    maxLatency,
    maxPrice,
    latencyTarget,
    residencyOk,
  } = need;
  const needArch = need.arch;
  const fixedModel = need.anyModel ? -1 : need.model;
  const acc = fixedModel >= 0 ? ix.acc[fixedModel]! : undefined;
  const lat = need.userRow >= 0 ? ix.latency[need.userRow]! : undefined;
  const rh = replicas * hours;
  const wCore = cm.wattsPerCore,
    carbonPrice = cm.carbonPriceYuanPerKg,
    penalty = cm.latencyPenaltyYuanPerMsHour;
  const checkDeadline = need.deadline < Infinity && a.now !== undefined;
  const startBudgetMin = checkDeadline ? (need.deadline - a.now! - hours * 3_600_000) / 60_000 : 0;
  const cpuTotal = cpu * minReplicas,
    memTotal = mem * minReplicas,
    stoTotal = sto * minReplicas,
    bwTotal = bw * minReplicas,
    cardTotal = cards * minReplicas;
  let count = 0;
  for (let i = 0, n = ix.size; i < n; i++) {
    if (life[i] !== 0) {
      codes[i] = R.lifecycle;
      continue;
    }
    if (health[i] === 2) {
      codes[i] = R.health;
      continue;
    }
    if (exclude !== undefined && exclude[i] === 1) {
      codes[i] = R.caller;
      continue;
    }
    if (needArch >= 0 && arch[i] !== needArch) {
      codes[i] = R.arch;
      continue;
    }
    let cardAvail = 0,
      cardCap = 1,
      watts = 0;
    if (cards > 0) {
      const m = acc !== undefined ? fixedModel : need.model === -2 ? -1 : modelAt(ix, need, i);
      const cols = m >= 0 ? ix.acc[m]! : undefined;
      if (cols === undefined || cols.cap[i]! <= 0 || cols.fp16[i]! < need.minFp16) {
        codes[i] = R.accelerator;
        continue;
      }
      cardAvail = cols.avail[i]!;
      cardCap = cols.cap[i]!;
      watts = cols.watts[i]!;
    }
    if (residencyOk[prov[i]!] === 0) {
      codes[i] = R.residency;
      continue;
    }
    if (security[i]! < minSecurity) {
      codes[i] = R.security;
      continue;
    }
    if (cpuAvail[i]! < cpuTotal) {
      codes[i] = R.cpu;
      continue;
    }
    if (memAvail[i]! < memTotal) {
      codes[i] = R.memory;
      continue;
    }
    if (cardAvail < cardTotal) {
      codes[i] = R.cards;
      continue;
    }
    if (stoAvail[i]! < stoTotal) {
      codes[i] = R.storage;
      continue;
    }
    if (bwAvail[i]! < bwTotal) {
      codes[i] = R.bandwidth;
      continue;
    }
    const l = lat !== undefined ? lat[i]! : 0;
    if (l > maxLatency) {
      codes[i] = R.latency;
      continue;
    }
    const hourly = replicas * (cpu * priceCore[i]! + cards * priceCard[i]!);
    if (hourly > maxPrice) {
      codes[i] = R.price;
      continue;
    }
    if (checkDeadline && queueWaitMin[i]! > startBudgetMin) {
      codes[i] = R.deadline;
      continue;
    }
    const kg = (rh * (cpu * wCore + cards * watts) * kgPerKwh[i]!) / 1000;
    const over = l - latencyTarget;
    codes[i] = 0;
    rows[count] = i;
    xCost[count] = hourly * hours + kg * carbonPrice + (over > 0 ? over * rh * penalty : 0);
    xLat[count] = l;
    xCarbon[count] = kg;
    xRel[count] = health[i] === 1 ? reliability[i]! * 0.5 : reliability[i]!;
    const hc = (cpuAvail[i]! - cpuTotal) / ix.cpuCap[i]!;
    const hg = cards > 0 ? (cardAvail - cardTotal) / cardCap : 1;
    xHead[count] = hc < hg ? hc : hg;
    count++;
  }
  return count;
}

interface RankArgs {
  s: Scratch;
  count: number;
  k: number;
  w: Float64Array;
  method: 'topsis' | 'weighted-sum';
}

/** Pass 2: TOPSIS closeness (or weighted sum) over the candidates, keeping the top k. */
function rank(ix: ClusterIndex, need: Need, a: RankArgs): RankedCluster[] {
  const { s, count, w } = a;
  const J = CRITERIA.length;
  const min = new Float64Array(J).fill(Infinity),
    max = new Float64Array(J).fill(-Infinity),
    sq = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const x = s.x[j]!;
    let lo = Infinity,
      hi = -Infinity,
      q = 0;
    for (let c = 0; c < count; c++) {
      const v = x[c]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      q += v * v;
    }
    min[j] = lo;
    max[j] = hi;
    sq[j] = q;
  }
  // TOPSIS on vector-normalised, weighted values: coefficient w/‖x‖; ideal = min for costs, max for benefits.
  const coef = new Float64Array(J),
    best = new Float64Array(J),
    worst = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const span = max[j]! - min[j]!;
    coef[j] =
      a.method === 'topsis' ? (sq[j]! > 0 && span > 0 ? w[j]! / Math.sqrt(sq[j]!) : 0) : span > 0 ? w[j]! / span : 0;
    best[j] = BENEFIT[j] ? max[j]! : min[j]!;
    worst[j] = BENEFIT[j] ? min[j]! : max[j]!;
  }
  const k = Math.min(a.k, count);
  const topC = new Int32Array(k),
    topS = new Float64Array(k).fill(-Infinity);
  let sMin = Infinity,
    sMax = -Infinity;
  const [x0, x1, x2, x3, x4] = s.x as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const [c0, c1, c2, c3, c4] = coef as unknown as [number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = best as unknown as [number, number, number, number, number];
  const [u0, u1, u2, u3, u4] = worst as unknown as [number, number, number, number, number];
  const topsis = a.method === 'topsis';
  for (let c = 0; c < count; c++) {
    let score: number;
    if (topsis) {
      const p0 = c0 * (x0[c]! - b0),
        p1 = c1 * (x1[c]! - b1),
        p2 = c2 * (x2[c]! - b2),
        p3 = c3 * (x3[c]! - b3),
        p4 = c4 * (x4[c]! - b4);
      const n0 = c0 * (x0[c]! - u0),
        n1 = c1 * (x1[c]! - u1),
        n2 = c2 * (x2[c]! - u2),
        n3 = c3 * (x3[c]! - u3),
        n4 = c4 * (x4[c]! - u4);
      const dp = Math.sqrt(p0 * p0 + p1 * p1 + p2 * p2 + p3 * p3 + p4 * p4);
      const dn = Math.sqrt(n0 * n0 + n1 * n1 + n2 * n2 + n3 * n3 + n4 * n4);
      score = dp + dn > 0 ? dn / (dp + dn) : 1;
    } else {
      score = c0 * (u0 - x0[c]!) + c1 * (u1 - x1[c]!) + c2 * (u2 - x2[c]!) + c3 * (x3[c]! - u3) + c4 * (x4[c]! - u4);
      if (c0 + c1 + c2 + c3 + c4 === 0) score = 1;
    }
    if (score < sMin) sMin = score;
    if (score > sMax) sMax = score;
    if (k > 0 && score > topS[k - 1]!) {
      let p = k - 1;
      while (p > 0 && score > topS[p - 1]!) {
        topS[p] = topS[p - 1]!;
        topC[p] = topC[p - 1]!;
        p--;
      }
      topS[p] = score;
      topC[p] = c;
    }
  }
  const out: RankedCluster[] = [];
  for (let r = 0; r < k; r++) {
    const c = topC[r]!,
      row = s.rows[c]!,
      sc = topS[r]!;
    const criteria = {} as Record<Criterion, CriterionScore>;
    CRITERIA.forEach((name, j) => {
      const v = s.x[j]![c]!,
        span = max[j]! - min[j]!;
      criteria[name] = { value: v, score: span > 0 ? (10 * (BENEFIT[j] ? v - min[j]! : max[j]! - v)) / span : 10 };
    });
    const cats = sMax > sMin ? (10 * (sc - sMin)) / (sMax - sMin) : 10;
    out.push({
      clusterId: ix.ids[row]!,
      row,
      rank: r + 1,
      closeness: sc,
      catsScore: Math.round(cats * 100) / 100,
      catsClass: cats >= 8 ? 'preferred' : cats >= 4 ? 'optional' : 'not-steering',
      criteria,
      costYuan: criteria.cost.value,
      replicasFit: Math.min(need.replicas, replicasFit(ix, need, row)),
    });
  }
  return out;
}

/** Every cluster that passes the hard constraints for `task`, with its cost — the columns a batch optimiser needs. */
export function feasibleCosts(
  ix: ClusterIndex,
  task: Task,
  options: Pick<SelectOptions, 'costModel' | 'clock'> = {},
): { rows: Int32Array; costs: Float64Array } {
  const need = resolveNeed(ix, task);
  const s = scratchFor(ix);
  const n = filterAndMeasure({
    ix,
    need,
    codes: new Uint8Array(ix.size),
    s,
    now: options.clock?.now(),
    exclude: undefined,
    cm: options.costModel ?? DEFAULT_COST_MODEL,
  });
  return { rows: s.rows.slice(0, n), costs: s.x[0]!.slice(0, n) };
}
