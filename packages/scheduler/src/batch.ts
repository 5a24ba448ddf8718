import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import type { Task } from './model.ts';
import { modelAt, resolveNeed } from './need.ts';
import { measure } from './select.ts';
import { ok } from '@cpnet/kernel';
import { checkTasks, inputError, type Checked, type InputError } from './validate.ts';

/** Options of the batch optimiser. */
export interface BatchOptions {
  readonly costModel?: CostModel;
  /** Subgradient iterations of the Lagrangian (default 200). */
  readonly iterations?: number;
  /**
   * Learned capacity prices (an earlier batch's `prices`) charged on top of each bill while optimising: a small batch
   * (a rolling window of arrivals) then leaves scarce capacity for the work still to come. `costYuan` stays the bill.
   */
  readonly prices?: CapacityPrices;
}

/** A batch placement: one cluster row per task (-1 = rejected), its cost and the Lagrangian lower bound. */
export interface BatchResult {
  readonly rows: Int32Array;
  readonly costYuan: number;
  /** A valid lower bound on any placement's cost (equals the LP bound at the dual optimum). */
  readonly lowerBoundYuan: number;
  readonly rejected: number;
  /** The Lagrangian prices at the best bound: what online placement can learn from (`placeOnline`'s `prices`). */
  readonly prices: CapacityPrices;
}

/**
 * Shadow prices of capacity, 元 per unit per cluster row: `perUnit[row * dims + k]` for dimension k of
 * `[cpu cores, memory GiB, storage GiB, bandwidth Gbps, cards of models[0], cards of models[1], …]`.
 */
export interface CapacityPrices {
  readonly dims: number;
  readonly models: readonly string[];
  readonly perUnit: Float64Array;
}

interface Problem {
  D: number;
  C: number;
  K: number;
  /** Per task: candidate rows, costs, and the task's use of each dim (scaled) at that row. */
  rows: Int32Array[];
  costs: Float64Array[];
  /** The bill without learned prices (equal to `costs` when there are none). */
  bills: Float64Array[];
  use: Float64Array[];
  cap: Float64Array;
  scale: number[];
}

/** Builds the problem: costs from the shared filter and cost model; dims = cpu, memory, storage, bandwidth, cards per model. */
function buildProblem(
  ix: ClusterIndex,
  tasks: readonly Task[],
  o: { cm: CostModel | undefined; prices?: CapacityPrices },
): Problem {
  const { cm, prices } = o;
  const C = ix.size,
    M = ix.models.length,
    K = 4 + M;
  const cap = new Float64Array(C * K);
  const mean = new Float64Array(K);
  for (let j = 0; j < C; j++) {
    const v = [ix.cpuAvail[j]!, ix.memAvail[j]!, ix.stoAvail[j]!, ix.bwAvail[j]!, ...ix.acc.map((m) => m.avail[j]!)];
    v.forEach((x, k) => {
      cap[j * K + k] = x;
      mean[k]! += x / C;
    });
  }
  const scale = Array.from(mean, (m) => (m > 0 ? 1 / m : 0));
  for (let j = 0; j < C; j++) for (let k = 0; k < K; k++) cap[j * K + k]! *= scale[k]!;
  const rows: Int32Array[] = [],
    costs: Float64Array[] = [],
    bills: Float64Array[] = [],
    use: Float64Array[] = [];
  const modelCol = prices ? ix.models.map((m) => prices.models.indexOf(m)) : [];
  for (const t of tasks) {
    const f = measure(ix, { ...t, mode: 'single' }, { costModel: cm });
    const need = resolveNeed(ix, t);
    const u = new Float64Array(f.rows.length * K);
    f.rows.forEach((row, p) => {
      const base = [need.cpu, need.mem, need.sto, need.bw];
      base.forEach((x, k) => {
        u[p * K + k] = x * t.replicas * scale[k]!;
      });
      const m = modelAt(ix, need, row);
      if (m >= 0) u[p * K + 4 + m] = need.cards * t.replicas * scale[4 + m]!;
    });
    rows.push(f.rows);
    bills.push(f.costs);
    costs.push(prices ? surcharged(ix, { need, prices, modelCol, replicas: t.replicas }, f) : f.costs);
    use.push(u);
  }
  return { D: tasks.length, C, K, rows, costs, bills, use, cap, scale };
}

