// @cpnet/scheduler/testing — property checks any ranking policy, filter or score plugin can run (needs fast-check).
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { ClusterIndex } from './cluster-index.ts';
import type { Cluster, Task } from './model.ts';
import { createRegistry, DEFAULT_REGISTRY, type Registry, type ScorePlugin } from './policy.ts';
import { Scheduler } from './scheduler.ts';
import { select } from './select.ts';
import { tenantUsage } from './jobs.ts';

/** Which policy the kit checks and how hard. */
export interface KitOptions {
  /** Policy name (default 'expected-cost'). */
  readonly method?: string;
  /** Registry holding the policy and any plugins (default: the built-in one). */
  readonly registry?: Registry;
  readonly seed?: number;
  readonly numRuns?: number;
}

/** One failed property: its name and fast-check's counterexample report. */
export interface KitFailure {
  readonly property: string;
  readonly report: string;
}

const PROVINCES = ['11', '31', '44', '51', '52', '65'] as const;

/** A cluster with the attributes the criteria read drawn at random; `id` is given. */
export const clusterArb = (id: string): fc.Arbitrary<Cluster> =>
  fc
    .record({
      prov: fc.constantFrom(...PROVINCES),
      cpu: fc.integer({ min: 64, max: 1024 }),
      free: fc.double({ min: 0.3, max: 1, noNaN: true }),
      price: fc.double({ min: 0.02, max: 1, noNaN: true }),
      card: fc.double({ min: 1, max: 20, noNaN: true }),
      pue: fc.double({ min: 1.05, max: 1.6, noNaN: true }),
      green: fc.double({ min: 0, max: 0.9, noNaN: true }),
      intensity: fc.double({ min: 200, max: 900, noNaN: true }),
      rel: fc.double({ min: 0.9, max: 0.999, noNaN: true }),
      lat: fc.double({ min: 1, max: 60, noNaN: true }),
    })
    .map((r) => {
      const cap = {
        cpuCores: r.cpu,
        memoryGib: r.cpu * 8,
        storageGib: r.cpu * 50,
        bandwidthGbps: 100,
        accelerators: [{ model: 'A800', count: 64, fp16Tflops: 312, fp32Tflops: 19.5 }],
      };
      const f = (x: number) => Math.floor(x * r.free);
      return {
        id,
        nodePrefix: `CPN.${r.prov}`,
        provinceCode: r.prov,
        arch: 'x86_64',
        capacity: cap,
        available: {
          ...cap,
          cpuCores: f(r.cpu),
          memoryGib: f(r.cpu * 8),
          accelerators: [{ ...cap.accelerators[0]!, count: f(64) }],
        },
        pricePerCoreHourYuan: r.price,
        pricePerCardHourYuan: r.card,
        pue: r.pue,
        greenShare: r.green,
        carbonIntensity: r.intensity,
        reliability: r.rel,
        securityLevel: 3,
        lifecycle: 'active',
        health: 'healthy',
        latencyMsTo: Object.fromEntries(PROVINCES.map((p) => [p, r.lat])),
      } satisfies Cluster;
    });

/** A task that fits every cluster of `clusterArb`. */
export const taskArb: fc.Arbitrary<Task> = fc
  .record({
    cpu: fc.integer({ min: 1, max: 16 }),
    cards: fc.constantFrom(0, 1, 4),
    hours: fc.constantFrom(1, 4, 8),
    objective: fc.constantFrom('cost', 'latency', 'green', 'balanced') as fc.Arbitrary<
      'cost' | 'latency' | 'green' | 'balanced'
    >,
    tolerant: fc.boolean(),
  })
  .map((r): Task => ({
    id: 'kit',
    tenant: 'kit',
    priority: 1,
    replicas: 1,
    durationHours: r.hours,
    demand: { cpuCores: r.cpu, memoryGib: r.cpu * 4, ...(r.cards ? { accelerator: { count: r.cards } } : {}) },
    constraints: { userProvince: '31' },
    latencyTargetMs: 10,
    latencyTolerant: r.tolerant,
    objective: r.objective,
  }));

