import type { Rng } from '@cpnet/kernel';
import { CROCKFORD_ALPHABET, formatIdentifier, PROVINCES } from '@cpnet/identifier';
import { estimateLatencyMs } from './cost.ts';
import type { AcceleratorPool, Cluster, Resources, Task } from './model.ts';

/** Accelerator models used by the synthetic data: name, arch of their hosts, FP16/FP32 TFLOPS, W, 元/card-hour. */
export const SYNTHETIC_MODELS = [
  { model: 'A800', arch: 'x86_64', fp16: 312, fp32: 19.5, watts: 400, price: 12 },
  { model: 'H20', arch: 'x86_64', fp16: 148, fp32: 44, watts: 400, price: 7 },
  { model: 'Ascend910B', arch: 'aarch64', fp16: 320, fp32: 80, watts: 350, price: 9 },
] as const;

const MAINLAND = PROVINCES.filter((p) => p.macro !== 'sar' && p.code !== '71');
const MACRO_PRICE = { east: 1, central: 0.88, northeast: 0.85, west: 0.72, sar: 1.2 } as const;
const HYDRO = new Set(['51', '53', '52', '45', '54', '63']);
const COAL = new Set(['15', '14', '64', '65', '62', '13']);
const INDUSTRIES = ['C397', 'C341', 'C276', 'C151', 'I651'];
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const between = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** A serial in Crockford base-32 from a number (synthetic ids, not time-ordered). */
function serialOf(n: number): string {
  let s = '';
  do {
    s = CROCKFORD_ALPHABET[n % 32]! + s;
    n = Math.floor(n / 32);
  } while (n > 0);
  return s.padStart(6, '0');
}

/** A user province, weighted towards the populous east. */
export function userProvince(rng: Rng): string {
  const east = MAINLAND.filter((p) => p.macro === 'east' || p.macro === 'central');
  return pick(rng, rng.next() < 0.8 ? east : MAINLAND).code;
}

/** Options of the cluster generator. */
export interface ClusterGenOptions {
  readonly count: number;
  /** Share of clusters with accelerators (default 0.4). */
  readonly gpuShare?: number;
  /** Availability as a share of capacity, drawn per cluster in [min, 1] (default 1: all free). */
  readonly minFree?: number;
}

/** Synthetic clusters across the provinces: western ones cheaper and greener, eastern ones closer to users. */
export function generateClusters(rng: Rng, o: ClusterGenOptions): Cluster[] {
  const out: Cluster[] = [];
  for (let i = 0; i < o.count; i++) {
    const prov = pick(rng, MAINLAND);
    const west = prov.macro === 'west';
    const gpu = rng.next() < (o.gpuShare ?? 0.4) ? pick(rng, SYNTHETIC_MODELS) : null;
    const cards = gpu ? 64 * (4 + rng.int(5)) : 0;
    const cores = gpu ? cards * 8 : 500 * (4 + rng.int(5));
    const accel: AcceleratorPool[] = gpu
      ? [{ model: gpu.model, count: cards, fp16Tflops: gpu.fp16, fp32Tflops: gpu.fp32, tdpWatts: gpu.watts }]
      : [];
    const capacity: Resources = {
      cpuCores: cores,
      memoryGib: cores * 8,
      storageGib: cores * 50,
      bandwidthGbps: 100,
      accelerators: accel,
    };
    const free = between(rng, o.minFree ?? 1, 1);
    const available: Resources = {
      cpuCores: Math.floor(cores * free),
      memoryGib: Math.floor(cores * 8 * free),
      storageGib: cores * 50,
      bandwidthGbps: 100,
      accelerators: accel.map((a) => ({ ...a, count: Math.floor(a.count * free) })),
    };
    const industry = pick(rng, INDUSTRIES);
    const prefix = `CPN.${prov.code}.${industry}`;
    const id = formatIdentifier({ prefix, kind: 'CL', serial: serialOf(i) });
    const f = MACRO_PRICE[prov.macro] * between(rng, 0.9, 1.1);
    const latencyMsTo: Record<string, number> = {};
    for (const p of PROVINCES)
      latencyMsTo[p.code] = Math.round(estimateLatencyMs(p.code, prov.code) * between(rng, 0.95, 1.15) * 10) / 10;
    out.push({
      id: id.ok ? id.value : `${prefix}/CL-${i}`,
      nodePrefix: prefix,
      provinceCode: prov.code,
      industry,
      arch: gpu ? gpu.arch : rng.next() < 0.2 ? 'aarch64' : 'x86_64',
      capacity,
      available,
      pricePerCoreHourYuan: Math.round(0.12 * f * 1000) / 1000,
      pricePerCardHourYuan: gpu ? Math.round(gpu.price * f * 100) / 100 : 0,
      pue: west ? between(rng, 1.12, 1.25) : between(rng, 1.28, 1.5),
      greenShare: west ? between(rng, 0.4, 0.8) : between(rng, 0.1, 0.35),
      carbonIntensity: HYDRO.has(prov.code)
        ? between(rng, 250, 400)
        : COAL.has(prov.code)
          ? between(rng, 700, 850)
          : between(rng, 520, 650),
      reliability: between(rng, 0.95, 0.999),
      securityLevel: 2 + rng.int(3),
      lifecycle: rng.next() < 0.02 ? 'suspended' : 'active',
      health: rng.next() < 0.02 ? 'degraded' : 'healthy',
      latencyMsTo,
    });
  }
  return out;
}

