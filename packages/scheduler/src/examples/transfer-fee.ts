import type { ClusterIndex } from '../cluster-index.ts';
import { PROVINCE_CODES } from '../cluster-index.ts';
import type { Task } from '../model.ts';
import type { FilterPlugin, ScorePlugin } from '../policy.ts';

/**
 * Example plugins (docs/add-a-policy.md). A score plugin: moving the task's input data to a cluster in another
 * province than its users costs a transfer fee, 元 per GiB (the task's storage demand stands for its input data).
 */
export function transferFee(yuanPerGib: number): ScorePlugin {
  return {
    name: 'transfer-fee',
    yuan(ix: ClusterIndex, row: number, task: Task): number {
      const from = task.constraints?.userProvince;
      if (from === undefined || PROVINCE_CODES[ix.prov[row]!] === from) return 0;
      return yuanPerGib * (task.demand.storageGib ?? 0) * task.replicas;
    },
  };
}

/** A filter plugin: clusters of the listed nodes are being drained for maintenance and take no new work. */
export function maintenance(drainingNodes: readonly string[]): FilterPlugin {
  const draining = new Set(drainingNodes);
  return {
    name: 'maintenance',
    filter: (ix, row) => (draining.has(ix.prefixes[row]!) ? `node ${ix.prefixes[row]} is draining` : null),
  };
}
