/**
 * Kueue MultiKueue dispatch, re-created from its documentation (kubernetes-sigs/kueue: site docs "MultiKueue",
 * KEP-693, the dispatcher API `AllAtOnce` / `Incremental`). Read, not copied. What it follows:
 *
 * - The manager creates a copy of the workload in every worker cluster (`AllAtOnce`); the first worker whose
 *   ClusterQueue admits it (enough quota — here: the job fits the cluster's free capacity and our hard constraints
 *   stand in for the flavors' node labels) wins and the other copies are removed. Which admits first is a race
 *   between workers, modelled as uniformly random among those that would admit (seeded).
 * - `Incremental`: workers are nominated in rounds of up to 3 (in name order here), a round is added when none of
 *   the nominated workers admits; the race is then within the first round that has an admitting worker.
 * - Price, carbon and latency are not looked at; a job is whole on one worker.
 */
import type { ClusterIndex } from '../cluster-index.ts';
import type { Task } from '../model.ts';
import { eligibleRows, runBaseline, type BaselineOptions, type BaselineResult } from './common.ts';
import type { Checked } from '../validate.ts';

/** Options: the dispatcher. */
export interface MultiKueueOptions extends BaselineOptions {
  readonly dispatcher?: 'all-at-once' | 'incremental';
  /** Workers added per round by the incremental dispatcher (default 3). */
  readonly roundSize?: number;
}

/** MultiKueue dispatch. Mutates the index's availability. */
export function multiKueue(ix: ClusterIndex, tasks: readonly Task[], o: MultiKueueOptions): Checked<BaselineResult> {
  const byName = Array.from({ length: ix.size }, (_, i) => i).sort((a, b) => (ix.ids[a]! < ix.ids[b]! ? -1 : 1));
  const pos = new Int32Array(ix.size);
  byName.forEach((r, i) => (pos[r] = i));
  const round = o.roundSize ?? 3;
  return runBaseline(ix, tasks, {
    decide: (ix, t) => {
      const { rows } = eligibleRows(ix, { ...t, mode: 'single' }, { capacity: true, costModel: o.costModel });
      if (rows.length === 0) return [];
      let pool = Array.from(rows);
      if (o.dispatcher === 'incremental') {
        const first = Math.min(...pool.map((r) => Math.floor(pos[r]! / round)));
        pool = pool.filter((r) => Math.floor(pos[r]! / round) === first);
      }
      return [{ row: pool[o.rng.int(pool.length)]!, replicas: t.replicas }];
    },
    costModel: o.costModel,
  });
}
