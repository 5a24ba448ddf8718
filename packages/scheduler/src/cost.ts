import { PROVINCES } from '@cpnet/identifier';
import type { TransferTable } from './transfer.ts';

/**
 * The cost model, in 元 for a whole task:
 *   price × resources × duration
 * + carbon price × energy × carbon intensity × (1 − green share), energy = IT power × duration × PUE
 * + latency penalty × (latency − target)+ × replicas × duration   (waived for latency-tolerant work)
 */
export interface CostModel {
  /** 元 per kg CO2 (0.1 = 100 元/t, near China's ETS price). */
  readonly carbonPriceYuanPerKg: number;
  /** 元 per ms above the task's latency target, per replica-hour. */
  readonly latencyPenaltyYuanPerMsHour: number;
  /** IT power of one CPU core, W. */
  readonly wattsPerCore: number;
  /** Card power when the pool does not report it, W. */
  readonly defaultCardWatts: number;
  /** Inter-province data transfer prices and bandwidths; `DEFAULT_TRANSFER` when absent. */
  readonly transfer?: TransferTable;
}

/** Defaults used by the bench and the scheduler unless overridden. */
export const DEFAULT_COST_MODEL: CostModel = {
  carbonPriceYuanPerKg: 0.1,
  latencyPenaltyYuanPerMsHour: 0.02,
  wattsPerCore: 10,
  defaultCardWatts: 400,
};

/** One cluster's numbers the cost model reads (a row of the index, or a plain object). */
export interface CostInputs {
  readonly pricePerCoreHourYuan: number;
  readonly pricePerCardHourYuan: number;
  /** kg CO2 per kWh of IT energy: PUE × intensity × (1 − green) / 1000. */
  readonly kgCo2PerItKwh: number;
  readonly cardWatts: number;
  readonly latencyMs: number;
}

/** A task's size as the cost model sees it. */
export interface CostDemand {
  readonly cores: number;
  readonly cards: number;
  readonly replicas: number;
  readonly hours: number;
  /** Infinity when the task has no target or is latency tolerant. */
  readonly latencyTargetMs: number;
}

/** Breakdown of a task's cost at one cluster. */
export interface CostBreakdown {
  readonly resourceYuan: number;
  readonly carbonKg: number;
  readonly carbonYuan: number;
  readonly latencyPenaltyYuan: number;
  readonly totalYuan: number;
}

/** Effective kg CO2 per IT kWh of a cluster. */
export function kgCo2PerItKwh(c: { pue: number; carbonIntensity: number; greenShare: number }): number {
  return (c.pue * c.carbonIntensity * (1 - c.greenShare)) / 1000;
}

/** The cost of a task at one cluster, with its parts. */
export function taskCost(at: CostInputs, d: CostDemand, model: CostModel = DEFAULT_COST_MODEL): CostBreakdown {
  const rh = d.replicas * d.hours;
  const resourceYuan = rh * (d.cores * at.pricePerCoreHourYuan + d.cards * at.pricePerCardHourYuan);
  const kwh = (rh * (d.cores * model.wattsPerCore + d.cards * at.cardWatts)) / 1000;
  const carbonKg = kwh * at.kgCo2PerItKwh;
  const carbonYuan = carbonKg * model.carbonPriceYuanPerKg;
  const over = at.latencyMs - d.latencyTargetMs;
  const latencyPenaltyYuan = over > 0 ? over * rh * model.latencyPenaltyYuanPerMsHour : 0;
  return {
    resourceYuan,
    carbonKg,
    carbonYuan,
    latencyPenaltyYuan,
    totalYuan: resourceYuan + carbonYuan + latencyPenaltyYuan,
  };
}

const RAD = Math.PI / 180;
const BY_CODE = new Map(PROVINCES.map((p) => [p.code, p]));

/** Round-trip latency estimated from the distance between two provinces' capitals: 2 ms + 1 ms per 100 km. */
export function estimateLatencyMs(from: string, to: string): number {
  const a = BY_CODE.get(from);
  const b = BY_CODE.get(to);
  if (!a || !b) return Infinity;
  if (a === b) return 2;
  const h =
    Math.sin(((b.lat - a.lat) * RAD) / 2) ** 2 +
    Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(((b.lon - a.lon) * RAD) / 2) ** 2;
  const km = 2 * 6371 * Math.asin(Math.sqrt(h));
  return Math.round((2 + km / 100) * 10) / 10;
}
