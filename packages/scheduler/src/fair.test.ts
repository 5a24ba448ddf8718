import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cluster, must, task } from './fixtures.test-helpers.ts';
import { Scheduler } from './scheduler.ts';
import { admit, drfEntitlements, simulateQueue, type Arrival } from './fair.ts';
import type { Task } from './model.ts';

const H = 3_600_000;
const cap = { cpuCores: 100, memoryGib: 400, cards: 0 };
const job = (id: string, o: Partial<Task> & { cores?: number } = {}): Task =>
  task(id, { demand: { cpuCores: o.cores ?? 10, memoryGib: 10 }, ...o });

describe('Scheduler aging', () => {
  it('drain places a low-priority job that waited long before a newer high-priority one; bad aging is refused', () => {
    let now = 0;
    const clock = { now: () => now };
    const c = cluster('c', {
      capacity: { ...cluster('x').capacity, cpuCores: 50 },
      available: { ...cluster('x').capacity, cpuCores: 50 },
    });
    const mk = (agingPerHour: number) => {
      now = 0;
      const s = new Scheduler({ clusters: [c], clock, agingPerHour });
      expect(s.submit(job('run', { priority: 9, cores: 50 })).ok).toBe(true);
      s.submit(job('low', { priority: 0, cores: 50 }));
      now = 10 * H;
      s.submit(job('high', { priority: 5, cores: 50 }));
      s.release('run');
      return s.drain().map((r) => r.ok && r.jobId);
    };
    expect(mk(0)).toEqual(['high']);
    expect(mk(1)).toEqual(['low']);
    expect(() => new Scheduler({ clusters: [c], clock, agingPerHour: -1 })).toThrow(/agingPerHour/);
  });
});

describe('fair admission', () => {
  it('offers the tenant with the least weighted dominant share first', () => {
    const running = [{ task: job('r', { tenant: 'a', cores: 60 }), end: 10 * H }];
    const waiting = [
      { task: job('a1', { tenant: 'a', cores: 30 }), since: 0 },
      { task: job('b1', { tenant: 'b', cores: 30 }), since: 1 },
    ];
    const r = must(admit({ waiting, running, now: 0 }, { capacity: cap }));
    expect(r.admitted).toEqual(['b1']);
    // a holds 0.6 over weight 10 = 0.06; b holds 0.1 over weight 0.1 = 1: a goes first.
    const both = [...running, { task: job('rb', { tenant: 'b', cores: 10 }), end: 10 * H }];
    const w = must(admit({ waiting, running: both, now: 0 }, { capacity: cap, weights: { a: 10, b: 0.1 } }));
    expect(w.admitted[0]).toBe('a1');
  });

  it('ages priority: a low-priority job that waited long goes ahead of a new high-priority one', () => {
    const waiting = [
      { task: job('low', { priority: 0, cores: 50 }), since: 0 },
      { task: job('high', { priority: 5, cores: 50 }), since: 10 * H },
    ];
    const running = [{ task: job('r', { cores: 50 }), end: 20 * H }];
    expect(must(admit({ waiting, running, now: 10 * H }, { capacity: cap, agingPerHour: 0 })).admitted).toEqual([
      'high',
    ]);
    expect(must(admit({ waiting, running, now: 10 * H }, { capacity: cap, agingPerHour: 1 })).admitted).toEqual([
      'low',
    ]);
  });

  it('backfills short jobs without delaying the head; a long job waits', () => {
    const running = [{ task: job('r', { cores: 70 }), end: 2 * H }];
    const waiting = [
      { task: job('head', { priority: 9, cores: 80 }), since: 0 },
      { task: job('short', { priority: 0, cores: 20, durationHours: 1 }), since: 1 },
      { task: job('long', { priority: 0, cores: 10, durationHours: 5 }), since: 2 },
    ];
    const r = must(admit({ waiting, running, now: 0 }, { capacity: cap }));
    expect(r.reservation).toEqual({ taskId: 'head', at: 2 * H });
    // At 2 h the head takes 80 of 100: 'long' (10 cores, 5 h) fits in the 20 left over — so it may run too.
    expect(r.admitted).toEqual(['short', 'long']);
    const tight = must(
      admit(
        {
          waiting: [
            ...waiting.slice(0, 2),
            { task: job('long', { priority: 0, cores: 25, durationHours: 5 }), since: 2 },
          ],
          running: [{ task: job('r', { cores: 50 }), end: 2 * H }],
          now: 0,
        },
        { capacity: cap },
      ),
    );
    expect(tight.admitted).toEqual(['short']);
    expect(must(admit({ waiting, running, now: 0 }, { capacity: cap, backfill: false })).admitted).toEqual([]);
  });

  it('refuses bad options naming the field', () => {
    const e = admit({ waiting: [], running: [], now: 0 }, { capacity: cap, weights: { a: 0 } });
    expect(!e.ok && e.error.field).toBe('options.weights.a');
    const c = admit({ waiting: [], running: [], now: 0 }, { capacity: { ...cap, cards: -1 } });
    expect(!c.ok && c.error.field).toBe('options.capacity.cards');
    const t = admit(
      { waiting: [{ task: job('x', { replicas: 0 }), since: 0 }], running: [], now: 0 },
      { capacity: cap },
    );
    expect(!t.ok && t.error.field).toBe('waiting[0].task.replicas');
  });

  it('DRF entitlements: the paper example (9 CPU, 18 GB; <1, 4> and <3, 1>) gives both 2/3', () => {
    const e = drfEntitlements({ cpuCores: 9, memoryGib: 18, cards: 0 }, [
      { tenant: 'A', weight: 1, perJob: { cpuCores: 1, memoryGib: 4, cards: 0 }, demand: Infinity },
      { tenant: 'B', weight: 1, perJob: { cpuCores: 3, memoryGib: 1, cards: 0 }, demand: Infinity },
    ]);
    expect(e.get('A')).toBeCloseTo(2 / 3, 9);
    expect(e.get('B')).toBeCloseTo(2 / 3, 9);
  });

  it('property: under a backlog, simulated shares stay within 10 % of the weighted DRF entitlement', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (wa, wb) => {
        const capacity = { cpuCores: 200, memoryGib: 800, cards: 64 };
        const shapes = {
          a: { cpuCores: 4, memoryGib: 8, cards: 0 },
          b: { cpuCores: 2, memoryGib: 16, cards: 1 },
        };
        const arrivals: Arrival[] = [];
        for (const [tenant, s] of Object.entries(shapes))
          for (let i = 0; i < 300; i++)
            arrivals.push({
              at: 0,
              task: task(`${tenant}${i}`, {
                tenant,
                demand: {
                  cpuCores: s.cpuCores,
                  memoryGib: s.memoryGib,
                  ...(s.cards ? { accelerator: { count: s.cards } } : {}),
                },
                durationHours: 0.5,
              }),
            });
        const weights = { a: wa, b: wb };
        const run = simulateQueue(arrivals, { capacity, weights, from: 0, until: 2 * H });
        const ent = drfEntitlements(
          capacity,
          Object.entries(shapes).map(([tenant, perJob]) => ({
            tenant,
            weight: weights[tenant as 'a'],
            perJob,
            demand: Infinity,
          })),
        );
        for (const t of ['a', 'b']) {
          const e = ent.get(t)!;
          expect(Math.abs(run.meanShare.get(t)! - e) / e).toBeLessThan(0.1);
        }
      }),
      { numRuns: 6 },
    );
  });
});
