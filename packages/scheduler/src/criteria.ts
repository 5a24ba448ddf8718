import type { Criterion, Objective, Task, CriterionWeights } from './model.ts';

/** One criterion the multi-criteria policies weigh: its unit and whether larger is better. */
export interface CriterionSpec {
  readonly name: Criterion;
  readonly unit: string;
  readonly benefit: boolean;
}

/**
 * The criteria, by name. `cost` is the resource bill only (price × resources × duration): carbon and latency are
 * criteria of their own, so a multi-criteria method never counts them twice.
 */
export const CRITERION_TABLE: Readonly<Record<Criterion, CriterionSpec>> = {
  cost: { name: 'cost', unit: '元', benefit: false },
  latency: { name: 'latency', unit: 'ms', benefit: false },
  carbon: { name: 'carbon', unit: 'kg CO2', benefit: false },
  reliability: { name: 'reliability', unit: '0–1', benefit: true },
  headroom: { name: 'headroom', unit: 'share of capacity', benefit: true },
};

/** Criteria in display order. */
export const CRITERIA: readonly Criterion[] = Object.keys(CRITERION_TABLE) as Criterion[];

/** Weights of the named objectives (cost, latency, carbon, reliability, headroom). */
export const OBJECTIVE_WEIGHTS: Readonly<Record<Objective, CriterionWeights>> = {
  cost: { cost: 0.6, latency: 0.1, carbon: 0.1, reliability: 0.1, headroom: 0.1 },
  latency: { cost: 0.15, latency: 0.6, carbon: 0.05, reliability: 0.1, headroom: 0.1 },
  green: { cost: 0.2, latency: 0.05, carbon: 0.6, reliability: 0.05, headroom: 0.1 },
  balanced: { cost: 0.3, latency: 0.2, carbon: 0.2, reliability: 0.15, headroom: 0.15 },
};

/** Normalised weights by criterion name. */
export type Weights = Readonly<Record<Criterion, number>>;

/** The weights of a task, normalised to sum 1; latency-tolerant work gives its latency weight to cost and carbon. */
export function weightsFor(task: Task): Weights {
  const o = task.objective ?? 'balanced';
  const raw = typeof o === 'string' ? OBJECTIVE_WEIGHTS[o] : o;
  const w: Record<Criterion, number> = { cost: 0, latency: 0, carbon: 0, reliability: 0, headroom: 0 };
  for (const c of CRITERIA) w[c] = Math.max(0, raw[c] ?? 0);
  if (task.latencyTolerant || !task.constraints?.userProvince) {
    w.cost += w.latency / 2;
    w.carbon += w.latency / 2;
    w.latency = 0;
  }
  const sum = CRITERIA.reduce((a, c) => a + w[c], 0);
  if (sum <= 0) w.cost = 1;
  else for (const c of CRITERIA) w[c] /= sum;
  return w;
}

/**
 * Shadow prices of the expected-cost policy, as multipliers of the cost model's carbon price and latency penalty,
 * and of the expected re-run cost. `balanced` values carbon at 10 × the ETS-like carbon price (1 元/kg, near common
 * social-cost-of-carbon estimates) and latency at the penalty; another objective scales these by its weight of
 * the criterion over its weight of cost, relative to the same ratio in `balanced`. Carbon and latency are floored at
 * 1 (they are part of the bill: an objective may value them more, never less); failure may go to 0.
 */
export interface ShadowPrices {
  readonly carbon: number;
  readonly latency: number;
  readonly failure: number;
}

/** The shadow prices of the `balanced` objective; the others are scaled from these. */
export const BALANCED_SHADOW_PRICES: ShadowPrices = { carbon: 10, latency: 1, failure: 1 };

const B = OBJECTIVE_WEIGHTS.balanced as Record<Criterion, number>;

/** The shadow prices of a task's objective. */
export function shadowPricesFor(task: Task): ShadowPrices {
  const o = task.objective ?? 'balanced';
  const raw = typeof o === 'string' ? OBJECTIVE_WEIGHTS[o] : o;
  const cost = Math.max(raw.cost ?? 0, 1e-9);
  const rel = (c: Criterion): number => Math.min(1e6, Math.max(0, raw[c] ?? 0) / cost / (B[c] / B.cost));
  const k = BALANCED_SHADOW_PRICES;
  return {
    carbon: Math.max(1, k.carbon * rel('carbon')),
    latency: Math.max(1, k.latency * rel('latency')),
    failure: k.failure * rel('reliability'),
  };
}
