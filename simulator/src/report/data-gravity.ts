import {
  DEFAULT_TRANSFER,
  PROVINCE_CODES,
  dataNeedOf,
  estimateTransfer,
  transferMatrix,
  type TransferTable,
} from '@cpnet/scheduler';
import type { TemplateData } from '../scenario/schema.ts';

/** Prices and place of a cluster, as the scenario planned it. */
export interface PricedCluster {
  readonly province: string;
  readonly pricePerCoreHourYuan: number;
  readonly pricePerCardHourYuan: number;
}

/** A job with input data and the cluster the nodes placed it on. */
export interface PlacedDataJob {
  readonly data: TemplateData;
  /** Cores × replicas × hours, and cards × replicas × hours: what the bill multiplies. */
  readonly coreHours: number;
  readonly cardHours: number;
  readonly cluster: PricedCluster;
}

/** Data moved and what the placements saved net of moving it (issue 27, data has weight). */
export interface DataGravity {
  readonly jobs: number;
  /** GiB that crossed a province boundary (input in, output back). */
  readonly movedGib: number;
  readonly transferYuan: number;
  /** Resource bill where the jobs ran (cores and cards × hours × the cluster's price), 元. */
  readonly computeYuan: number;
  /** The same jobs each on the cheapest cluster in its data's province (nothing moved), 元. */
  readonly stayYuan: number;
  /** stayYuan − (computeYuan + transferYuan); positive when moving paid off. */
  readonly savingNetYuan: number;
  /** savingNetYuan / stayYuan (0 when nothing to compare). */
  readonly savingNetShare: number;
  /** Jobs whose data's province has no cluster: no stay-home bill, left out of the saving. */
  readonly withoutHomeCluster: number;
}

const bill = (j: PlacedDataJob, c: PricedCluster) =>
  j.coreHours * c.pricePerCoreHourYuan + j.cardHours * c.pricePerCardHourYuan;

/**
 * Recomputes each placement's transfer with the scheduler's own pure cost model (`estimateTransfer` over the same
 * table the nodes use, `DEFAULT_TRANSFER` unless given) — the job view a tenant reads does not carry the candidate's
 * `ext.transfer` — and compares with keeping each job in its data's province on the cheapest cluster there.
 */
export function dataGravity(
  placed: readonly PlacedDataJob[],
  clusters: readonly PricedCluster[],
  table: TransferTable = DEFAULT_TRANSFER,
): DataGravity {
  const m = transferMatrix(table);
  let movedGib = 0,
    transferYuan = 0,
    computeYuan = 0,
    stayYuan = 0,
    comparedTransfer = 0,
    without = 0;
  for (const j of placed) {
    const col = PROVINCE_CODES.indexOf(j.cluster.province);
    const t = col >= 0 ? estimateTransfer(m, dataNeedOf(j.data), col) : { movedGib: 0, yuan: 0 };
    movedGib += t.movedGib;
    transferYuan += t.yuan;
    const home = clusters.filter((c) => c.province === j.data.province);
    if (home.length === 0) {
      without++;
      continue;
    }
    // The saving compares like with like: only jobs with a stay-home bill count, with their own transfers.
    comparedTransfer += t.yuan;
    computeYuan += bill(j, j.cluster);
    stayYuan += Math.min(...home.map((c) => bill(j, c)));
  }
  const savingNetYuan = stayYuan - (computeYuan + comparedTransfer);
  return {
    jobs: placed.length,
    movedGib,
    transferYuan,
    computeYuan,
    stayYuan,
    savingNetYuan,
    savingNetShare: stayYuan > 0 ? savingNetYuan / stayYuan : 0,
    withoutHomeCluster: without,
  };
}
