import type { Resources, Slice } from '@cpnet/scheduler';

/**
 * The one account of a cluster's free capacity at its node: capacity (K1) less what this node holds there (its
 * scheduler's slices: authoritative, changed the moment it places, moves or releases a job) less the use the node
 * does not hold (other work the gateway reports: K1 − K2 beyond the node's own jobs). Pure: the view keeps the state.
 */

/** Use of one cluster's resources, accelerator cards by model. */
export interface Use {
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly storageGib: number;
  readonly bandwidthGbps: number;
  readonly cards: ReadonlyMap<string, number>;
}

export const NO_USE: Use = { cpuCores: 0, memoryGib: 0, storageGib: 0, bandwidthGbps: 0, cards: new Map() };

/** What the node's held jobs take of the cluster at `row`. */
export function heldUse(jobs: readonly { slices: readonly Slice[] }[], row: number): Use {
  let cpu = 0,
    mem = 0,
    sto = 0,
    bw = 0;
  const cards = new Map<string, number>();
  for (const j of jobs)
    for (const s of j.slices) {
      if (s.row !== row) continue;
      cpu += s.replicas * s.cpuCores;
      mem += s.replicas * s.memoryGib;
      sto += s.replicas * s.storageGib;
      bw += s.replicas * s.bandwidthGbps;
      if (s.model !== null) cards.set(s.model, (cards.get(s.model) ?? 0) + s.replicas * s.cards);
    }
  return { cpuCores: cpu, memoryGib: mem, storageGib: sto, bandwidthGbps: bw, cards };
}

/** A key that changes when the held use changes (a change the gateway may not have seen yet). */
export const useKey = (u: Use): string =>
  [u.cpuCores, u.memoryGib, u.storageGib, u.bandwidthGbps, ...[...u.cards].sort().flat()].join('/');

const z = (x: number): number => Math.max(0, x);

/**
 * The use a report shows beyond the node's own jobs: K1 − K2 less what the node held when the gateway took the
 * report (never below 0: a job the gateway does not count yet is still the node's).
 */
export function externalUse(k1: Resources, k2: Resources, held: Use): Use {
  const cards = new Map<string, number>();
  for (const a of k1.accelerators) {
    const free = k2.accelerators.find((b) => b.model === a.model)?.count ?? 0;
    cards.set(a.model, z(a.count - free - (held.cards.get(a.model) ?? 0)));
  }
  return {
    cpuCores: z(k1.cpuCores - k2.cpuCores - held.cpuCores),
    memoryGib: z(k1.memoryGib - k2.memoryGib - held.memoryGib),
    storageGib: z(k1.storageGib - k2.storageGib - held.storageGib),
    bandwidthGbps: z(k1.bandwidthGbps - k2.bandwidthGbps - held.bandwidthGbps),
    cards,
  };
}

/** Free capacity: K1 less the held use less the use the node does not hold (never below 0). */
export function freeOf(k1: Resources, held: Use, external: Use): Resources {
  return {
    cpuCores: z(k1.cpuCores - held.cpuCores - external.cpuCores),
    memoryGib: z(k1.memoryGib - held.memoryGib - external.memoryGib),
    storageGib: z(k1.storageGib - held.storageGib - external.storageGib),
    bandwidthGbps: z(k1.bandwidthGbps - held.bandwidthGbps - external.bandwidthGbps),
    accelerators: k1.accelerators.map((a) => ({
      ...a,
      count: z(a.count - (held.cards.get(a.model) ?? 0) - (external.cards.get(a.model) ?? 0)),
    })),
  };
}
