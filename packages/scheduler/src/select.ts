import { ok } from '@cpnet/kernel';
import type { TimeSource } from '@cpnet/kernel';
import type { ClusterIndex } from './cluster-index.ts';
import { DEFAULT_COST_MODEL, type CostModel } from './cost.ts';
import { CRITERIA, CRITERION_TABLE } from './criteria.ts';
import { CONSTRAINTS, R, describeExclusion, type Constraint, type ExcludedCluster } from './exclusion.ts';
import type { Criterion, Task } from './model.ts';
import { modelAt, replicasFit, resolveNeed, type Need } from './need.ts';
import { COLUMNS, DEFAULT_REGISTRY, type CandidateTable, type Column, type Registry } from './policy.ts';
import { checkTask, inputError, type Checked } from './validate.ts';
import {
  DEFAULT_TRANSFER,
  checkTransferTable,
  estimateTransfer,
  transferMatrix,
  type TransferEstimate,
} from './transfer.ts';

/** How a selection is made. */
export interface SelectOptions {
  /** Candidates returned (default 5); a whole number ≥ 0. */
  readonly k?: number;
  /**
   * The ranking policy, by name in the registry: `expected-cost` (default, absolute, in 元), `topsis` or
   * `weighted-sum` (relative to the candidate set: see their caveat), or one a plugin registered.
   */
  readonly method?: string;
  /**
   * 'all' (default): exclusions grouped by constraint with the first `examples` explained, and every exclusion on
   * demand (built on first read); 'codes': only the reason code array (fast path).
   */
  readonly explain?: 'all' | 'codes';
  /** Clusters explained per constraint in `exclusionGroups` (default 5; a whole number). */
  readonly examples?: number;
  /** Rows the caller rules out (a failed cluster, an owner that refused). */
  readonly excludeRows?: Uint8Array;
  readonly costModel?: CostModel;
  /** Needed for deadlines; without it deadlines are not checked and a warning says so. */
  readonly clock?: TimeSource;
  /** Policies, filter and score plugins (default: the built-in policies, no plugins). */
  readonly registry?: Registry;
}

/** One criterion of a candidate: its raw value and a 0–10 score (10 = best among candidates; display only). */
export interface CriterionScore {
  readonly value: number;
  readonly score: number;
}

/** A ranked candidate cluster. */
export interface RankedCluster {
  readonly clusterId: string;
  readonly row: number;
  readonly rank: number;
  /** The policy's score, lower is better (expected-cost: 元; topsis / weighted-sum: minus the closeness). */
  readonly score: number;
  /** 0–1, 1 for the best candidate: the best score over this one's (expected-cost) or the TOPSIS / weighted-sum closeness. */
  readonly closeness: number;
  /** IETF CATS level-2 score: min-max normalised over the candidates, 0–10 (display only; never used to choose). */
  readonly catsScore: number;
  /** CATS reading: 8–10 preferred, 4–7 optional, 0–3 not steering. */
  readonly catsClass: 'preferred' | 'optional' | 'not-steering';
  readonly criteria: Readonly<Record<Criterion, CriterionScore>>;
  /** The cost model's bill, 元: resources + carbon at the carbon price + latency penalty. */
  readonly costYuan: number;
  readonly replicasFit: number;
  /** When the task names data: GiB moved across provinces, its 元 (in `costYuan`) and the seconds before the start. */
  readonly transfer?: TransferEstimate;
}

/** The clusters one constraint excluded: how many, and the first few explained. */
export interface ExclusionGroup {
  readonly constraint: Constraint;
  readonly count: number;
  readonly examples: readonly ExcludedCluster[];
}

