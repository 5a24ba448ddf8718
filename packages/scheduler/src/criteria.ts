import type { Criterion, Objective, Task, CriterionWeights } from './model.ts';

/** Criteria in scoring order; `benefit` ones are better when larger. */
export const CRITERIA: readonly Criterion[] = ['cost', 'latency', 'carbon', 'reliability', 'headroom'];
export const BENEFIT: readonly boolean[] = [false, false, false, true, true];

/** Weights of the named objectives (cost, latency, carbon, reliability, headroom). */
export const OBJECTIVE_WEIGHTS: Readonly<Record<Objective, CriterionWeights>> = {
  cost: { cost: 0.6, latency: 0.1, carbon: 0.1, reliability: 0.1, headroom: 0.1 },
  latency: { cost: 0.15, latency: 0.6, carbon: 0.05, reliability: 0.1, headroom: 0.1 },
  green: { cost: 0.2, latency: 0.05, carbon: 0.6, reliability: 0.05, headroom: 0.1 },
  balanced: { cost: 0.3, latency: 0.2, carbon: 0.2, reliability: 0.15, headroom: 0.15 },
};

/** The weight vector for a task, normalised to sum 1; latency-tolerant work gives its latency weight to cost and carbon. */
export function weightsFor(task: Task): Float64Array {
  const o = task.objective ?? 'balanced';
  const w = typeof o === 'string' ? OBJECTIVE_WEIGHTS[o] : o;
  const v = new Float64Array(CRITERIA.map((c) => Math.max(0, w[c] ?? 0)));
  if (task.latencyTolerant || !task.constraints?.userProvince) {
    v[0]! += v[1]! / 2;
    v[2]! += v[1]! / 2;
    v[1] = 0;
  }
  const sum = v.reduce((a, b) => a + b, 0);
  if (sum <= 0) v[0] = 1;
  else for (let j = 0; j < v.length; j++) v[j]! /= sum;
  return v;
}
