import { describe, expect, it } from 'vitest';
import type { ClusterReport } from '@cpnet/protocol';
import { ClusterTable } from './cluster-table.ts';
import { healthAt } from './health.ts';
import { summarise } from './summary.ts';
import { isMaterialChange, shouldSend } from './damping.ts';
import { marketView } from './market.ts';
import type { ClusterSpec } from './types.ts';

const timeouts = { degradedAfterMs: 10_000, downAfterMs: 30_000 };

function spec(over: Partial<ClusterSpec> & { id: string }): ClusterSpec {
  return {
    node: 'CPN.51.C151',
    provider: 'CPN.51.C151/PV-1',
    name: over.id,
    province: '51',
    city: '宜宾',
    industry: 'C151',
    resourceClass: '403',
    capacity: {
      cpuCores: 100,
      memoryGib: 400,
      storageGib: 1000,
      bandwidthGbps: 10,
      accelerators: [{ model: 'Ascend 910B', kind: 'NPU', count: 8, memoryGib: 64, fp16Tflops: 320, fp32Tflops: 80 }],
    },
    price: { perCoreHourYuan: 0.2, perCardHourYuan: 8, perGibHourYuan: 0 },
    pue: 1.2,
    greenShare: 0.6,
    lifecycle: 'active',
    ...over,
  };
}

function report(
  cluster: string,
  over: { cores?: number; health?: 'healthy' | 'degraded' | 'down'; price?: number } = {},
): ClusterReport {
  const s = spec({ id: cluster });
  return {
    cluster,
    k1: s.capacity,
    k2: { ...s.capacity, cpuCores: over.cores ?? 50, accelerators: [{ ...s.capacity.accelerators[0]!, count: 4 }] },
    price: { ...s.price, perCoreHourYuan: over.price ?? 0.2 },
    pue: 1.2,
    greenShare: 0.6,
    metrics: {
      cpuUtil: 0.5,
      memoryUtil: 0.5,
      acceleratorUtil: 0.5,
      latencyMs: 3,
      health: over.health ?? 'healthy',
      runningJobs: 0,
    },
  };
}

describe('cluster health', () => {
  it('is down before the first report, then follows silence: healthy → degraded → down', () => {
    expect(healthAt({ report: null, lastReportAt: null }, 0, timeouts)).toBe('down');
    const r = report('A');
    expect(healthAt({ report: r, lastReportAt: 0 }, 9_999, timeouts)).toBe('healthy');
    expect(healthAt({ report: r, lastReportAt: 0 }, 10_000, timeouts)).toBe('degraded');
    expect(healthAt({ report: r, lastReportAt: 0 }, 30_000, timeouts)).toBe('down');
    expect(healthAt({ report: report('A', { health: 'degraded' }), lastReportAt: 0 }, 1, timeouts)).toBe('degraded');
  });

  it('a sweep skipped while nothing can change leaves every cluster as a full sweep would (random reports and sweeps)', () => {
    // Seeded: 40 clusters, reports and sweeps at random times (node time, virtual); after every sweep each cluster's
    // health is what `healthAt` says at that moment, and the changes reported are exactly those.
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const t = new ClusterTable();
    const ids = Array.from({ length: 40 }, (_, i) => `C${i}`);
    for (const id of ids) t.register(spec({ id }));
    let now = 0;
    let swept = 0;
    for (let step = 0; step < 3000; step++) {
      now += Math.floor(rand() * 2_000);
      if (rand() < 0.3) t.apply([report(ids[Math.floor(rand() * ids.length)]!)], { now, timeouts });
      if (rand() < 0.02) t.register(spec({ id: `N${step}` }));
      const before = new Map([...t.values()].map((c) => [c.spec.id, c.health]));
      const changes = t.sweep({ now, timeouts });
      swept++;
      for (const c of t.values()) expect(c.health, `${c.spec.id} at ${now}`).toBe(healthAt(c, now, timeouts));
      const moved = [...t.values()].filter((c) => before.get(c.spec.id) !== c.health).map((c) => c.spec.id);
      expect(changes.map((c) => c.cluster).sort()).toEqual(moved.sort());
    }
    expect(swept).toBe(3000);
  });

  it('reports the transitions of a table once each', () => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    expect(t.apply([report('A')], { now: 0, timeouts })).toEqual([
      { cluster: 'A', provider: 'CPN.51.C151/PV-1', from: 'down', to: 'healthy' },
    ]);
    expect(t.sweep({ now: 5_000, timeouts })).toEqual([]);
    expect(t.sweep({ now: 12_000, timeouts }).map((c) => c.to)).toEqual(['degraded']);
    expect(t.sweep({ now: 13_000, timeouts })).toEqual([]);
    expect(t.sweep({ now: 31_000, timeouts }).map((c) => c.to)).toEqual(['down']);
    expect(t.apply([report('A')], { now: 32_000, timeouts }).map((c) => c.to)).toEqual(['healthy']);
    expect(t.get('A')?.reports).toBe(2);
  });

  it('refuses entries for unknown, foreign or revoked clusters', () => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    t.register(spec({ id: 'R', lifecycle: 'revoked' }));
    expect(t.check({ cluster: 'A' }, 'CPN.51.C151/PV-1')).toBeNull();
    expect(t.check({ cluster: 'A' }, 'CPN.51.C151/PV-2')).toMatch(/belongs to/);
    expect(t.check({ cluster: 'B' }, 'CPN.51.C151/PV-1')).toMatch(/not a cluster/);
    expect(t.check({ cluster: 'R' }, 'CPN.51.C151/PV-1')).toMatch(/revoked/);
  });
});