/** A dry-run answer: nothing is reserved. */
export interface Selection {
  readonly taskId: string;
  readonly method: string;
  readonly considered: number;
  readonly feasible: number;
  readonly candidates: readonly RankedCluster[];
  /** Reason code per row (0 = candidate); `CONSTRAINTS[code]` names it. */
  readonly reasonCodes: Uint8Array;
  readonly excludedBy: Readonly<Partial<Record<Constraint, number>>>;
  /** The constraint that excluded most clusters, with a sentence — the answer when nothing fits. */
  readonly mainObstacle: { readonly constraint: Constraint; readonly count: number; readonly message: string } | null;
  /**
   * Present with explain 'all': exclusions grouped by constraint, most frequent first — the count and the first
   * `examples` clusters (row order) each with its explanation. Cheap: at most `examples` described per constraint.
   */
  readonly exclusionGroups?: readonly ExclusionGroup[];
  /**
   * Present with explain 'all': one entry per excluded cluster, built on first read (an object and a message per
   * cluster: tens of ms at 100,000 clusters) and then kept.
   */
  readonly exclusions?: readonly ExcludedCluster[];
  readonly warnings: readonly string[];
}

/** Scratch memory of one index: candidate rows and measured columns, reused across decisions. */
interface Scratch {
  rows: Int32Array;
  col: Record<Column, Float64Array>;
  out: Float64Array;
}
const scratches = new WeakMap<ClusterIndex, Scratch>();
function scratchFor(ix: ClusterIndex): Scratch {
  let s = scratches.get(ix);
  if (!s || s.rows.length < ix.size) {
    const n = Math.max(ix.size, 64);
    const col = {} as Record<Column, Float64Array>;
    for (const c of COLUMNS) col[c] = new Float64Array(n);
    s = { rows: new Int32Array(n), col, out: new Float64Array(n) };
    scratches.set(ix, s);
  }
  return s;
}

/** Checks the options of a selection. */
function checkOptions(o: SelectOptions, registry: Registry): Checked<string> {
  if (o.k !== undefined && !(Number.isInteger(o.k) && o.k >= 0))
    return inputError('options.k', `must be a whole number ≥ 0, got ${String(o.k)}`);
  if (o.explain !== undefined && o.explain !== 'all' && o.explain !== 'codes')
    return inputError('options.explain', `must be all or codes, got ${String(o.explain)}`);
  if (o.examples !== undefined && !(Number.isInteger(o.examples) && o.examples >= 0))
    return inputError('options.examples', `must be a whole number ≥ 0, got ${String(o.examples)}`);
  const te = o.costModel?.transfer === undefined ? null : checkTransferTable(o.costModel.transfer);
  if (te) return te;
  const method = o.method ?? 'expected-cost';
  if (!registry.policies.has(method))
    return inputError('options.method', `must be one of ${[...registry.policies.keys()].join(', ')}, got ${method}`);
  return ok(method);
}

/** Filters, scores and ranks the clusters of `ix` for `task`, or names the field of the task that is wrong. */
export function select(ix: ClusterIndex, task: Task, options: SelectOptions = {}): Checked<Selection> {
  const checked = checkTask(task);
  if (!checked.ok) return checked;
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const m = checkOptions(options, registry);
  if (!m.ok) return m;
  return ok(selectChecked(ix, task, { ...options, method: m.value, registry }));
}

