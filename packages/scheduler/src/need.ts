import { residencyVerdict } from '@cpnet/protocol';
import { ARCHS, PROVINCE_CODES, provinceRow, type ClusterIndex } from './cluster-index.ts';
import type { Task } from './model.ts';
import type { DataNeed } from './transfer.ts';

/** A task resolved against an index: numbers the hot loop reads. */
export interface Need {
  readonly cpu: number;
  readonly mem: number;
  readonly sto: number;
  readonly bw: number;
  readonly cards: number;
  /** Model column; -1 = no accelerator or any model; -2 = a named model the index has never seen. */
  readonly model: number;
  readonly anyModel: boolean;
  readonly minFp16: number;
  readonly replicas: number;
  readonly hours: number;
  /** Replicas a cluster must hold to be a candidate: all for single, one for split and gang. */
  readonly minReplicas: number;
  readonly arch: number;
  readonly minSecurity: number;
  /** Province column of the users, or -1. */
  readonly userRow: number;
  readonly maxLatency: number;
  readonly maxPrice: number;
  readonly deadline: number;
  readonly latencyTarget: number;
  /** 1 where the data may be processed, per province column — from protocol's residencyVerdict. */
  readonly residencyOk: Uint8Array;
  /** The task's data (`inRow` -1 when it names none). */
  readonly data: DataNeed;
}

/** Resolves a task template against an index (once per decision, not per cluster). */
export function resolveNeed(ix: ClusterIndex, task: Task): Need {
  const d = task.demand;
  const c = task.constraints ?? {};
  const cards = d.accelerator?.count ?? 0;
  const named = d.accelerator?.model;
  const model = cards > 0 && named !== undefined ? (ix.modelOf(named) >= 0 ? ix.modelOf(named) : -2) : -1;
  const residencyOk = new Uint8Array(PROVINCE_CODES.length);
  PROVINCE_CODES.forEach((p, i) => {
    residencyOk[i] = residencyVerdict(c.residency, p).allowed ? 1 : 0;
  });
  const mode = task.mode ?? 'single';
  return {
    cpu: d.cpuCores,
    mem: d.memoryGib,
    sto: d.storageGib ?? 0,
    bw: d.bandwidthGbps ?? 0,
    cards,
    model,
    anyModel: cards > 0 && named === undefined,
    minFp16: d.accelerator?.minFp16Tflops ?? 0,
    replicas: task.replicas,
    hours: task.durationHours,
    minReplicas: mode === 'single' ? task.replicas : 1,
    arch: c.arch ? ARCHS.indexOf(c.arch) : -1,
    minSecurity: c.minSecurityLevel ?? 0,
    userRow: c.userProvince ? provinceRow(c.userProvince) : -1,
    maxLatency: c.maxLatencyMs ?? Infinity,
    maxPrice: c.maxPricePerHourYuan ?? Infinity,
    deadline: c.deadline ?? Infinity,
    latencyTarget: task.latencyTolerant ? Infinity : (task.latencyTargetMs ?? Infinity),
    residencyOk,
    data: task.data
      ? {
          inRow: provinceRow(task.data.province),
          outRow: provinceRow(task.data.outputProvince ?? task.data.province),
          inGib: task.data.inputGib,
          outGib: task.data.outputGib ?? 0,
        }
      : NO_DATA,
  };
}

const NO_DATA: DataNeed = { inRow: -1, outRow: -1, inGib: 0, outGib: 0 };

/** The model column a replica would use at a row (best available among those fast enough), or -1. */
export function modelAt(ix: ClusterIndex, need: Need, row: number): number {
  if (need.cards === 0) return -1;
  if (!need.anyModel) return need.model;
  let best = -1,
    bestAvail = -1;
  for (let m = 0; m < ix.acc.length; m++) {
    const cols = ix.acc[m]!;
    if (cols.cap[row]! > 0 && cols.fp16[row]! >= need.minFp16 && cols.avail[row]! > bestAvail) {
      best = m;
      bestAvail = cols.avail[row]!;
    }
  }
  return best;
}

/** How many replicas of the need fit in a row's availability now. */
export function replicasFit(ix: ClusterIndex, need: Need, row: number): number {
  let fit = Infinity;
  if (need.cpu > 0) fit = Math.min(fit, ix.cpuAvail[row]! / need.cpu);
  if (need.mem > 0) fit = Math.min(fit, ix.memAvail[row]! / need.mem);
  if (need.sto > 0) fit = Math.min(fit, ix.stoAvail[row]! / need.sto);
  if (need.bw > 0) fit = Math.min(fit, ix.bwAvail[row]! / need.bw);
  if (need.cards > 0) {
    const m = modelAt(ix, need, row);
    fit = m < 0 ? 0 : Math.min(fit, ix.acc[m]!.avail[row]! / need.cards);
  }
  return fit === Infinity ? need.replicas : Math.floor(fit + 1e-9);
}