describe('summaries', () => {
  it("sum clusters by class, province and industry, and merge children's offers", () => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    t.register(spec({ id: 'B', province: '50', resourceClass: '401', industry: null }));
    t.apply([report('A'), report('B', { price: 0.1 })], { now: 0, timeouts });
    const child = summarise({ node: 'CPN.51.C151', at: 't', clusters: t.values(), children: [] });
    expect(child).toMatchObject({ clusters: 2, healthy: 2 });
    expect(child.byClass['403']?.k2.cpuCores).toBe(50);
    expect(child.byProvince['50']?.clusters).toBe(1);
    expect(child.byIndustry).toEqual({ C151: { clusters: 1 }, none: { clusters: 1 } });
    const parent = summarise({ node: 'CPN.51', at: 't', clusters: [], children: [child, child] });
    expect(parent.clusters).toBe(4);
    expect(parent.offers.find((o) => o.province === '51')?.k1.accelerators[0]?.count).toBe(16);
  });

  it("count a down cluster's capacity as unavailable", () => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    t.apply([report('A')], { now: 0, timeouts });
    t.sweep({ now: 60_000, timeouts });
    const s = summarise({ node: 'CPN.51.C151', at: 't', clusters: t.values(), children: [] });
    expect(s).toMatchObject({ clusters: 1, healthy: 0 });
    expect(s.offers[0]?.k2.cpuCores).toBe(0);
  });
});

describe('damping', () => {
  const base = (cores: number, healthy = 1) => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    t.apply([report('A', { cores, health: healthy ? 'healthy' : 'degraded' })], { now: 0, timeouts });
    return summarise({ node: 'N', at: 't', clusters: t.values(), children: [] });
  };
  it('sends material changes at once and churn only at the maximum interval', () => {
    const options = { threshold: 0.05, maxIntervalMs: 60_000 };
    expect(isMaterialChange(base(50), base(51), 0.05)).toBe(false);
    expect(isMaterialChange(base(50), base(60), 0.05)).toBe(true);
    expect(isMaterialChange(base(50), base(50, 0), 0.05)).toBe(true);
    expect(shouldSend({ last: null, lastSentAt: null, next: base(50), now: 0 }, options)).toBe(true);
    expect(shouldSend({ last: base(50), lastSentAt: 0, next: base(51), now: 1000 }, options)).toBe(false);
    expect(shouldSend({ last: base(50), lastSentAt: 0, next: base(51), now: 60_000 }, options)).toBe(true);
  });
});

describe('the market view', () => {
  it('filters by province, class, accelerator and price, cheapest first', () => {
    const t = new ClusterTable();
    t.register(spec({ id: 'A' }));
    t.register(
      spec({
        id: 'B',
        province: '50',
        resourceClass: '401',
        industry: null,
        capacity: { cpuCores: 64, memoryGib: 256, storageGib: 100, bandwidthGbps: 10, accelerators: [] },
      }),
    );
    t.apply(
      [report('A'), { ...report('B', { price: 0.1 }), k1: t.get('B')!.spec.capacity, k2: t.get('B')!.spec.capacity }],
      { now: 0, timeouts },
    );
    const { offers } = summarise({ node: 'CPN', at: 't', clusters: t.values(), children: [] });
    const all = marketView({ node: 'CPN', at: 't', offers }, {});
    expect(all.offers.map((o) => o.province)).toEqual(['50', '51']);
    expect(all.totals.clusters).toBe(2);
    expect(marketView({ node: 'CPN', at: 't', offers }, { accelerator: '910b' }).offers.map((o) => o.province)).toEqual(
      ['51'],
    );
    expect(marketView({ node: 'CPN', at: 't', offers }, { province: '50', resourceClass: '401' }).offers).toHaveLength(
      1,
    );
    expect(
      marketView({ node: 'CPN', at: 't', offers }, { maxPricePerCoreHourYuan: 0.15 }).offers.map((o) => o.province),
    ).toEqual(['50']);
  });
});