/** `select` on a task already checked (the scheduler's inner calls). */
export function selectChecked(
  ix: ClusterIndex,
  task: Task,
  options: SelectOptions & { method: string; registry: Registry },
): Selection {
  const need = resolveNeed(ix, task);
  const now = options.clock?.now();
  const codes = new Uint8Array(ix.size);
  const s = scratchFor(ix);
  const cm = options.costModel ?? DEFAULT_COST_MODEL;
  let feasible = filterAndMeasure({ ix, need, codes, s, now, exclude: options.excludeRows, cm });
  const registry = options.registry;
  const pluginReasons = registry.filters.size > 0 ? new Map<number, string>() : undefined;
  if (pluginReasons || registry.scores.size > 0)
    feasible = runPlugins({ ix, task, s, codes, registry, pluginReasons }, feasible);
  const table: CandidateTable = { count: feasible, rows: s.rows, col: s.col };
  registry.policies.get(options.method)!.score(table, { task, index: ix, costModel: cm }, s.out);
  const candidates = rank(ix, need, {
    t: table,
    out: s.out,
    k: options.k ?? 5,
    codes,
    independent: registry.policies.get(options.method)!.independent,
    costModel: cm,
  });
  feasible -= candidates.dropped;
  const counts = new Int32Array(CONSTRAINTS.length);
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
  const warnings: string[] = [];
  if (need.deadline < Infinity && now === undefined) warnings.push('deadline not checked: no clock given');
  if (need.maxLatency < Infinity && need.userRow < 0)
    warnings.push('maxLatencyMs not checked: no constraints.userProvince to measure latency from');
  const result: Selection = {
    taskId: task.id,
    method: options.method,
    considered: ix.size,
    feasible,
    candidates: candidates.list,
    reasonCodes: codes,
    excludedBy,
    mainObstacle,
    warnings,
  };
  if ((options.explain ?? 'all') === 'codes') return result;
  const ctx = { task, need, now, pluginReasons };
  const full: Selection = {
    ...result,
    exclusionGroups: describeGroups(ix, { codes, counts, examples: options.examples ?? 5 }, ctx),
  };
  let every: ExcludedCluster[] | undefined;
  // Lazy: a caller that reads only the groups (the node's API) never pays for an object per excluded cluster.
  return Object.defineProperty(full, 'exclusions', {
    enumerable: true,
    get: () => (every ??= describeAll(ix, codes, ctx)),
  });
}

/** The first `examples` excluded rows of each constraint, explained; stops once every group has its examples. */
function describeGroups(
  ix: ClusterIndex,
  o: { codes: Uint8Array; counts: ArrayLike<number>; examples: number },
  ctx: Parameters<typeof describeExclusion>[2],
): ExclusionGroup[] {
  const { codes, counts } = o;
  const rows: number[][] = [];
  let wanted = 0;
  for (let c = 1; c < counts.length; c++) {
    rows.push([]);
    wanted += Math.min(o.examples, counts[c]!);
  }
  for (let r = 0; r < codes.length && wanted > 0; r++) {
    const c = codes[r]!;
    if (c === 0) continue;
    const list = rows[c - 1]!;
    if (list.length < o.examples) {
      list.push(r);
      wanted -= 1;
    }
  }
  const groups: ExclusionGroup[] = [];
  for (let c = 1; c < counts.length; c++) {
    if (counts[c]! === 0) continue;
    groups.push({
      constraint: CONSTRAINTS[c] as Constraint,
      count: counts[c]!,
      examples: rows[c - 1]!.map((row) => describeExclusion(ix, { row, code: c }, ctx)),
    });
  }
  return groups.sort((a, b) => b.count - a.count);
}

/** Every excluded row's explanation. */
function describeAll(
  ix: ClusterIndex,
  codes: Uint8Array,
  ctx: Parameters<typeof describeExclusion>[2],
): ExcludedCluster[] {
  const exclusions: ExcludedCluster[] = [];
  for (let r = 0; r < codes.length; r++)
    if (codes[r]! !== 0) exclusions.push(describeExclusion(ix, { row: r, code: codes[r]! }, ctx));
  return exclusions;
}

/** Filter plugins drop candidates (compacting the table); score plugins add 元 to `extraYuan`. */
function runPlugins(
  a: {
    ix: ClusterIndex;
    task: Task;
    s: Scratch;
    codes: Uint8Array;
    registry: Registry;
    pluginReasons: Map<number, string> | undefined;
  },
  count: number,
): number {
  const { ix, task, s, codes, registry } = a;
  const filters = [...registry.filters.values()],
    scores = [...registry.scores.values()];
  let kept = 0;
  for (let c = 0; c < count; c++) {
    const row = s.rows[c]!;
    let reason: string | null = null;
    for (const f of filters) {
      reason = f.filter(ix, row, task);
      if (reason !== null) {
        reason = `${f.name}: ${reason}`;
        break;
      }
    }
    if (reason !== null) {
      codes[row] = R.plugin;
      a.pluginReasons?.set(row, reason);
      continue;
    }
    let extra = 0;
    for (const p of scores) extra += p.yuan(ix, row, task);
    s.rows[kept] = row;
    for (const col of COLUMNS) s.col[col][kept] = s.col[col][c]!;
    s.col.extraYuan[kept] = extra;
    kept++;
  }
  return kept;
}

