import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '@cpnet/kernel';
import { cluster, indexOf, must, task } from '../fixtures.test-helpers.ts';
import {
  cheapestFeasible,
  divideByWeight,
  karmadaDynamicWeight,
  karmadaStaticWeight,
  kubeDefault,
  multiKueue,
  randomFeasible,
} from './index.ts';

const cap = (cpuCores: number) => ({
  cpuCores,
  memoryGib: cpuCores * 8,
  storageGib: 1000,
  bandwidthGbps: 10,
  accelerators: [],
});
const cpuCluster = (id: string, cores: number, over = {}) =>
  cluster(id, { capacity: cap(cores), available: cap(cores), ...over });
const rng = () => createRng(1);
const split = (replicas: number) => task('j', { replicas, mode: 'split', demand: { cpuCores: 10, memoryGib: 10 } });

describe('Karmada divided', () => {
  it('divides by static weight, remainder by weight, availability ignored (replicas to a full cluster stay pending)', () => {
    const ix = indexOf([cpuCluster('a', 100), cpuCluster('b', 30)]);
    const r = must(karmadaStaticWeight(ix, [split(7)], { rng: rng(), staticWeights: { a: 3, b: 1 } }));
    // ⌊7·3/4⌋ = 5, ⌊7·1/4⌋ = 1, remainder 1 to the heavier a → a 6, b 1.
    expect(r.parts[0]).toEqual([
      { row: 0, replicas: 6 },
      { row: 1, replicas: 1 },
    ]);
    expect(r.rejected).toBe(0);
    const full = indexOf([cpuCluster('a', 20), cpuCluster('b', 100)]);
    const p = must(karmadaStaticWeight(full, [split(4)], { rng: rng(), staticWeights: { a: 3, b: 1 } }));
    expect(p.parts[0]).toEqual([
      { row: 0, replicas: 2 },
      { row: 1, replicas: 1 },
    ]);
    expect(p.rejected).toBe(1);
  });

  it('divides by available replicas with dynamic weights and fails when they do not add up', () => {
    const ix = indexOf([cpuCluster('a', 30), cpuCluster('b', 60)]);
    const r = must(karmadaDynamicWeight(ix, [split(6)], { rng: rng() }));
    expect(r.parts[0]).toEqual([
      { row: 0, replicas: 2 },
      { row: 1, replicas: 4 },
    ]);
    const small = indexOf([cpuCluster('a', 30), cpuCluster('b', 20)]);
    const f = must(karmadaDynamicWeight(small, [split(6)], { rng: rng() }));
    expect(f.parts[0]).toEqual([]);
    expect(f.rejected).toBe(1);
  });

  it('spread constraints: too few provinces fails; at most maxGroups provinces are used', () => {
    const ix = indexOf([
      cpuCluster('a', 100),
      cpuCluster('b', 100, { provinceCode: '62' }),
      cpuCluster('c', 50, { provinceCode: '44' }),
    ]);
    const spread = { by: 'province' as const, minGroups: 4, maxGroups: 4 };
    expect(must(karmadaDynamicWeight(ix, [split(4)], { rng: rng(), spread })).rejected).toBe(1);
    const two = must(
      karmadaDynamicWeight(
        indexOf([
          cpuCluster('a', 100),
          cpuCluster('b', 100, { provinceCode: '62' }),
          cpuCluster('c', 50, { provinceCode: '44' }),
        ]),
        [split(4)],
        {
          rng: rng(),
          spread: { by: 'province', minGroups: 1, maxGroups: 2 },
        },
      ),
    );
    expect(two.parts[0]!.map((p) => p.row).sort()).toEqual([0, 1]);
  });

  it('property: the division hands out exactly the replicas, each at least its floor share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 100 }),
        (w, n) => {
          const rows = w.map((_, i) => i);
          const parts = divideByWeight(rows, { weights: w, replicas: n, tieOrder: rows });
          const sum = w.reduce((a, b) => a + b, 0);
          expect(parts.reduce((a, p) => a + p.replicas, 0)).toBe(n);
          for (const p of parts) expect(p.replicas).toBeGreaterThanOrEqual(Math.floor((w[p.row]! * n) / sum));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('kube-scheduler default, MultiKueue, greedy, random', () => {
  it('kube default prefers the least allocated node, blind to price', () => {
    const ix = indexOf([
      cpuCluster('cheap', 100, { pricePerCoreHourYuan: 0.01 }),
      cpuCluster('dear', 400, { pricePerCoreHourYuan: 1 }),
    ]);
    const r = must(kubeDefault(ix, [task('t', { demand: { cpuCores: 10, memoryGib: 80 } })], { rng: rng() }));
    expect(r.parts[0]).toEqual([{ row: 1, replicas: 1 }]);
    const g = must(
      cheapestFeasible(
        indexOf([
          cpuCluster('cheap', 100, { pricePerCoreHourYuan: 0.01 }),
          cpuCluster('dear', 400, { pricePerCoreHourYuan: 1 }),
        ]),
        [task('t')],
        { rng: rng() },
      ),
    );
    expect(g.parts[0]).toEqual([{ row: 0, replicas: 1 }]);
  });

  it('MultiKueue incremental races within the first round of 3 workers by name that can admit', () => {
    const cs = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id) =>
      cpuCluster(id, id === 'w1' || id === 'w2' || id === 'w3' ? 5 : 100),
    );
    for (let seed = 0; seed < 10; seed++) {
      const r = must(multiKueue(indexOf(cs), [task('t')], { rng: createRng(seed), dispatcher: 'incremental' }));
      expect([3, 4]).toContain(r.parts[0]![0]!.row);
    }
    const none = must(multiKueue(indexOf([cpuCluster('w1', 5)]), [task('t')], { rng: rng() }));
    expect(none.rejected).toBe(1);
  });

  it('random is reproducible for a seed and respects capacity', () => {
    const cs = Array.from({ length: 6 }, (_, i) => cpuCluster(`c${i}`, 25));
    const ts = Array.from({ length: 15 }, (_, i) => task(`t${i}`));
    const a = must(randomFeasible(indexOf(cs), ts, { rng: createRng(9) }));
    const b = must(randomFeasible(indexOf(cs), ts, { rng: createRng(9) }));
    expect(a.parts).toEqual(b.parts);
    expect(a.rejected).toBe(3); // 6 clusters × 2 tasks of 10 cores
  });

  it('bad input is refused naming the field', () => {
    const r = kubeDefault(indexOf([cpuCluster('a', 10)]), [task('t', { replicas: 0 })], { rng: rng() });
    expect(!r.ok && r.error.field).toBe('tasks[0].replicas');
  });
});
