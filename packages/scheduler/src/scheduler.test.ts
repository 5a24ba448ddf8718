import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { Scheduler } from './scheduler.ts';
import { cluster, must, someClusters, task } from './fixtures.test-helpers.ts';

const FC = { seed: 20261126, numRuns: 60 } as const;

function capacityHolds(s: Scheduler): void {
  const ix = s.index;
  for (let r = 0; r < ix.size; r++) {
    expect(ix.cpuAvail[r]!).toBeGreaterThanOrEqual(-1e-9);
    expect(ix.memAvail[r]!).toBeGreaterThanOrEqual(-1e-9);
    for (const m of ix.acc) expect(m.avail[r]!).toBeGreaterThanOrEqual(-1e-9);
  }
}

describe('Scheduler', () => {
  it('places gang jobs all-or-nothing and split jobs partially', () => {
    const s = new Scheduler({ clusters: [cluster('a'), cluster('b')], clock: createFakeClock() });
    const gang = s.submit(task('g', { demand: { cpuCores: 40, memoryGib: 10 }, replicas: 6, mode: 'gang' }));
    expect(gang.ok).toBe(false);
    expect(s.index.cpuAvail[0]).toBe(100);
    expect(s.index.cpuAvail[1]).toBe(100);
    const split = s.submit(task('s', { demand: { cpuCores: 40, memoryGib: 10 }, replicas: 6, mode: 'split' }));
    expect(split.ok && split.unplaced).toBe(2);
    const g2 = s.submit(task('g2', { demand: { cpuCores: 10, memoryGib: 10 }, replicas: 4, mode: 'gang' }));
    expect(g2.ok && g2.slices.reduce((n, x) => n + x.replicas, 0)).toBe(4);
  });

  it('preempts lower-priority work, re-queues the victims and never loses them', () => {
    const s = new Scheduler({ clusters: [cluster('a')], clock: createFakeClock() });
    expect(s.submit(task('low', { priority: 1, demand: { cpuCores: 80, memoryGib: 10 } })).ok).toBe(true);
    const hi = s.submit(task('high', { priority: 5, demand: { cpuCores: 50, memoryGib: 10 } }));
    expect(hi.ok && hi.preempted).toEqual(['low']);
    expect(s.job('low')!.status).toBe('queued');
    const same = s.submit(task('peer', { priority: 5, demand: { cpuCores: 60, memoryGib: 10 } }));
    expect(same.ok).toBe(false);
    expect(s.queued().map((j) => j.id)).toEqual(['peer', 'low']);
    s.release('high');
    expect(s.drain().map((o) => o.jobId)).toEqual(['peer']);
  });

  it('preempts only below `preemptBelow`: an aged priority protects a job but evicts nothing of its base priority', () => {
    const s = new Scheduler({ clusters: [cluster('a')], clock: createFakeClock() });
    expect(s.submit(task('base', { priority: 1, demand: { cpuCores: 80, memoryGib: 10 } })).ok).toBe(true);
    // Aged from 1 to 1.5 while it waited: it may not evict the running job of its base priority 1.
    const aged = s.submit(task('aged', { priority: 1.5, demand: { cpuCores: 50, memoryGib: 10 } }), {
      preemptBelow: 1,
    });
    expect(aged.ok).toBe(false);
    expect(s.job('base')!.status).toBe('running');
    s.release('aged');
    expect(s.submit(task('low', { priority: 0, demand: { cpuCores: 20, memoryGib: 10 } })).ok).toBe(true);
    s.release('base');
    expect(
      s.submit(task('aged2', { priority: 1.5, demand: { cpuCores: 90, memoryGib: 10 } }), { preemptBelow: 1 }),
    ).toMatchObject({ ok: true, preempted: ['low'] });
  });

  it('enforces tenant quotas', () => {
    const s = new Scheduler({ clusters: [cluster('a')], clock: createFakeClock(), quotas: { t: { cpuCores: 25 } } });
    expect(s.submit(task('1')).ok).toBe(true);
    expect(s.submit(task('2')).ok).toBe(true);
    const r = s.submit(task('3'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain('quota');
  });

  it('expires uncommitted reservations and keeps committed ones', () => {
    const clock = createFakeClock();
    const s = new Scheduler({ clusters: [cluster('a')], clock, reservationTtlMs: 1000 });
    s.reserve(task('r1'));
    s.reserve(task('r2'));
    expect(s.commit('r2')).toBe(true);
    clock.advance(1001);
    expect(must(s.select(task('x'))).candidates[0]!.replicasFit).toBe(1);
    expect(s.job('r1')).toBeUndefined();
    expect(s.job('r2')!.status).toBe('running');
    expect(s.index.cpuAvail[0]).toBe(90);
  });

  it('fails over a down cluster and fails back only after the hysteresis', () => {
    const clock = createFakeClock();
    const s = new Scheduler({
      clusters: [cluster('home', { pricePerCoreHourYuan: 0.05 }), cluster('away', { pricePerCoreHourYuan: 0.2 })],
      clock,
      failback: { minHealthyMs: 60_000, minImprovement: 0.05, minMoveIntervalMs: 0 },
    });
    s.submit(task('j', { objective: 'cost' }));
    expect(s.job('j')!.slices[0]!.clusterId).toBe('home');
    expect(s.setHealth('home', 'down')).toEqual([{ jobId: 'j', from: 'home', to: 'away' }]);
    s.setHealth('home', 'healthy');
    clock.advance(30_000);
    expect(s.failback()).toEqual([]);
    s.setHealth('home', 'down');
    s.setHealth('home', 'healthy');
    clock.advance(59_000);
    expect(s.failback()).toEqual([]);
    clock.advance(2_000);
    expect(s.failback()).toEqual([{ jobId: 'j', from: 'away', to: 'home' }]);
    expect(s.failback()).toEqual([]);
  });

  it('under random operations never exceeds capacity and never loses a job', () => {
    const clusters = someClusters(12, 3);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('submit' as const),
        cpu: fc.integer({ min: 1, max: 900 }),
        cards: fc.constantFrom(0, 2, 16),
        pr: fc.integer({ min: 0, max: 3 }),
        mode: fc.constantFrom('single' as const, 'split' as const, 'gang' as const),
        replicas: fc.integer({ min: 1, max: 5 }),
      }),
      fc.record({ kind: fc.constant('down' as const), c: fc.integer({ min: 0, max: 11 }) }),
      fc.record({ kind: fc.constant('up' as const), c: fc.integer({ min: 0, max: 11 }) }),
      fc.record({ kind: fc.constant('finish' as const), n: fc.nat() }),
      fc.record({ kind: fc.constant('drain' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = createFakeClock();
        const s = new Scheduler({ clusters, clock });
        const accepted = new Set<string>();
        const released = new Set<string>();
        ops.forEach((o, i) => {
          clock.advance(10_000);
          if (o.kind === 'submit') {
            const r = s.submit(
              task(`j${i}`, {
                priority: o.pr,
                mode: o.mode,
                replicas: o.replicas,
                demand: { cpuCores: o.cpu, memoryGib: o.cpu, ...(o.cards ? { accelerator: { count: o.cards } } : {}) },
              }),
            );
            if (r.ok || r.queued) accepted.add(`j${i}`);
          } else if (o.kind === 'down') s.setHealth(clusters[o.c]!.id, 'down');
          else if (o.kind === 'up') {
            s.setHealth(clusters[o.c]!.id, 'healthy');
            s.failback();
          } else if (o.kind === 'finish') {
            const js = s.jobs();
            const j = js[o.n % Math.max(1, js.length)];
            if (j) {
              s.release(j.id);
              released.add(j.id);
            }
          } else s.drain();
          capacityHolds(s);
        });
        const held = new Set(s.jobs().map((j) => j.id));
        for (const id of accepted) expect(held.has(id) || released.has(id)).toBe(true);
        for (const j of s.jobs())
          expect(j.status === 'queued' ? j.slices.length === 0 : j.slices.length > 0).toBe(true);
      }),
      FC,
    );
  });

  it('gives the same answers for the same inputs', () => {
    const run = (): string => {
      const s = new Scheduler({ clusters: someClusters(30, 5), clock: createFakeClock() });
      const out = [];
      for (let i = 0; i < 40; i++)
        out.push(s.submit(task(`j${i}`, { priority: i % 3, demand: { cpuCores: 200 + 37 * i, memoryGib: 64 } })));
      return JSON.stringify(out);
    };
    expect(run()).toBe(run());
  });
});

describe('node-server additions', () => {
  it('reserve skips clusters the caller excludes, and resume puts a running job back where it was', () => {
    const s = new Scheduler({
      clusters: [cluster('CPN.51/CL-A'), cluster('CPN.51/CL-B', { pricePerCoreHourYuan: 1 })],
      clock: createFakeClock(),
    });
    const r = s.reserve(task('j1'), { exclude: ['CPN.51/CL-A'] });
    expect(r.ok && r.slices[0]!.clusterId).toBe('CPN.51/CL-B');
    const t = new Scheduler({ clusters: [cluster('CPN.51/CL-A'), cluster('CPN.51/CL-B')], clock: createFakeClock() });
    expect(
      t.resume(task('j2', { demand: { cpuCores: 60, memoryGib: 10 } }), {
        clusterId: 'CPN.51/CL-B',
        preferredClusterId: 'CPN.51/CL-A',
      }),
    ).toBe(true);
    expect(t.job('j2')!.slices[0]!.clusterId).toBe('CPN.51/CL-B');
    expect(t.index.cpuAvail[t.index.rowOf('CPN.51/CL-B')]).toBe(40);
  });
});
