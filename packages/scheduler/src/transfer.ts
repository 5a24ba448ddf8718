import { PROVINCE_CODES, provinceRow } from './cluster-index.ts';
import type { TaskData } from './model.ts';
import { inputError, isProvinceCode, type InputError } from './validate.ts';

/**
 * Data has weight: what moving a task's data between provinces costs and how long it takes, as SkyPilot's optimiser
 * counts egress between regions. A task's input moves from where it lives to the cluster before the task starts; its
 * output moves back (to `data.outputProvince`, else the input's province) after it ends.
 */

/** One pair of provinces whose price or bandwidth differs from the defaults. Symmetric unless `oneWay`. */
export interface TransferPair {
  readonly from: string;
  readonly to: string;
  /** 元 per GiB moved. */
  readonly pricePerGibYuan?: number;
  /** Gbps one transfer gets. */
  readonly bandwidthGbps?: number;
  readonly oneWay?: boolean;
}

/** The inter-province bandwidth and price table. */
export interface TransferTable {
  /** 元 per GiB between two provinces (default 0.3: backbone / 专线 transit, below public-internet egress of ~0.5–0.8). */
  readonly interProvincePricePerGibYuan: number;
  /** Gbps a transfer between two provinces gets (default 5). */
  readonly interProvinceBandwidthGbps: number;
  /** 元 per GiB within one province (default 0: same metro network). */
  readonly intraProvincePricePerGibYuan: number;
  /** Gbps within one province (default 25). */
  readonly intraProvinceBandwidthGbps: number;
  /** Overrides per pair of provinces. */
  readonly pairs?: readonly TransferPair[];
}

/** Documented defaults (see the README). */
export const DEFAULT_TRANSFER: TransferTable = {
  interProvincePricePerGibYuan: 0.3,
  interProvinceBandwidthGbps: 5,
  intraProvincePricePerGibYuan: 0,
  intraProvinceBandwidthGbps: 25,
};

/** Dense province × province matrices (row = from, column = to, in `PROVINCE_CODES` order). */
export interface TransferMatrix {
  readonly provinces: number;
  /** 元 per GiB. */
  readonly price: Float64Array;
  /** Seconds per GiB (8 × 1.073741824 Gbit / Gbps). */
  readonly secondsPerGib: Float64Array;
}

/** What moving one task's data to (and back from) a cluster costs. */
export interface TransferEstimate {
  /** GiB crossing a province boundary (input in + output back); 0 when everything stays in one province. */
  readonly movedGib: number;
  readonly yuan: number;
  /** Seconds before the task can start (input only). */
  readonly secondsToStart: number;
}

const GBIT_PER_GIB = 8 * 1.073741824;
type Fail = { ok: false; error: InputError } | null;

const nonNegative = (x: unknown, field: string, positive = false): Fail =>
  typeof x === 'number' && Number.isFinite(x) && (positive ? x > 0 : x >= 0)
    ? null
    : inputError(field, `must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${String(x)}`);

/** Checks a transfer table: finite non-negative prices, positive bandwidths, known province codes. */
export function checkTransferTable(t: TransferTable, at = 'costModel.transfer'): Fail {
  if (typeof t !== 'object' || t === null) return inputError(at, 'must be a transfer table');
  const e =
    nonNegative(t.interProvincePricePerGibYuan, `${at}.interProvincePricePerGibYuan`) ??
    nonNegative(t.interProvinceBandwidthGbps, `${at}.interProvinceBandwidthGbps`, true) ??
    nonNegative(t.intraProvincePricePerGibYuan, `${at}.intraProvincePricePerGibYuan`) ??
    nonNegative(t.intraProvinceBandwidthGbps, `${at}.intraProvinceBandwidthGbps`, true);
  if (e) return e;
  if (t.pairs === undefined) return null;
  if (!Array.isArray(t.pairs)) return inputError(`${at}.pairs`, 'must be an array');
  for (const [i, p] of t.pairs.entries()) {
    const f = `${at}.pairs[${i}]`;
    const pe =
      (isProvinceCode(p?.from) ? null : inputError(`${f}.from`, `unknown province ${JSON.stringify(p?.from)}`)) ??
      (isProvinceCode(p.to) ? null : inputError(`${f}.to`, `unknown province ${JSON.stringify(p.to)}`)) ??
      (p.pricePerGibYuan === undefined ? null : nonNegative(p.pricePerGibYuan, `${f}.pricePerGibYuan`)) ??
      (p.bandwidthGbps === undefined ? null : nonNegative(p.bandwidthGbps, `${f}.bandwidthGbps`, true));
    if (pe) return pe;
  }
  return null;
}

