import { ok } from '@cpnet/kernel';
import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import { CRITERIA, CRITERION_TABLE, shadowPricesFor, weightsFor, type Weights } from './criteria.ts';
import type { Criterion, Task } from './model.ts';
import { inputError, type Checked } from './validate.ts';

/** Columns measured for every candidate by the filter, by name (one Float64Array each, candidate order). */
export type Column =
  | 'cost'
  | 'latency'
  | 'carbon'
  | 'reliability'
  | 'headroom'
  /** The cost model's bill, 元: resources + carbon price × kg + latency penalty. */
  | 'totalYuan'
  /** Carbon at the carbon price, 元. */
  | 'carbonYuan'
  /** Latency penalty, 元. */
  | 'latencyYuan'
  /** What score plugins added, 元. */
  | 'extraYuan';

/** Every column name, in a fixed order. */
export const COLUMNS: readonly Column[] = [
  'cost',
  'latency',
  'carbon',
  'reliability',
  'headroom',
  'totalYuan',
  'carbonYuan',
  'latencyYuan',
  'extraYuan',
];

/** The candidates of one decision: `rows[c]` is the index row of candidate c, `col[name][c]` its measured values. */
export interface CandidateTable {
  readonly count: number;
  readonly rows: Int32Array;
  readonly col: Readonly<Record<Column, Float64Array>>;
}

/** What a policy may read besides the candidates. */
export interface PolicyContext {
  readonly task: Task;
  readonly index: ClusterIndex;
  readonly costModel: CostModel;
}

/**
 * A placement (ranking) policy: writes a score per candidate into `out`, lower is better. A candidate whose score
 * is not finite is never chosen. `independent` says the score of a candidate depends on that candidate alone (no
 * normalisation over the set), which is what makes the policy immune to rank reversal.
 */
export interface ScoringPolicy {
  readonly name: string;
  readonly independent: boolean;
  score(t: CandidateTable, ctx: PolicyContext, out: Float64Array): void;
}

/**
 * The default: expected cost in 元 of running the task on the cluster — the bill (resources, carbon at the carbon
 * price, the latency penalty), plus the expected cost of a failure (1 − reliability, halved when degraded, times the
 * bill: the run is paid again), plus what score plugins add. The objective only moves shadow prices
 * (`shadowPricesFor`). Absolute: nothing is normalised over the candidates, so a newcomer never reorders the others.
 */
export const expectedCostPolicy: ScoringPolicy = {
  name: 'expected-cost',
  independent: true,
  score(t, ctx, out) {
    const p = shadowPricesFor(ctx.task);
    const { totalYuan, carbonYuan, latencyYuan, reliability, extraYuan } = t.col;
    const ec = p.carbon - 1,
      el = p.latency - 1,
      f = p.failure;
    for (let c = 0; c < t.count; c++) {
      const bill = totalYuan[c]!;
      out[c] = bill + ec * carbonYuan[c]! + el * latencyYuan[c]! + f * (1 - reliability[c]!) * bill + extraYuan[c]!;
    }
  },
};

interface Ranges {
  min: Record<Criterion, number>;
  max: Record<Criterion, number>;
  norm: Record<Criterion, number>;
}

function ranges(t: CandidateTable): Ranges {
  const r: Ranges = { min: {}, max: {}, norm: {} } as Ranges;
  for (const name of CRITERIA) {
    const x = t.col[name];
    let lo = Infinity,
      hi = -Infinity,
      q = 0;
    for (let c = 0; c < t.count; c++) {
      const v = x[c]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      q += v * v;
    }
    r.min[name] = lo;
    r.max[name] = hi;
    r.norm[name] = Math.sqrt(q);
  }
  return r;
}

/** The cost criterion of the multi-criteria methods: the resource bill plus what score plugins add. */
const costOf = (t: CandidateTable, c: number): number => t.col.cost[c]! + t.col.extraYuan[c]!;

/**
 * TOPSIS (CAICT's choice) on vector-normalised weighted criteria. Caveat: relative — the ideal and anti-ideal
 * points and the norms are taken over the candidate set, so adding a cluster worse than A and B on every criterion
 * can swap A and B (rank reversal). Use for display or when the set is fixed.
 */
