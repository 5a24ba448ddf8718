import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { residencyVerdict } from '@cpnet/protocol';
import { select } from './select.ts';
import { cluster, someClusters, task, must, indexOf } from './fixtures.test-helpers.ts';
import type { Arch, Task } from './model.ts';

const FC = { seed: 20261126, numRuns: 200 } as const;
const clusters = someClusters(80);

const taskArb = fc
  .record({
    cpu: fc.integer({ min: 1, max: 2000 }),
    cards: fc.constantFrom(0, 0, 1, 4, 64, 600),
    model: fc.constantFrom('A800', 'H20', 'Ascend910B', 'V100'),
    replicas: fc.integer({ min: 1, max: 4 }),
    arch: fc.constantFrom(undefined, 'x86_64', 'aarch64'),
    sec: fc.integer({ min: 0, max: 5 }),
    user: fc.constantFrom('11', '31', '44', '51', '65'),
    maxLat: fc.option(fc.integer({ min: 2, max: 60 }), { nil: undefined }),
    residency: fc.option(fc.subarray(['11', '31', '44', '51', '52', '65', '81']), { nil: undefined }),
    maxPrice: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    mode: fc.constantFrom('single', 'split', 'gang'),
  })
  .map((a): Task =>
    task('p', {
      demand: {
        cpuCores: a.cpu,
        memoryGib: a.cpu * 2,
        ...(a.cards ? { accelerator: { model: a.model, count: a.cards } } : {}),
      },
      replicas: a.replicas,
      mode: a.mode as Task['mode'],
      constraints: {
        arch: a.arch as Arch | undefined,
        minSecurityLevel: a.sec,
        userProvince: a.user,
        maxLatencyMs: a.maxLat,
        residency: a.residency ? { provinces: a.residency } : undefined,
        maxPricePerHourYuan: a.maxPrice,
      },
    }),
  );