const cache = new WeakMap<TransferTable, TransferMatrix>();

/** The dense matrices of a (checked) table, built once per table object. */
export function transferMatrix(t: TransferTable = DEFAULT_TRANSFER): TransferMatrix {
  const hit = cache.get(t);
  if (hit) return hit;
  const P = PROVINCE_CODES.length;
  const price = new Float64Array(P * P),
    secondsPerGib = new Float64Array(P * P);
  for (let a = 0; a < P; a++)
    for (let b = 0; b < P; b++) {
      const same = a === b;
      price[a * P + b] = same ? t.intraProvincePricePerGibYuan : t.interProvincePricePerGibYuan;
      secondsPerGib[a * P + b] = GBIT_PER_GIB / (same ? t.intraProvinceBandwidthGbps : t.interProvinceBandwidthGbps);
    }
  for (const p of t.pairs ?? []) {
    const a = provinceRow(p.from),
      b = provinceRow(p.to);
    for (const [x, y] of p.oneWay
      ? [[a, b]]
      : [
          [a, b],
          [b, a],
        ]) {
      if (p.pricePerGibYuan !== undefined) price[x! * P + y!] = p.pricePerGibYuan;
      if (p.bandwidthGbps !== undefined) secondsPerGib[x! * P + y!] = GBIT_PER_GIB / p.bandwidthGbps;
    }
  }
  const m = { provinces: P, price, secondsPerGib };
  cache.set(t, m);
  return m;
}

/** A task's data as rows of the matrices; `-1` rows when the task names no data. */
export interface DataNeed {
  readonly inRow: number;
  readonly outRow: number;
  readonly inGib: number;
  readonly outGib: number;
}

/** The transfer of a task's data to a cluster in province column `at`. */
export function estimateTransfer(m: TransferMatrix, d: DataNeed, at: number): TransferEstimate {
  if (d.inRow < 0) return { movedGib: 0, yuan: 0, secondsToStart: 0 };
  const P = m.provinces;
  const yuan = d.inGib * m.price[d.inRow * P + at]! + d.outGib * m.price[at * P + d.outRow]!;
  const movedGib = (d.inRow !== at ? d.inGib : 0) + (d.outRow !== at ? d.outGib : 0);
  return { movedGib, yuan, secondsToStart: d.inGib * m.secondsPerGib[d.inRow * P + at]! };
}

/** A task's data as rows of the matrices (`inRow` -1 when it names none). */
export function dataNeedOf(data: TaskData | undefined): DataNeed {
  if (!data) return { inRow: -1, outRow: -1, inGib: 0, outGib: 0 };
  return {
    inRow: provinceRow(data.province),
    outRow: provinceRow(data.outputProvince ?? data.province),
    inGib: data.inputGib,
    outGib: data.outputGib ?? 0,
  };
}

/**
 * The cheapest transfer of a task's data to any of `provinces` (元; 0 without data or provinces): the optimistic
 * bound a subtree summary allows, since a summary names its provinces but not which cluster the job would get.
 */
export function cheapestTransferYuan(
  data: TaskData | undefined,
  provinces: readonly string[],
  table: TransferTable = DEFAULT_TRANSFER,
): number {
  return cheapestTransfer(data, provinces, table)?.yuan ?? 0;
}

/**
 * The cheapest move of a task's data into one of `provinces` (then the fewest seconds to start), with the province it
 * assumed; null when the task names no data or no province is known. What a subtree's rank assumed.
 */
export function cheapestTransfer(
  data: TaskData | undefined,
  provinces: readonly string[],
  table: TransferTable = DEFAULT_TRANSFER,
): (TransferEstimate & { readonly province: string }) | null {
  const d = dataNeedOf(data);
  if (d.inRow < 0) return null;
  const m = transferMatrix(table);
  let best: (TransferEstimate & { readonly province: string }) | null = null;
  for (const p of provinces) {
    const col = provinceRow(p);
    if (col < 0) continue;
    const e = estimateTransfer(m, d, col);
    if (!best || e.yuan < best.yuan || (e.yuan === best.yuan && e.secondsToStart < best.secondsToStart))
      best = { ...e, province: p };
  }
  return best;
}