export const topsisPolicy: ScoringPolicy = {
  name: 'topsis',
  independent: false,
  score(t, ctx, out) {
    const w = weightsFor(ctx.task);
    const r = ranges(t);
    const spec = CRITERIA.map((name) => {
      const norm = name === 'cost' ? normOfCost(t) : r.norm[name];
      const lo = name === 'cost' ? minOfCost(t) : r.min[name],
        hi = name === 'cost' ? maxOfCost(t) : r.max[name];
      const coef = norm > 0 && hi > lo ? w[name] / norm : 0;
      const benefit = CRITERION_TABLE[name].benefit;
      return { name, coef, best: benefit ? hi : lo, worst: benefit ? lo : hi };
    });
    for (let c = 0; c < t.count; c++) {
      let dp = 0,
        dn = 0;
      for (const s of spec) {
        const v = s.name === 'cost' ? costOf(t, c) : t.col[s.name][c]!;
        const p = s.coef * (v - s.best),
          n = s.coef * (v - s.worst);
        dp += p * p;
        dn += n * n;
      }
      dp = Math.sqrt(dp);
      dn = Math.sqrt(dn);
      out[c] = -(dp + dn > 0 ? dn / (dp + dn) : 1);
    }
  },
};

/**
 * Weighted sum of min-max normalised criteria. Caveat: relative like TOPSIS — the min and max come from the
 * candidate set, so a dominated newcomer that widens a range can swap two others.
 */
export const weightedSumPolicy: ScoringPolicy = {
  name: 'weighted-sum',
  independent: false,
  score(t, ctx, out) {
    const w: Weights = weightsFor(ctx.task);
    const r = ranges(t);
    const lo = { ...r.min, cost: minOfCost(t) },
      hi = { ...r.max, cost: maxOfCost(t) };
    for (let c = 0; c < t.count; c++) {
      let s = 0;
      for (const name of CRITERIA) {
        const span = hi[name] - lo[name];
        if (span <= 0) continue;
        const v = name === 'cost' ? costOf(t, c) : t.col[name][c]!;
        s += (w[name] * (CRITERION_TABLE[name].benefit ? v - lo[name] : hi[name] - v)) / span;
      }
      out[c] = -s;
    }
  },
};

function minOfCost(t: CandidateTable): number {
  let m = Infinity;
  for (let c = 0; c < t.count; c++) m = Math.min(m, costOf(t, c));
  return m;
}
function maxOfCost(t: CandidateTable): number {
  let m = -Infinity;
  for (let c = 0; c < t.count; c++) m = Math.max(m, costOf(t, c));
  return m;
}
function normOfCost(t: CandidateTable): number {
  let q = 0;
  for (let c = 0; c < t.count; c++) q += costOf(t, c) ** 2;
  return Math.sqrt(q);
}

/**
 * An extra hard constraint, run after the built-in filter on the clusters still in the running (so it never slows
 * the main loop over every cluster). Returns null to keep the cluster, or the reason it is excluded.
 */
export interface FilterPlugin {
  readonly name: string;
  filter(ix: ClusterIndex, row: number, task: Task): string | null;
}

/** An extra cost in 元 of running the task on a cluster (a data-transfer fee, a contract premium …). */
export interface ScorePlugin {
  readonly name: string;
  yuan(ix: ClusterIndex, row: number, task: Task): number;
}

/** Plugins by name, as Karmada's scheduler framework registers its filter and score plugins. */
export interface Registry {
  readonly policies: ReadonlyMap<string, ScoringPolicy>;
  readonly filters: ReadonlyMap<string, FilterPlugin>;
  readonly scores: ReadonlyMap<string, ScorePlugin>;
}

const BUILT_IN = [expectedCostPolicy, topsisPolicy, weightedSumPolicy];

/** The built-in policies: `expected-cost` (default), `topsis`, `weighted-sum`; no filter or score plugins. */
export const DEFAULT_REGISTRY: Registry = {
  policies: new Map(BUILT_IN.map((p) => [p.name, p])),
  filters: new Map(),
  scores: new Map(),
};

/**
 * A registry with the built-in policies and the given plugins (a name used twice is an error: plugins are
 * replaced on purpose by building a new registry, never by accident).
 */
export function createRegistry(
  plugins: {
    policies?: readonly ScoringPolicy[];
    filters?: readonly FilterPlugin[];
    scores?: readonly ScorePlugin[];
  } = {},
): Checked<Registry> {
  let twice: string | null = null;
  const add = <T extends { name: string }>(xs: readonly T[]): Map<string, T> => {
    const into = new Map<string, T>();
    for (const x of xs) {
      if (into.has(x.name)) twice ??= x.name;
      into.set(x.name, x);
    }
    return into;
  };
  const r: Registry = {
    policies: add([...BUILT_IN, ...(plugins.policies ?? [])]),
    filters: add(plugins.filters ?? []),
    scores: add(plugins.scores ?? []),
  };
  return twice === null ? ok(r) : inputError('plugins', `${twice} is registered twice`);
}
