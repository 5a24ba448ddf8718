import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { ClusterIndex } from './cluster-index.ts';
import { select } from './select.ts';
import { summarise, chooseSubtree } from './hierarchy.ts';
import { placeBatch } from './batch.ts';
import { placeOnline } from './online.ts';
import { Scheduler } from './scheduler.ts';
import { cluster, task } from './fixtures.test-helpers.ts';
import type { Cluster, Task } from './model.ts';

const FC = { seed: 20261126, numRuns: 100 } as const;
const index = (cs: Cluster[]): ClusterIndex => {
  const r = ClusterIndex.build(cs);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const errorOf = (r: { ok: boolean; error?: { field: string; message: string } }): string =>
  r.ok ? 'ok' : r.error!.field;

describe('bad input is refused at the boundary, naming the field', () => {
  it('an unknown cluster province is an error, not Beijing (it used to pass a residency rule of 11)', () => {
    const r = ClusterIndex.build([cluster('a', { provinceCode: '99' })]);
    expect(errorOf(r)).toBe('clusters[0].provinceCode');
    const ix = index([cluster('b')]);
    const up = ix.upsert(cluster('c', { provinceCode: 'XX' }));
    expect(errorOf(up)).toBe('provinceCode');
    expect(ix.size).toBe(1);
  });

  it('an unknown user province is an error instead of silently dropping the latency limit', () => {
    const ix = index([cluster('a', { latencyMsTo: { '51': 50 } })]);
    const r = select(ix, task('t', { constraints: { userProvince: '00', maxLatencyMs: 5 } }));
    expect(errorOf(r)).toBe('task.constraints.userProvince');
    const sub = chooseSubtree([], task('t', { constraints: { userProvince: '00' } }));
    expect(errorOf(sub)).toBe('task.constraints.userProvince');
  });

  it('NaN or infinite latency and prices are refused; none of them can win', () => {
    for (const [over, field] of [
      [{ pricePerCoreHourYuan: NaN }, 'clusters[0].pricePerCoreHourYuan'],
      [{ pricePerCardHourYuan: Infinity }, 'clusters[0].pricePerCardHourYuan'],
      [{ latencyMsTo: { '51': NaN } }, 'clusters[0].latencyMsTo.51'],
      [{ latencyMsTo: { '51': -Infinity } }, 'clusters[0].latencyMsTo.51'],
      [{ reliability: 1.5 }, 'clusters[0].reliability'],
      [{ greenShare: NaN }, 'clusters[0].greenShare'],
      [{ latencyMsTo: { '99': 3 } }, 'clusters[0].latencyMsTo.99'],
    ] as const)
      expect(errorOf(ClusterIndex.build([cluster('a', over as Partial<Cluster>)]))).toBe(field);
  });

  it('NaN or negative demands, fractional replicas, bad modes and bad objectives are refused', () => {
    const ix = index([cluster('a')]);
    const cases: [Partial<Task>, string][] = [
      [{ demand: { cpuCores: NaN, memoryGib: 1 } }, 'task.demand.cpuCores'],
      [{ demand: { cpuCores: -4, memoryGib: 1 } }, 'task.demand.cpuCores'],
      [{ demand: { cpuCores: 1, memoryGib: 1, accelerator: { count: 1.5 } } }, 'task.demand.accelerator.count'],
      [{ replicas: 1.5 }, 'task.replicas'],
      [{ replicas: 0 }, 'task.replicas'],
      [{ durationHours: Infinity }, 'task.durationHours'],
      [{ latencyTargetMs: NaN }, 'task.latencyTargetMs'],
      [{ constraints: { maxPricePerHourYuan: NaN } }, 'task.constraints.maxPricePerHourYuan'],
      [{ constraints: { residency: { provinces: ['51', '0'] } } }, 'task.constraints.residency.provinces[1]'],
      [{ objective: { cost: NaN } }, 'task.objective.cost'],
      [{ objective: 'fastest' as never }, 'task.objective'],
      [{ mode: 'half' as never }, 'task.mode'],
    ];
    for (const [over, field] of cases) expect(errorOf(select(ix, task('t', over)))).toBe(field);
  });

  it('k must be a non-negative integer (k: -1 threw a RangeError)', () => {
    const ix = index([cluster('a')]);
    expect(errorOf(select(ix, task('t'), { k: -1 }))).toBe('options.k');
    expect(errorOf(select(ix, task('t'), { k: 1.5 }))).toBe('options.k');
    const r = select(ix, task('t'), { k: 0 });
    expect(r.ok && r.value.candidates).toEqual([]);
  });

  it('summarise handles 200,000 clusters (spreading a big array into Math.min overflowed the stack)', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => cluster(`c${i}`, { pricePerCoreHourYuan: 0.1 + (i % 7) }));
    const r = summarise('CPN.51', many);
    expect(r.ok && r.value.clusters).toBe(200_000);
    expect(r.ok && r.value.minPricePerCoreHourYuan).toBeCloseTo(0.1);
    expect(errorOf(summarise('CPN.51', [cluster('x', { provinceCode: '00' })]))).toBe('clusters[0].provinceCode');
  });

  it('batch, online and the stateful scheduler refuse bad tasks with the field named', () => {
    const ix = index([cluster('a')]);
    expect(errorOf(placeBatch(ix, [task('ok'), task('bad', { replicas: 1.5 })]))).toBe('tasks[1].replicas');
    expect(errorOf(placeOnline(ix, [task('bad', { demand: { cpuCores: NaN, memoryGib: 1 } })]))).toBe(
      'tasks[0].demand.cpuCores',
    );
    const s = new Scheduler({ clusters: [cluster('a')], clock: createFakeClock(), quotas: { t: { cpuCores: 25 } } });
    const r = s.submit(task('n', { demand: { cpuCores: NaN, memoryGib: 1 } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.queued).toBe(false);
    expect(!r.ok && r.error?.field).toBe('task.demand.cpuCores');
    expect(s.jobs()).toEqual([]);
    expect(Scheduler.create({ clusters: [cluster('a', { reliability: NaN })], clock: createFakeClock() }).ok).toBe(
      false,
    );
    expect(errorOf(Scheduler.create({ clusters: [], clock: createFakeClock(), quotas: { t: { cpuCores: -1 } } }))).toBe(
      'quotas.t.cpuCores',
    );
  });

  it('property: any number that is not finite, anywhere in a task, gives an error and never a candidate', () => {
    const ix = index([cluster('a'), cluster('b', { provinceCode: '44' })]);
    const bad = fc.constantFrom(NaN, Infinity, -Infinity, -1);
    const where = fc.constantFrom(
      'cpu',
      'mem',
      'sto',
      'bw',
      'cards',
      'hours',
      'target',
      'maxLat',
      'maxPrice',
      'deadline',
      'sec',
    );
    fc.assert(
      fc.property(bad, where, (x, w) => {
        const d = { cpuCores: 1, memoryGib: 1, storageGib: 0, bandwidthGbps: 0 };
        const t = task('p', {
          demand: {
            ...d,
            ...(w === 'cpu' ? { cpuCores: x } : {}),
            ...(w === 'mem' ? { memoryGib: x } : {}),
            ...(w === 'sto' ? { storageGib: x } : {}),
            ...(w === 'bw' ? { bandwidthGbps: x } : {}),
            ...(w === 'cards' ? { accelerator: { count: x } } : {}),
          },
          durationHours: w === 'hours' ? x : 1,
          latencyTargetMs: w === 'target' ? x : 10,
          constraints: {
            userProvince: '51',
            maxLatencyMs: w === 'maxLat' ? x : 100,
            maxPricePerHourYuan: w === 'maxPrice' ? x : 1000,
            ...(w === 'deadline' ? { deadline: x } : {}),
            minSecurityLevel: w === 'sec' ? x : 0,
          },
        });
        const r = select(ix, t);
        // -1 is a valid deadline (a time, long past); every other field must refuse it.
        if (w === 'deadline' && x === -1) return;
        expect(r.ok).toBe(false);
      }),
      FC,
    );
  });
});