/** Each row's bill plus the learned price of the capacity the task takes there. */
function surcharged(
  ix: ClusterIndex,
  a: { need: ReturnType<typeof resolveNeed>; prices: CapacityPrices; modelCol: number[]; replicas: number },
  f: { rows: Int32Array; costs: Float64Array },
): Float64Array {
  const { need, prices, modelCol, replicas } = a;
  const Kp = prices.dims,
    pu = prices.perUnit;
  return Float64Array.from(f.costs, (c, p) => {
    const row = f.rows[p]!,
      b = row * Kp;
    if (b + Kp > pu.length) return c;
    let v = need.cpu * pu[b]! + need.mem * pu[b + 1]! + need.sto * pu[b + 2]! + need.bw * pu[b + 3]!;
    const m = modelAt(ix, need, row);
    if (m >= 0 && modelCol[m]! >= 0) v += need.cards * pu[b + 4 + modelCol[m]!]!;
    return c + replicas * v;
  });
}

/**
 * Places many tasks at once (each whole on one cluster) minimising total cost under capacity:
 * Lagrangian relaxation of the capacity rows (subgradient, Polyak steps) prices scarce clusters; each price
 * vector is rounded into a placement by regret order, then improved by moves and swaps with the true costs.
 */
export function placeBatch(ix: ClusterIndex, tasks: readonly Task[], options: BatchOptions = {}): Checked<BatchResult> {
  const checked = checkTasks(tasks);
  if (!checked.ok) return checked;
  if (options.prices) {
    const pe = checkPrices(ix, options.prices);
    if (pe) return pe;
  }
  const it = options.iterations;
  if (it !== undefined && !(Number.isInteger(it) && it >= 0))
    return inputError('options.iterations', `must be a whole number ≥ 0, got ${String(it)}`);
  const P = buildProblem(ix, tasks, { cm: options.costModel, prices: options.prices });
  const { C, K } = P;
  const lambda = new Float64Array(C * K);
  const bestLambda = new Float64Array(C * K);
  let best = improve(P, repair(P, round(P, lambda)));
  let bestCost = costOf(P, best);
  let lb = -Infinity,
    theta = 1,
    stall = 0;
  const iterations = options.iterations ?? 200;
  const load = new Float64Array(C * K);
  for (let it = 0; it < iterations; it++) {
    load.fill(0);
    let L = 0;
    for (let k = 0; k < C * K; k++) L -= lambda[k]! * P.cap[k]!;
    for (let i = 0; i < P.D; i++) {
      const { p, r } = argminReduced(P, lambda, i);
      if (p < 0) continue;
      L += r;
      const j = P.rows[i]![p]!;
      for (let k = 0; k < K; k++) load[j * K + k]! += P.use[i]![p * K + k]!;
    }
    if (lb === -Infinity || L > lb + 1e-9 * Math.abs(lb)) {
      lb = L;
      bestLambda.set(lambda);
      stall = 0;
    } else if (++stall >= 15) {
      theta /= 2;
      stall = 0;
    }
    let norm = 0;
    for (let k = 0; k < C * K; k++) {
      const g = load[k]! - P.cap[k]!;
      if (g > 0 || lambda[k]! > 0) norm += g * g;
    }
    if (norm === 0 || theta < 1e-4) break;
    const step = (theta * Math.max(bestCost - L, 1e-9 * bestCost)) / norm;
    for (let k = 0; k < C * K; k++) lambda[k] = Math.max(0, lambda[k]! + step * (load[k]! - P.cap[k]!));
    if (it % 40 === 39 || it === iterations - 1) {
      const cand = improve(P, repair(P, round(P, lambda)));
      const c = costOf(P, cand);
      if (rejectedOf(cand) < rejectedOf(best) || (rejectedOf(cand) === rejectedOf(best) && c < bestCost)) {
        best = cand;
        bestCost = c;
      }
    }
  }
  const rows = new Int32Array(P.D);
  for (let i = 0; i < P.D; i++) rows[i] = best[i]! >= 0 ? P.rows[i]![best[i]!]! : -1;
  const perUnit = new Float64Array(C * K);
  for (let j = 0; j < C; j++) for (let k = 0; k < K; k++) perUnit[j * K + k] = bestLambda[j * K + k]! * P.scale[k]!;
  let bill = 0;
  for (let i = 0; i < P.D; i++) if (best[i]! >= 0) bill += P.bills[i]![best[i]!]!;
  return ok({
    rows,
    costYuan: bill,
    lowerBoundYuan: Math.max(0, lb),
    rejected: rejectedOf(best),
    prices: { dims: K, models: [...ix.models], perUnit },
  });
}

function argminReduced(P: Problem, lambda: Float64Array, i: number): { p: number; r: number } {
  const rows = P.rows[i]!,
    costs = P.costs[i]!,
    use = P.use[i]!,
    K = P.K;
  let bp = -1,
    br = Infinity;
  for (let p = 0; p < rows.length; p++) {
    let r = costs[p]!;
    const base = rows[p]! * K;
    for (let k = 0; k < K; k++) r += lambda[base + k]! * use[p * K + k]!;
    if (r < br) {
      br = r;
      bp = p;
    }
  }
  return { p: bp, r: br };
}