/** Options of the task generator. */
export interface TaskGenOptions {
  readonly count: number;
  /** Share of accelerator tasks (default 0.4). */
  readonly gpuShare?: number;
  /** Share of latency-tolerant (batch) tasks (default 0.4). */
  readonly latencyTolerantShare?: number;
  /** CPU sizes per replica to draw from (default 8–32 cores). */
  readonly cpuSizes?: readonly number[];
  /** Card counts per replica to draw from (default 1–8). */
  readonly cardSizes?: readonly number[];
}

/** Synthetic single-replica tasks in the shape of an Alibaba-like GPU trace (generated, not copied). */
export function generateTasks(rng: Rng, o: TaskGenOptions): Task[] {
  const out: Task[] = [];
  for (let i = 0; i < o.count; i++) {
    const gpu = rng.next() < (o.gpuShare ?? 0.4) ? pick(rng, SYNTHETIC_MODELS) : null;
    const cards = gpu ? pick(rng, o.cardSizes ?? [1, 2, 4, 8]) : 0;
    const cores = gpu ? cards * 4 : pick(rng, o.cpuSizes ?? [8, 16, 24, 32]);
    const tolerant = rng.next() < (o.latencyTolerantShare ?? 0.4);
    out.push({
      id: `task-${i}`,
      tenant: `tenant-${rng.int(5)}`,
      priority: rng.int(3),
      replicas: 1,
      durationHours: pick(rng, [1, 2, 4, 8]),
      demand: {
        cpuCores: cores,
        memoryGib: cores * 4,
        ...(gpu ? { accelerator: { model: gpu.model, count: cards } } : {}),
      },
      constraints: { userProvince: userProvince(rng), ...(tolerant ? {} : { maxLatencyMs: 40 }) },
      latencyTargetMs: 15,
      latencyTolerant: tolerant,
      objective: 'cost',
      mode: 'single',
    });
  }
  return out;
}

/**
 * Scales capacities so the tasks use `utilisation` of each resource class: cards per model on accelerator
 * clusters (which keep 8 cores per card), CPU cores of CPU-only tasks on CPU-only clusters. Availability = capacity.
 */
export function fitCapacity(clusters: readonly Cluster[], tasks: readonly Task[], utilisation: number): Cluster[] {
  const demand = new Map<string, number>(),
    have = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const t of tasks) {
    const a = t.demand.accelerator;
    if (a?.model) add(demand, a.model, a.count * t.replicas);
    else add(demand, 'cpu', t.demand.cpuCores * t.replicas);
  }
  for (const c of clusters) {
    if (c.capacity.accelerators.length === 0) add(have, 'cpu', c.capacity.cpuCores);
    for (const a of c.capacity.accelerators) add(have, a.model, a.count);
  }
  const f = (k: string): number => (demand.get(k) ?? 0) / utilisation / (have.get(k) ?? 1);
  return clusters.map((c) => {
    const accelerators = c.capacity.accelerators.map((a) => ({
      ...a,
      count: Math.max(1, Math.round(a.count * f(a.model))),
    }));
    const cards = accelerators.reduce((n, a) => n + a.count, 0);
    const cores = cards > 0 ? cards * 8 : Math.max(1, Math.round(c.capacity.cpuCores * f('cpu')));
    const cap: Resources = {
      cpuCores: cores,
      memoryGib: cores * 8,
      storageGib: cores * 50,
      bandwidthGbps: c.capacity.bandwidthGbps,
      accelerators,
    };
    return { ...c, capacity: cap, available: cap, lifecycle: 'active', health: 'healthy' };
  });
}
