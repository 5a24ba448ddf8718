import type { ClusterIndex } from './cluster-index.ts';
import { modelAt, type Need } from './need.ts';

/** Replicas of one job on one cluster, with the per-replica vector taken from the index. */
export interface Slice {
  readonly clusterId: string;
  readonly row: number;
  readonly replicas: number;
  /** Accelerator model name, or null. */
  readonly model: string | null;
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly storageGib: number;
  readonly bandwidthGbps: number;
  readonly cards: number;
}

/** A slice of `replicas` replicas of `need` at `row`. */
export function sliceAt(ix: ClusterIndex, need: Need, at: { row: number; replicas: number }): Slice {
  const m = modelAt(ix, need, at.row);
  return {
    clusterId: ix.ids[at.row]!,
    row: at.row,
    replicas: at.replicas,
    model: m >= 0 ? ix.models[m]! : null,
    cpuCores: need.cpu,
    memoryGib: need.mem,
    storageGib: need.sto,
    bandwidthGbps: need.bw,
    cards: m >= 0 ? need.cards : 0,
  };
}

/** Subtracts a slice from the cluster's availability. */
export function take(ix: ClusterIndex, s: Slice): void {
  shift(ix, s, -1);
}

/** Gives a slice's resources back (never above capacity). */
export function give(ix: ClusterIndex, s: Slice): void {
  shift(ix, s, 1);
}

function shift(ix: ClusterIndex, s: Slice, sign: number): void {
  const r = s.row,
    n = s.replicas * sign;
  ix.cpuAvail[r] = Math.min(ix.cpuCap[r]!, ix.cpuAvail[r]! + n * s.cpuCores);
  ix.memAvail[r] = Math.min(ix.memCap[r]!, ix.memAvail[r]! + n * s.memoryGib);
  ix.stoAvail[r] = Math.min(ix.stoCap[r]!, ix.stoAvail[r]! + n * s.storageGib);
  ix.bwAvail[r] = Math.min(ix.bwCap[r]!, ix.bwAvail[r]! + n * s.bandwidthGbps);
  if (s.model !== null) {
    const cols = ix.acc[ix.modelOf(s.model)]!;
    cols.avail[r] = Math.min(cols.cap[r]!, cols.avail[r]! + n * s.cards);
  }
}

/** Whether a slice fits the row's availability now. */
export function fits(ix: ClusterIndex, s: Slice): boolean {
  const r = s.row,
    n = s.replicas,
    eps = 1e-9;
  if (ix.cpuAvail[r]! + eps < n * s.cpuCores || ix.memAvail[r]! + eps < n * s.memoryGib) return false;
  if (ix.stoAvail[r]! + eps < n * s.storageGib || ix.bwAvail[r]! + eps < n * s.bandwidthGbps) return false;
  return s.model === null || ix.acc[ix.modelOf(s.model)]!.avail[r]! + eps >= n * s.cards;
}
