import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { Scheduler } from './scheduler.ts';
import { cluster, task } from './fixtures.test-helpers.ts';
import { checkTask } from './validate.ts';
import type { Cluster, Task } from './model.ts';

// 100-core clusters; a replica takes 40 cores, so two fit per cluster.
const at = (id: string, province: string, over: Partial<Cluster> = {}): Cluster =>
  cluster(id, { provinceCode: province, nodePrefix: `CPN.${province}.P${id}`, ...over });
const gang = (replicas: number, over: Partial<Task> = {}): Task =>
  task('g', { demand: { cpuCores: 40, memoryGib: 10 }, replicas, mode: 'gang', ...over });
const provincesOf = (s: Scheduler, clusters: Cluster[], r: ReturnType<Scheduler['submit']>): string[] =>
  r.ok ? [...new Set(r.slices.map((x) => clusters.find((c) => c.id === x.clusterId)!.provinceCode))].sort() : [];
const run = (clusters: Cluster[], t: Task) => {
  const s = new Scheduler({ clusters, clock: createFakeClock() });
  return { s, r: s.submit(t) };
};

describe('gang locality and spread constraints', () => {
  it('a gang takes one cluster when one holds it, even when a cheaper split exists elsewhere', () => {
    const clusters = [
      at('cheap1', '62', { pricePerCoreHourYuan: 0.01 }),
      at('cheap2', '65', { pricePerCoreHourYuan: 0.01 }),
      at('big', '11', {
        capacity: { ...cluster('x').capacity, cpuCores: 200 },
        available: { ...cluster('x').capacity, cpuCores: 200 },
      }),
    ];
    const { r } = run(clusters, gang(4));
    expect(r.ok && r.slices.map((x) => x.clusterId)).toEqual(['big']);
  });

  it('else one province, before clusters in different provinces', () => {
    const clusters = [
      at('a', '62', { pricePerCoreHourYuan: 0.01 }),
      at('b', '65', { pricePerCoreHourYuan: 0.01 }),
      at('c', '11'),
      at('d', '11'),
    ];
    const { s, r } = run(clusters, gang(4));
    expect(provincesOf(s, clusters, r)).toEqual(['11']);
  });

  it('else within the inter-replica latency bound; refused with the reason when only far clusters are left', () => {
    const clusters = [at('a', '11'), at('b', '13'), at('c', '65')];
    // Beijing–Hebei are close; Xinjiang is far from both.
    const near = run(clusters, gang(4, { placement: { maxInterReplicaLatencyMs: 10 } }));
    expect(near.r.ok && near.r.slices.map((x) => x.clusterId).sort()).toEqual(['a', 'b']);
    const far = run([at('a', '11'), at('c', '65')], gang(4, { placement: { maxInterReplicaLatencyMs: 10 } }));
    expect(far.r.ok).toBe(false);
    expect(!far.r.ok && far.r.step).toBe('gang');
    expect(!far.r.ok && far.r.reason).toMatch(/more than 10 ms apart/);
    // Without a bound, any clusters do (as before).
    expect(run([at('a', '11'), at('c', '65')], gang(4)).r.ok).toBe(true);
  });

  it('spread: at least 2 and at most 2 provinces for a split job; fewer provinces than the minimum is refused', () => {
    const clusters = [at('a', '11'), at('b', '11'), at('c', '31'), at('d', '44')];
    const t = task('s', {
      demand: { cpuCores: 10, memoryGib: 10 },
      replicas: 6,
      mode: 'split',
      placement: { spread: [{ by: 'province', min: 2, max: 2 }] },
    });
    const { s, r } = run(clusters, t);
    expect(provincesOf(s, clusters, r)).toHaveLength(2);
    const one = run([at('a', '11'), at('b', '11')], t);
    expect(!one.r.ok && one.r.step).toBe('spread');
    expect(!one.r.ok && one.r.reason).toMatch(/^spread: 1 provinces of the 2 asked/);
  });

  it("drain's top-up of a split job keeps within the spread maximum", () => {
    const clusters = [at('a', '11'), at('b', '31')];
    const s = new Scheduler({ clusters, clock: createFakeClock() });
    const t = task('s', {
      demand: { cpuCores: 40, memoryGib: 1 },
      replicas: 4,
      mode: 'split',
      placement: { spread: [{ by: 'province', max: 1 }] },
    });
    const r = s.submit(t);
    expect(r.ok && r.slices.map((x) => x.clusterId)).toEqual(['a']);
    expect(r.ok && r.unplaced).toBe(2);
    s.drain();
    expect(s.job('s')!.slices.map((x) => x.clusterId)).toEqual(['a']);
    // Without the maximum the waiting replicas go to b.
    const free = new Scheduler({ clusters, clock: createFakeClock() });
    free.submit({ ...t, placement: undefined });
    expect(
      free
        .job('s')!
        .slices.map((x) => x.clusterId)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('ordered affinity groups fall back to the next group when the first cannot hold the job', () => {
    const clusters = [at('w', '62'), at('e', '31')];
    const t = gang(4, {
      placement: { affinityGroups: [{ name: 'west', provinces: ['62', '63'] }, { provinces: ['31'] }] },
    });
    const first = run(clusters, gang(2, { placement: t.placement }));
    expect(first.r.ok && first.r.slices[0]!.clusterId).toBe('w');
    const s = new Scheduler({ clusters, clock: createFakeClock() });
    expect(s.submit(task('fill', { demand: { cpuCores: 90, memoryGib: 1 } }), { exclude: ['e'] }).ok).toBe(true);
    const r = s.submit(gang(2, { id: 'g2', placement: t.placement }));
    expect(r.ok && r.slices[0]!.clusterId).toBe('e');
  });

  it('bad spread or groups are refused naming the field', () => {
    const bad = checkTask(
      task('x', { replicas: 4, mode: 'split', placement: { spread: [{ by: 'province', min: 3, max: 2 }] } }),
    );
    expect(!bad.ok && bad.error.field).toBe('task.placement.spread[0].min');
    const by = checkTask(task('x', { placement: { spread: [{ by: 'zone' as 'province' }] } }));
    expect(!by.ok && by.error.field).toBe('task.placement.spread[0].by');
    const g = checkTask(task('x', { placement: { affinityGroups: [{ provinces: ['99'] }] } }));
    expect(!g.ok && g.error.field).toBe('task.placement.affinityGroups[0].provinces[0]');
  });

  it('property: a placed gang is whole and honours max provinces; a split never exceeds its max', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.array(fc.constantFrom('11', '13', '31', '44', '62', '65'), { minLength: 1, maxLength: 8 }),
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom<'gang' | 'split'>('gang', 'split'),
        ),
        ([provs, replicas, max, mode]) => {
          const clusters = provs.map((p, i) => at(`c${i}`, p));
          const t = task('t', {
            demand: { cpuCores: 40, memoryGib: 1 },
            replicas,
            mode,
            placement: { spread: [{ by: 'province', max }] },
          });
          const { s, r } = run(clusters, t);
          if (!r.ok) return;
          const n = r.slices.reduce((a, x) => a + x.replicas, 0);
          if (mode === 'gang') expect(n).toBe(replicas);
          expect(provincesOf(s, clusters, r).length).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 100 },
    );
  });
});