interface FilterArgs {
  ix: ClusterIndex;
  need: Need;
  codes: Uint8Array;
  s: Scratch;
  now: number | undefined;
  exclude: Uint8Array | undefined;
  cm: CostModel;
  /** Skip the capacity checks (preemption asks which clusters pass every other constraint). */
  ignoreCapacity?: boolean;
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
  const {
    cost: xCost,
    latency: xLat,
    carbon: xCarbon,
    reliability: xRel,
    headroom: xHead,
    totalYuan: xTotal,
    carbonYuan: xCarbonYuan,
    latencyYuan: xLatYuan,
    extraYuan: xExtra,
  } = s.col;
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
  // Data has weight: 元 per GiB from the data's province to each cluster's and back (0 when the task names no data).
  const dn = need.data;
  const tm = dn.inRow >= 0 ? transferMatrix(cm.transfer ?? DEFAULT_TRANSFER) : undefined;
  const P = tm ? tm.provinces : 0;
  // Capacity is checked against these totals; zero totals pass any availability (≥ 0) without a branch in the loop.
  const fill = a.ignoreCapacity ? 0 : minReplicas;
  const cpuTotal = cpu * fill,
    memTotal = mem * fill,
    stoTotal = sto * fill,
    bwTotal = bw * fill,
    cardTotal = cards * fill;
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
    let xfer = 0,
      xferMin = 0;
    if (tm !== undefined) {
      const p = prov[i]!;
      xfer = dn.inGib * tm.price[dn.inRow * P + p]! + dn.outGib * tm.price[p * P + dn.outRow]!;
      xferMin = (dn.inGib * tm.secondsPerGib[dn.inRow * P + p]!) / 60;
    }
    if (checkDeadline && queueWaitMin[i]! + xferMin > startBudgetMin) {
      codes[i] = R.deadline;
      continue;
    }
    const kg = (rh * (cpu * wCore + cards * watts) * kgPerKwh[i]!) / 1000;
    const over = l - latencyTarget;
    const resource = hourly * hours,
      carbonYuan = kg * carbonPrice,
      latYuan = over > 0 ? over * rh * penalty : 0;
    codes[i] = 0;
    rows[count] = i;
    xCost[count] = resource + xfer;
    xTotal[count] = resource + xfer + carbonYuan + latYuan;
    xCarbonYuan[count] = carbonYuan;
    xLatYuan[count] = latYuan;
    xExtra[count] = 0;
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
  t: CandidateTable;
  out: Float64Array;
  k: number;
  codes: Uint8Array;
  independent: boolean;
  costModel: CostModel;
}

const transferOf = (cm: CostModel) => transferMatrix(cm.transfer ?? DEFAULT_TRANSFER);

/**
 * Pass 2: keeps the k lowest scores (ties: the earlier row). A score that is not finite never enters the top k:
 * its row is excluded with reason `score`.
 */