/** A cluster worse than both `a` and `b` on every criterion (dearer, slower, dirtier, less reliable, fuller). */
export function dominated(a: Cluster, b: Cluster, id: string): Cluster {
  const worse = (x: number, y: number) => Math.max(x, y) * 1.1 + 0.01;
  const lat = (c: Cluster) => Math.max(...Object.values(c.latencyMsTo));
  const l = worse(lat(a), lat(b));
  const capCpu = Math.max(a.capacity.cpuCores, b.capacity.cpuCores);
  const cards = Math.max(a.capacity.accelerators[0]?.count ?? 0, b.capacity.accelerators[0]?.count ?? 0);
  const capacity = {
    ...a.capacity,
    cpuCores: capCpu,
    memoryGib: capCpu * 8,
    storageGib: capCpu * 50,
    accelerators: a.capacity.accelerators.map((x) => ({ ...x, count: cards })),
  };
  const freeCpu = Math.min(a.available.cpuCores, b.available.cpuCores);
  const freeCards = Math.min(a.available.accelerators[0]?.count ?? 0, b.available.accelerators[0]?.count ?? 0);
  return {
    ...a,
    id,
    capacity,
    available: {
      ...a.available,
      cpuCores: freeCpu,
      memoryGib: Math.min(a.available.memoryGib, b.available.memoryGib),
      accelerators: a.available.accelerators.map((x) => ({ ...x, count: freeCards })),
    },
    pricePerCoreHourYuan: worse(a.pricePerCoreHourYuan, b.pricePerCoreHourYuan),
    pricePerCardHourYuan: worse(a.pricePerCardHourYuan, b.pricePerCardHourYuan),
    pue: worse(a.pue, b.pue),
    greenShare: Math.min(a.greenShare, b.greenShare) * 0.9,
    carbonIntensity: worse(a.carbonIntensity, b.carbonIntensity),
    reliability: Math.min(a.reliability, b.reliability) * 0.99,
    latencyMsTo: Object.fromEntries(Object.keys(a.latencyMsTo).map((p) => [p, l])),
  };
}