const rejectedOf = (a: Int32Array): number => a.reduce((n, p) => n + (p < 0 ? 1 : 0), 0);

function costOf(P: Problem, a: Int32Array): number {
  let c = 0;
  for (let i = 0; i < P.D; i++) if (a[i]! >= 0) c += P.costs[i]![a[i]!]!;
  return c;
}

function fitsAt(P: Problem, left: Float64Array, t: { i: number; p: number }): boolean {
  const base = P.rows[t.i]![t.p]! * P.K,
    u = P.use[t.i]!;
  for (let k = 0; k < P.K; k++) if (u[t.p * P.K + k]! > left[base + k]! + 1e-9) return false;
  return true;
}

function shiftLeft(P: Problem, left: Float64Array, t: { i: number; p: number; sign: number }): void {
  const base = P.rows[t.i]![t.p]! * P.K,
    u = P.use[t.i]!;
  for (let k = 0; k < P.K; k++) left[base + k]! -= t.sign * u[t.p * P.K + k]!;
}

/** Regret rounding: tasks whose best and second-best reduced costs differ most choose first. */
function round(P: Problem, lambda: Float64Array): Int32Array {
  const order: { i: number; prefs: number[]; regret: number }[] = [];
  for (let i = 0; i < P.D; i++) {
    const rows = P.rows[i]!,
      K = P.K;
    const red = Array.from(P.costs[i]!, (c, p) => {
      let r = c;
      for (let k = 0; k < K; k++) r += lambda[rows[p]! * K + k]! * P.use[i]![p * K + k]!;
      return r;
    });
    const prefs = red.map((_, p) => p).sort((a, b) => red[a]! - red[b]! || a - b);
    const regret = prefs.length > 1 ? red[prefs[1]!]! - red[prefs[0]!]! : Infinity;
    order.push({ i, prefs, regret });
  }
  order.sort((a, b) => b.regret - a.regret || a.i - b.i);
  const left = Float64Array.from(P.cap);
  const a = new Int32Array(P.D).fill(-1);
  for (const o of order) {
    for (const p of o.prefs) {
      if (fitsAt(P, left, { i: o.i, p })) {
        a[o.i] = p;
        shiftLeft(P, left, { i: o.i, p, sign: 1 });
        break;
      }
    }
  }
  return a;
}

/**
 * Places rejected tasks by one ejection: for a rejected task, a cluster where it would fit once one task there moves
 * to another cluster with room. Cheapest resulting change first; rounding leaves such holes when capacity is tight
 * (95 % fill, hard latency bounds).
 */
function repair(P: Problem, a: Int32Array): Int32Array {
  const left = Float64Array.from(P.cap);
  const onRow: number[][] = Array.from({ length: P.C }, () => []);
  for (let i = 0; i < P.D; i++)
    if (a[i]! >= 0) {
      shiftLeft(P, left, { i, p: a[i]!, sign: 1 });
      onRow[P.rows[i]![a[i]!]!]!.push(i);
    }
  for (let i = 0; i < P.D; i++) {
    if (a[i]! >= 0 || P.rows[i]!.length === 0) continue;
    let best: { p: number; i2: number; q: number; delta: number } | null = null;
    for (let p = 0; p < P.rows[i]!.length; p++) {
      if (fitsAt(P, left, { i, p })) {
        if (best === null || P.costs[i]![p]! < best.delta) best = { p, i2: -1, q: -1, delta: P.costs[i]![p]! };
        continue;
      }
      const row = P.rows[i]![p]!;
      for (const i2 of onRow[row]!) {
        const cur = a[i2]!;
        shiftLeft(P, left, { i: i2, p: cur, sign: -1 });
        if (fitsAt(P, left, { i, p })) {
          shiftLeft(P, left, { i, p, sign: 1 });
          for (let q = 0; q < P.rows[i2]!.length; q++) {
            if (q === cur || !fitsAt(P, left, { i: i2, p: q })) continue;
            const delta = P.costs[i]![p]! + P.costs[i2]![q]! - P.costs[i2]![cur]!;
            if (best === null || delta < best.delta) best = { p, i2, q, delta };
          }
          shiftLeft(P, left, { i, p, sign: -1 });
        }
        shiftLeft(P, left, { i: i2, p: cur, sign: 1 });
      }
    }
    if (best === null) continue;
    if (best.i2 >= 0) {
      const from = P.rows[best.i2]![a[best.i2]!]!;
      shiftLeft(P, left, { i: best.i2, p: a[best.i2]!, sign: -1 });
      onRow[from] = onRow[from]!.filter((x) => x !== best.i2);
      shiftLeft(P, left, { i: best.i2, p: best.q, sign: 1 });
      onRow[P.rows[best.i2]![best.q]!]!.push(best.i2);
      a[best.i2] = best.q;
    }
    shiftLeft(P, left, { i, p: best.p, sign: 1 });
    onRow[P.rows[i]![best.p]!]!.push(i);
    a[i] = best.p;
  }
  return a;
}

