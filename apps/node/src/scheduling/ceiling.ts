import type { Ceiling, TaskTemplate } from '@cpnet/protocol';
import type { Cluster } from '@cpnet/scheduler';

/** Raises `into` to at least `c`, resource by resource. */
export function raise(into: Ceiling, c: Ceiling): Ceiling {
  into.cpuCores = Math.max(into.cpuCores, c.cpuCores);
  into.memoryGib = Math.max(into.memoryGib, c.memoryGib);
  for (const [m, n] of Object.entries(c.cards)) into.cards[m] = Math.max(into.cards[m] ?? 0, n);
  return into;
}

/** What the ceiling reads of a cluster: its lifecycle and K1 (a scheduler row, or the view's facts and report). */
export interface CeilingInput {
  readonly lifecycle: Cluster['lifecycle'];
  readonly capacity: {
    readonly cpuCores: number;
    readonly memoryGib: number;
    readonly accelerators: readonly { readonly model: string; readonly count: number }[];
  };
}

/** The largest of some clusters per resource, by capacity (their load does not matter: they could free up). */
export function ceilingOf(clusters: Iterable<CeilingInput>): Ceiling {
  const c: Ceiling = { cpuCores: 0, memoryGib: 0, cards: {} };
  for (const cl of clusters) {
    if (cl.lifecycle === 'revoked') continue;
    const cards: Record<string, number> = {};
    for (const a of cl.capacity.accelerators) cards[a.model] = (cards[a.model] ?? 0) + a.count;
    raise(c, { cpuCores: cl.capacity.cpuCores, memoryGib: cl.capacity.memoryGib, cards });
  }
  return c;
}

/**
 * Why no cluster under `c` could ever hold the template (one replica, or all of them for a single placement), or
 * null when one might.
 */
export function beyondCeiling(t: TaskTemplate, c: Ceiling): string | null {
  const d = t.demand;
  const n = t.placement === 'single' ? t.replicas : 1;
  const what = n > 1 ? `${n} replicas on one cluster need` : 'a replica needs';
  const largest = 'the largest cluster in the hierarchy has';
  if (d.cpuCores * n > c.cpuCores) return `${what} ${d.cpuCores * n} CPU cores; ${largest} ${c.cpuCores}`;
  if (d.memoryGib * n > c.memoryGib) return `${what} ${d.memoryGib * n} GiB of memory; ${largest} ${c.memoryGib}`;
  const acc = d.accelerators;
  if (acc) {
    const have = acc.model ? (c.cards[acc.model] ?? 0) : Math.max(0, ...Object.values(c.cards));
    if (acc.count * n > have) return `${what} ${acc.count * n} ${acc.model ?? 'accelerator'} cards; ${largest} ${have}`;
  }
  return null;
}