function rank(ix: ClusterIndex, need: Need, a: RankArgs): { list: RankedCluster[]; dropped: number } {
  const { t, out } = a;
  const k = Math.min(a.k, t.count);
  const topC = new Int32Array(k),
    topS = new Float64Array(k).fill(Infinity);
  let sMin = Infinity,
    sMax = -Infinity,
    dropped = 0;
  for (let c = 0; c < t.count; c++) {
    const sc = out[c]!;
    if (!(sc > -Infinity && sc < Infinity)) {
      a.codes[t.rows[c]!] = R.score;
      dropped++;
      continue;
    }
    if (sc < sMin) sMin = sc;
    if (sc > sMax) sMax = sc;
    if (k > 0 && sc < topS[k - 1]!) {
      let p = k - 1;
      while (p > 0 && sc < topS[p - 1]!) {
        topS[p] = topS[p - 1]!;
        topC[p] = topC[p - 1]!;
        p--;
      }
      topS[p] = sc;
      topC[p] = c;
    }
  }
  const kept = Math.min(k, t.count - dropped);
  if (kept === 0) return { list: [], dropped };
  const lo = {} as Record<Criterion, number>,
    hi = {} as Record<Criterion, number>;
  for (const name of CRITERIA) {
    const x = t.col[name];
    let l = Infinity,
      h = -Infinity;
    for (let c = 0; c < t.count; c++) {
      const v = x[c]!;
      if (v < l) l = v;
      if (v > h) h = v;
    }
    lo[name] = l;
    hi[name] = h;
  }
  const list: RankedCluster[] = [];
  for (let r = 0; r < kept; r++) {
    const c = topC[r]!,
      row = t.rows[c]!,
      sc = topS[r]!;
    const criteria = {} as Record<Criterion, CriterionScore>;
    for (const name of CRITERIA) {
      const v = t.col[name][c]!,
        span = hi[name] - lo[name];
      criteria[name] = {
        value: v,
        score: span > 0 ? (10 * (CRITERION_TABLE[name].benefit ? v - lo[name] : hi[name] - v)) / span : 10,
      };
    }
    const cats = sMax > sMin ? (10 * (sMax - sc)) / (sMax - sMin) : 10;
    list.push({
      clusterId: ix.ids[row]!,
      row,
      rank: r + 1,
      score: sc,
      closeness: a.independent ? (sc > 0 ? topS[0]! / sc : 1) : -sc,
      catsScore: Math.round(cats * 100) / 100,
      catsClass: cats >= 8 ? 'preferred' : cats >= 4 ? 'optional' : 'not-steering',
      criteria,
      costYuan: t.col.totalYuan[c]!,
      replicasFit: Math.min(need.replicas, replicasFit(ix, need, row)),
      ...(need.data.inRow >= 0
        ? { transfer: estimateTransfer(transferOf(a.costModel), need.data, ix.prov[row]!) }
        : {}),
    });
  }
  return { list, dropped };
}

/** Every cluster that passes the hard constraints for `task`, with its cost — the columns a batch optimiser needs. */
export function feasibleCosts(
  ix: ClusterIndex,
  task: Task,
  options: Pick<SelectOptions, 'costModel' | 'clock'> = {},
): Checked<{ rows: Int32Array; costs: Float64Array }> {
  const checked = checkTask(task);
  return checked.ok ? ok(measure(ix, task, options)) : checked;
}

/**
 * The filter on a checked task: rows passing, their bill in 元, and the reason code of every row. With
 * `ignoreCapacity`, rows are judged on every constraint but free capacity.
 */
export function measure(
  ix: ClusterIndex,
  task: Task,
  options: Pick<SelectOptions, 'costModel' | 'clock' | 'excludeRows'> & { ignoreCapacity?: boolean } = {},
): { rows: Int32Array; costs: Float64Array; codes: Uint8Array } {
  const need = resolveNeed(ix, task);
  const s = scratchFor(ix);
  const codes = new Uint8Array(ix.size);
  const n = filterAndMeasure({
    ix,
    need,
    codes,
    s,
    now: options.clock?.now(),
    exclude: options.excludeRows,
    cm: options.costModel ?? DEFAULT_COST_MODEL,
    ignoreCapacity: options.ignoreCapacity,
  });
  return { rows: s.rows.slice(0, n), costs: s.col.totalYuan.slice(0, n), codes };
}