/** Local search with true costs: moves to cheaper clusters with room, then pairwise swaps, until no gain. */
function improve(P: Problem, a: Int32Array): Int32Array {
  const left = Float64Array.from(P.cap);
  const onRow: Set<number>[] = Array.from({ length: P.C }, () => new Set());
  for (let i = 0; i < P.D; i++)
    if (a[i]! >= 0) {
      shiftLeft(P, left, { i, p: a[i]!, sign: 1 });
      onRow[P.rows[i]![a[i]!]!]!.add(i);
    }
  const posOf = (i: number, row: number): number => P.rows[i]!.indexOf(row);
  for (let pass = 0; pass < 4; pass++) {
    let gained = false;
    for (let i = 0; i < P.D; i++) {
      const cur = a[i]!,
        curCost = cur >= 0 ? P.costs[i]![cur]! : Infinity;
      let bestP = -1,
        bestC = curCost;
      for (let p = 0; p < P.rows[i]!.length; p++) {
        if (P.costs[i]![p]! < bestC - 1e-9 && fitsAt(P, left, { i, p })) {
          bestP = p;
          bestC = P.costs[i]![p]!;
        }
      }
      if (bestP >= 0) {
        if (cur >= 0) {
          shiftLeft(P, left, { i, p: cur, sign: -1 });
          onRow[P.rows[i]![cur]!]!.delete(i);
        }
        shiftLeft(P, left, { i, p: bestP, sign: 1 });
        onRow[P.rows[i]![bestP]!]!.add(i);
        a[i] = bestP;
        gained = true;
      }
    }
    for (let i = 0; i < P.D; i++) {
      const cur = a[i]!;
      if (cur < 0) continue;
      const rowI = P.rows[i]![cur]!,
        cI = P.costs[i]![cur]!;
      for (let p = 0; p < P.rows[i]!.length; p++) {
        if (P.costs[i]![p]! >= cI - 1e-9) continue;
        const rowJ = P.rows[i]![p]!;
        for (const i2 of onRow[rowJ]!) {
          const q = a[i2]!,
            back = posOf(i2, rowI);
          if (back < 0) continue;
          const delta = P.costs[i]![p]! + P.costs[i2]![back]! - cI - P.costs[i2]![q]!;
          if (delta >= -1e-9) continue;
          shiftLeft(P, left, { i, p: cur, sign: -1 });
          shiftLeft(P, left, { i: i2, p: q, sign: -1 });
          if (fitsAt(P, left, { i, p }) && fitsAt(P, left, { i: i2, p: back })) {
            shiftLeft(P, left, { i, p, sign: 1 });
            shiftLeft(P, left, { i: i2, p: back, sign: 1 });
            onRow[rowI]!.delete(i);
            onRow[rowJ]!.add(i);
            onRow[rowJ]!.delete(i2);
            onRow[rowI]!.add(i2);
            a[i] = p;
            a[i2] = back;
            gained = true;
            break;
          }
          shiftLeft(P, left, { i, p: cur, sign: 1 });
          shiftLeft(P, left, { i: i2, p: q, sign: 1 });
        }
        if (a[i] !== cur) break;
      }
    }
    if (!gained) break;
  }
  return a;
}

/** Checks learned prices against an index: dims = 4 + models, one finite non-negative price per row and dim. */
export function checkPrices(ix: ClusterIndex, p: CapacityPrices): { ok: false; error: InputError } | null {
  if (typeof p !== 'object' || p === null || !(p.perUnit instanceof Float64Array))
    return inputError('options.prices', "must be a batch result's prices");
  if (!(Number.isInteger(p.dims) && p.dims === 4 + p.models.length))
    return inputError(
      'options.prices.dims',
      `must be 4 + the number of models (${4 + p.models.length}), got ${p.dims}`,
    );
  if (p.perUnit.length % p.dims !== 0 || p.perUnit.length / p.dims > ix.size)
    return inputError('options.prices.perUnit', 'must hold dims prices per cluster row of the index');
  for (let i = 0; i < p.perUnit.length; i++)
    if (!(p.perUnit[i]! >= 0 && Number.isFinite(p.perUnit[i]!)))
      return inputError(`options.prices.perUnit[${i}]`, `must be a finite number ≥ 0, got ${p.perUnit[i]}`);
  return null;
}
