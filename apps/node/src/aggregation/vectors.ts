import type { ResourceVector } from '@cpnet/protocol';

/** The zero capacity vector. */
export function zeroVector(): ResourceVector {
  return { cpuCores: 0, memoryGib: 0, storageGib: 0, bandwidthGbps: 0, accelerators: [] };
}

/** a + b, accelerators summed per model (kind and per-card figures from the first seen). */
export function addVectors(a: ResourceVector, b: ResourceVector): ResourceVector {
  const byModel = new Map(a.accelerators.map((x) => [x.model, { ...x }]));
  for (const x of b.accelerators) {
    const held = byModel.get(x.model);
    if (held) held.count += x.count;
    else byModel.set(x.model, { ...x });
  }
  return {
    cpuCores: a.cpuCores + b.cpuCores,
    memoryGib: a.memoryGib + b.memoryGib,
    storageGib: a.storageGib + b.storageGib,
    bandwidthGbps: a.bandwidthGbps + b.bandwidthGbps,
    accelerators: [...byModel.values()].sort((x, y) => x.model.localeCompare(y.model)).slice(0, 32),
  };
}

/** The number of accelerator cards in a vector. */
export function cards(v: ResourceVector): number {
  return v.accelerators.reduce((n, x) => n + x.count, 0);
}
