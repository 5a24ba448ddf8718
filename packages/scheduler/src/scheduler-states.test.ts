import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { Scheduler } from './scheduler.ts';
import { cluster, task } from './fixtures.test-helpers.ts';
import type { Cluster } from './model.ts';

// Latency from Sichuan (51) users: the near cluster is in Sichuan, the far ones are 60 ms away.
const near = (id: string, over: Partial<Cluster> = {}): Cluster => cluster(id, { latencyMsTo: { '51': 3 }, ...over });
const far = (id: string): Cluster => cluster(id, { provinceCode: '44', latencyMsTo: { '51': 60 } });
const cpu = (n: number) => ({ demand: { cpuCores: n, memoryGib: 10 } });

describe('wrong states from valid inputs', () => {
  it('preemption checks every hard constraint first and finds the plan beyond the first five', () => {
    const clusters = [far('f1'), far('f2'), far('f3'), far('f4'), far('f5'), near('n')];
    const s = new Scheduler({ clusters, clock: createFakeClock() });
    // One priority-0 job fills each far cluster; two fill the near one (so its plan has more victims and sorted last).
    for (const c of ['f1', 'f2', 'f3', 'f4', 'f5'])
      expect(
        s.submit(task(`low-${c}`, { priority: 0, ...cpu(95) }), {
          exclude: clusters.map((x) => x.id).filter((x) => x !== c),
        }).ok,
      ).toBe(true);
    expect(s.submit(task('low-n1', { priority: 0, ...cpu(50) })).ok).toBe(true);
    expect(s.submit(task('low-n2', { priority: 0, ...cpu(45) })).ok).toBe(true);
    const hi = s.submit(task('hi', { priority: 5, ...cpu(90), constraints: { userProvince: '51', maxLatencyMs: 10 } }));
    expect(hi.ok).toBe(true);
    expect(hi.ok && hi.slices[0]!.clusterId).toBe('n');
    expect(hi.ok && [...hi.preempted].sort()).toEqual(['low-n1', 'low-n2']);
  });

  it('preemption picks the cheapest feasible plan, not the first row', () => {
    const s = new Scheduler({
      clusters: [near('dear', { pricePerCoreHourYuan: 1 }), near('cheap', { pricePerCoreHourYuan: 0.05 })],
      clock: createFakeClock(),
    });
    expect(s.submit(task('a', { priority: 0, ...cpu(95) }), { exclude: ['cheap'] }).ok).toBe(true);
    expect(s.submit(task('b', { priority: 0, ...cpu(95) }), { exclude: ['dear'] }).ok).toBe(true);
    const hi = s.submit(task('hi', { priority: 5, ...cpu(50) }));
    expect(hi.ok && hi.slices[0]!.clusterId).toBe('cheap');
    expect(hi.ok && hi.preempted).toEqual(['b']);
  });

  it('a gang that fails says so: "gang: 4 of 6 replicas fit"', () => {
    const s = new Scheduler({
      clusters: [cluster('a'), cluster('b'), cluster('c', { securityLevel: 1 })],
      clock: createFakeClock(),
    });
    const r = s.submit(task('g', { ...cpu(40), replicas: 6, mode: 'gang', constraints: { minSecurityLevel: 2 } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^gang: 4 of 6 replicas fit/);
    expect(!r.ok && r.step).toBe('gang');
  });

  it('quota usage counts queued work, so a tenant never holds more than its quota after the queue drains', () => {
    const s = new Scheduler({
      clusters: [cluster('a')],
      clock: createFakeClock(),
      quotas: { acme: { cpuCores: 100 } },
    });
    expect(s.submit(task('blocker', { tenant: 'other', priority: 9, ...cpu(100) })).ok).toBe(true);
    const a = s.submit(task('a', { tenant: 'acme', ...cpu(60) }));
    expect(!a.ok && a.queued).toBe(true);
    expect(s.usage('acme').cpuCores).toBe(60);
    const b = s.submit(task('b', { tenant: 'acme', ...cpu(60) }));
    expect(b.ok).toBe(false);
    expect(!b.ok && b.reason).toContain('quota');
    expect(!b.ok && b.queued).toBe(false);
    s.release('blocker');
    s.drain();
    expect(s.usage('acme').cpuCores).toBeLessThanOrEqual(100);
  });

  it('repeated healthy reports do not restart the healthy-since timer, so failback happens', () => {
    const clock = createFakeClock();
    const s = new Scheduler({
      clusters: [cluster('home', { pricePerCoreHourYuan: 0.05 }), cluster('away', { pricePerCoreHourYuan: 0.2 })],
      clock,
      failback: { minHealthyMs: 60_000, minImprovement: 0.05, minMoveIntervalMs: 0 },
    });
    s.submit(task('j'));
    s.setHealth('home', 'down');
    s.setHealth('home', 'healthy');
    for (let i = 0; i < 4; i++) {
      clock.advance(20_000);
      s.setHealth('home', 'healthy');
    }
    expect(s.failback()).toEqual([{ jobId: 'j', from: 'away', to: 'home' }]);
  });

  it('failover keeps a reservation a reservation, with its TTL', () => {
    const clock = createFakeClock();
    const s = new Scheduler({ clusters: [cluster('a'), cluster('b')], clock, reservationTtlMs: 1000 });
    const r = s.reserve(task('r'));
    const from = r.ok ? r.slices[0]!.clusterId : '';
    s.setHealth(from, 'down');
    expect(s.job('r')!.status).toBe('reserved');
    clock.advance(1001);
    s.drain();
    expect(s.job('r')).toBeUndefined();
  });

  it('a split job retries its unplaced replicas when capacity frees', () => {
    const s = new Scheduler({ clusters: [cluster('a'), cluster('b')], clock: createFakeClock() });
    expect(s.submit(task('x', { ...cpu(40) })).ok).toBe(true);
    const sp = s.submit(task('s', { ...cpu(40), replicas: 5, mode: 'split' }));
    expect(sp.ok && sp.unplaced).toBe(2);
    s.release('x');
    s.drain();
    expect(s.job('s')!.unplaced).toBe(1);
    expect(s.job('s')!.slices.reduce((n, x) => n + x.replicas, 0)).toBe(4);
  });
});
