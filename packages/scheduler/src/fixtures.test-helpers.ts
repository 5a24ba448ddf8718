import { ClusterIndex } from './cluster-index.ts';
import { createRng } from '@cpnet/kernel';
import { generateClusters } from './synthetic.ts';
import type { Cluster, Task } from './model.ts';

/** A small seeded cluster set. */
export const someClusters = (n = 60, seed = 7): Cluster[] =>
  generateClusters(createRng(seed), { count: n, minFree: 0.3 });

/** A plain cluster for hand-written cases. */
export function cluster(id: string, over: Partial<Cluster> = {}): Cluster {
  const cap = {
    cpuCores: 100,
    memoryGib: 800,
    storageGib: 1000,
    bandwidthGbps: 10,
    accelerators: [{ model: 'A800', count: 8, fp16Tflops: 312, fp32Tflops: 19.5 }],
  };
  return {
    id,
    nodePrefix: 'CPN.51.C151',
    provinceCode: '51',
    arch: 'x86_64',
    capacity: cap,
    available: cap,
    pricePerCoreHourYuan: 0.1,
    pricePerCardHourYuan: 10,
    pue: 1.3,
    greenShare: 0.5,
    carbonIntensity: 500,
    reliability: 0.99,
    securityLevel: 3,
    lifecycle: 'active',
    health: 'healthy',
    latencyMsTo: {},
    ...over,
  };
}

/** A plain task for hand-written cases. */
export function task(id: string, over: Partial<Task> = {}): Task {
  return {
    id,
    tenant: 't',
    priority: 1,
    demand: { cpuCores: 10, memoryGib: 40 },
    replicas: 1,
    durationHours: 1,
    ...over,
  };
}

/** The value of a checked result; a test fails loudly on an InputError. */
export function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(`unexpected input error: ${r.error.message}`);
  return r.value;
}

/** An index of clusters that must be valid. */
export const indexOf = (clusters: readonly Cluster[]): ClusterIndex => must(ClusterIndex.build(clusters));