describe('select', () => {
  it('never returns a candidate that breaks a hard constraint or capacity', () => {
    fc.assert(
      fc.property(taskArb, (t) => {
        const sel = must(select(indexOf(clusters), t, { k: 100 }));
        for (const c of sel.candidates) {
          const cl = clusters.find((x) => x.id === c.clusterId)!;
          const n = (t.mode ?? 'single') === 'single' ? t.replicas : 1;
          const con = t.constraints!;
          expect(cl.lifecycle).toBe('active');
          expect(cl.health).not.toBe('down');
          if (con.arch) expect(cl.arch).toBe(con.arch);
          expect(residencyVerdict(con.residency, cl.provinceCode).allowed).toBe(true);
          expect(cl.securityLevel).toBeGreaterThanOrEqual(con.minSecurityLevel ?? 0);
          expect(cl.available.cpuCores).toBeGreaterThanOrEqual(t.demand.cpuCores * n);
          expect(cl.available.memoryGib).toBeGreaterThanOrEqual(t.demand.memoryGib * n);
          const a = t.demand.accelerator;
          if (a)
            expect(cl.available.accelerators.find((x) => x.model === a.model)?.count ?? 0).toBeGreaterThanOrEqual(
              a.count * n,
            );
          if (con.maxLatencyMs !== undefined)
            expect(cl.latencyMsTo[con.userProvince!]!).toBeLessThanOrEqual(con.maxLatencyMs);
          if (con.maxPricePerHourYuan !== undefined)
            expect(
              t.replicas * (t.demand.cpuCores * cl.pricePerCoreHourYuan + (a?.count ?? 0) * cl.pricePerCardHourYuan),
            ).toBeLessThanOrEqual(con.maxPricePerHourYuan + 1e-9);
        }
      }),
      FC,
    );
  });

  it('gives every excluded cluster a reason, and every cluster is either a candidate or excluded', () => {
    fc.assert(
      fc.property(taskArb, (t) => {
        const sel = must(select(indexOf(clusters), t, { k: 1000 }));
        expect(sel.exclusions!.length + sel.feasible).toBe(clusters.length);
        expect(sel.candidates.length).toBe(sel.feasible);
        const ids = new Set([...sel.exclusions!.map((e) => e.clusterId), ...sel.candidates.map((c) => c.clusterId)]);
        expect(ids.size).toBe(clusters.length);
        for (const e of sel.exclusions!) expect(e.message.length).toBeGreaterThan(5);
      }),
      FC,
    );
  });

  it('groups exclusions by constraint: counts match every exclusion, examples are the first of each, in row order', () => {
    fc.assert(
      fc.property(taskArb, fc.integer({ min: 0, max: 4 }), (t, examples) => {
        const sel = must(select(indexOf(clusters), t, { k: 1000, examples }));
        const groups = sel.exclusionGroups!;
        for (const g of groups) {
          const all = sel.exclusions!.filter((e) => e.constraint === g.constraint);
          expect(g.count).toBe(all.length);
          expect(g.count).toBe(sel.excludedBy[g.constraint]);
          expect(g.examples).toEqual(all.slice(0, examples));
        }
        expect(groups.reduce((n, g) => n + g.count, 0)).toBe(sel.exclusions!.length);
        expect(groups.map((g) => g.count)).toEqual(groups.map((g) => g.count).sort((a, b) => b - a));
      }),
      FC,
    );
    expect(select(indexOf(clusters), task('x'), { examples: -1 })).toMatchObject({
      ok: false,
      error: { field: 'options.examples' },
    });
  });

  it('is deterministic for the same input', () => {
    fc.assert(
      fc.property(taskArb, (t) => {
        const a = must(select(indexOf(clusters), t)),
          b = must(select(indexOf(clusters), t));
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { ...FC, numRuns: 50 },
    );
  });

  it('names the values of a capacity exclusion and the main obstacle when nothing fits', () => {
    const ix = indexOf([cluster('a'), cluster('b', { provinceCode: '44' })]);
    const sel = must(select(ix, task('big', { demand: { cpuCores: 60, memoryGib: 10 }, replicas: 2 })));
    expect(sel.feasible).toBe(0);
    expect(sel.mainObstacle).toMatchObject({ constraint: 'cpu', count: 2 });
    expect(sel.exclusions![0]).toMatchObject({ constraint: 'cpu', required: 120, actual: 100 });
    // The message head is built once per decision; each cluster keeps its own availability.
    const two = must(
      select(
        indexOf([cluster('x', { available: { ...cluster('x').capacity, cpuCores: 7 } }), cluster('y')]),
        task('b', { demand: { cpuCores: 60, memoryGib: 10 }, replicas: 2 }),
      ),
    );
    expect(two.exclusions!.map((e) => e.message)).toEqual([
      'needs 120 CPU cores (2 × 60), 7 available',
      'needs 120 CPU cores (2 × 60), 100 available',
    ]);
    const res = must(select(ix, task('r', { constraints: { residency: { provinces: ['44'] } } })));
    expect(res.candidates.map((c) => c.clusterId)).toEqual(['b']);
    expect(res.exclusions![0]!.message).toContain('data residency');
  });

  it('ranks by TOPSIS with a CATS 0–10 score, and cost objective prefers the cheaper cluster', () => {
    const ix = indexOf([
      cluster('dear', { pricePerCoreHourYuan: 0.3 }),
      cluster('cheap', { pricePerCoreHourYuan: 0.05 }),
      cluster('mid', { pricePerCoreHourYuan: 0.1 }),
    ]);
    for (const method of ['topsis', 'weighted-sum'] as const) {
      const sel = must(select(ix, task('t', { objective: 'cost' }), { method }));
      expect(sel.candidates[0]!.clusterId).toBe('cheap');
      expect(sel.candidates[0]!.catsScore).toBe(10);
      expect(sel.candidates[0]!.catsClass).toBe('preferred');
      expect(sel.candidates.at(-1)!.catsScore).toBe(0);
      expect(sel.candidates[0]!.criteria.cost.score).toBe(10);
    }
  });

  it('checks deadlines against the clock it is given', () => {
    const clock = createFakeClock();
    const ix = indexOf([cluster('slow', { queueWaitMinutes: 120 }), cluster('fast')]);
    const t = task('d', { durationHours: 1, constraints: { deadline: clock.now() + 90 * 60_000 } });
    const sel = must(select(ix, t, { clock }));
    expect(sel.candidates.map((c) => c.clusterId)).toEqual(['fast']);
    expect(sel.excludedBy.deadline).toBe(1);
    expect(must(select(ix, t)).warnings[0]).toContain('no clock');
  });
});