const winner = (clusters: Cluster[], task: Task, o: KitOptions): string | null => {
  const ix = ClusterIndex.build(clusters);
  if (!ix.ok) throw new Error(ix.error.message);
  const r = select(ix.value, task, {
    k: 1,
    explain: 'codes',
    method: o.method,
    registry: o.registry ?? DEFAULT_REGISTRY,
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.candidates[0]?.clusterId ?? null;
};

/** Adding a cluster dominated by both A and B on every criterion never changes which of A and B wins. */
export const noRankReversal = (o: KitOptions = {}): fc.IPropertyWithHooks<[Cluster, Cluster, Task]> =>
  fc.property(clusterArb('A'), clusterArb('B'), taskArb, (a, b, t) => {
    const before = winner([a, b], t, o);
    const after = winner([a, b, dominated(a, b, 'Z')], t, o);
    return before === after;
  });

/** A cluster whose score is NaN or ±∞ (here from a score plugin) is never chosen. */
export const nonFiniteNeverWins = (
  o: KitOptions = {},
): fc.IPropertyWithHooks<[Cluster[], { bad: number; x: number }, Task]> =>
  fc.property(
    fc.tuple(clusterArb('C0'), clusterArb('C1'), clusterArb('C2')).map((cs) => [...cs]),
    fc.record({ bad: fc.integer({ min: 0, max: 2 }), x: fc.constantFrom(NaN, Infinity, -Infinity) }),
    taskArb,
    (cs, { bad, x }, t) => {
      const poison: ScorePlugin = { name: 'kit-poison', yuan: (_ix, row) => (row === bad ? x : 0) };
      const base = o.registry ?? DEFAULT_REGISTRY;
      const reg = createRegistry({
        policies: [...base.policies.values()].filter((p) => !DEFAULT_REGISTRY.policies.has(p.name)),
        filters: [...base.filters.values()],
        scores: [...base.scores.values(), poison],
      });
      if (!reg.ok) throw new Error(reg.error.message);
      return winner(cs, t, { ...o, registry: reg.value }) !== `C${bad}`;
    },
  );

/** Every failed placement's reason starts with the step that decided it (input, quota, filter, gang, …). */
export const explanationsNameTheStep = (o: KitOptions = {}): fc.IPropertyWithHooks<[number[], 'single' | 'gang']> =>
  fc.property(
    fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
    fc.constantFrom('single' as const, 'gang' as const),
    (sizes, mode) => {
      const s = kitScheduler(o, { kit: { cpuCores: 300 } });
      return sizes.every((n, i) => {
        const r = s.submit({
          id: `j${i}`,
          tenant: 'kit',
          priority: 1,
          replicas: mode === 'gang' ? 3 : 1,
          mode,
          durationHours: 1,
          demand: { cpuCores: n, memoryGib: n },
        });
        return r.ok || r.reason.startsWith(`${r.step}: `);
      });
    },
  );

/** Under random submissions, releases and drains, no tenant ever holds more than its quota. */
export const quotasNeverExceeded = (o: KitOptions = {}): fc.IPropertyWithHooks<[{ cpu: number; release: boolean }[]]> =>
  fc.property(
    fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 120 }), release: fc.boolean() }), { maxLength: 30 }),
    (ops) => {
      const quota = 150;
      const s = kitScheduler(o, { kit: { cpuCores: quota } });
      return ops.every((op, i) => {
        if (op.release && i > 0) s.release(`j${i - 1}`);
        s.submit({
          id: `j${i}`,
          tenant: 'kit',
          priority: i % 3,
          replicas: 1,
          durationHours: 1,
          demand: { cpuCores: op.cpu, memoryGib: 1 },
        });
        s.drain();
        const held = tenantUsage(
          s.jobs().filter((j) => j.status !== 'queued'),
          'kit',
        );
        return held.cpuCores <= quota && s.usage('kit').cpuCores <= quota;
      });
    },
  );

function kitScheduler(o: KitOptions, quotas: Record<string, { cpuCores: number }>): Scheduler {
  const c = (id: string, cpu: number): Cluster => ({
    id,
    nodePrefix: 'CPN.51',
    provinceCode: '51',
    arch: 'x86_64',
    capacity: { cpuCores: cpu, memoryGib: cpu * 8, storageGib: 1000, bandwidthGbps: 10, accelerators: [] },
    available: { cpuCores: cpu, memoryGib: cpu * 8, storageGib: 1000, bandwidthGbps: 10, accelerators: [] },
    pricePerCoreHourYuan: 0.1,
    pricePerCardHourYuan: 0,
    pue: 1.3,
    greenShare: 0.3,
    carbonIntensity: 500,
    reliability: 0.99,
    securityLevel: 3,
    lifecycle: 'active',
    health: 'healthy',
    latencyMsTo: {},
  });
  return new Scheduler({
    clusters: [c('k1', 100), c('k2', 200)],
    clock: createFakeClock(),
    quotas,
    registry: o.registry,
    method: o.method,
  });
}

/** Runs the four properties; returns the ones that failed (an empty list: the policy passes the kit). */
export function runKit(o: KitOptions = {}): KitFailure[] {
  // No shrinking: shrinking doubles takes minutes; the first counterexample is reported as found.
  const params = { seed: o.seed ?? 20261126, numRuns: o.numRuns ?? 100, endOnFailure: true };
  const props = {
    noRankReversal: noRankReversal(o),
    nonFiniteNeverWins: nonFiniteNeverWins(o),
    explanationsNameTheStep: explanationsNameTheStep(o),
    quotasNeverExceeded: quotasNeverExceeded(o),
  } as const;
  const failures: KitFailure[] = [];
  for (const [name, p] of Object.entries(props)) {
    const d = fc.check(p as fc.IProperty<unknown[]>, params);
    if (d.failed) failures.push({ property: name, report: fc.defaultReportMessage(d) ?? 'failed' });
  }
  return failures;
}
