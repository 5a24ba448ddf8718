import { must, indexOf } from './fixtures.test-helpers.ts';
import { describe, expect, it } from 'vitest';
import highsLoader from 'highs';
import { createRng } from '@cpnet/kernel';
import { placeBatch } from './batch.ts';
import { placeOnline } from './online.ts';
import { feasibleCosts } from './select.ts';
import { fitCapacity, generateClusters, generateTasks } from './synthetic.ts';

function instance(seed: number) {
  const rng = createRng(seed);
  const tasks = generateTasks(rng, { count: 300, cpuSizes: [4, 8], cardSizes: [1, 2] }).map((t) => ({
    ...t,
    constraints: { userProvince: t.constraints!.userProvince! },
  }));
  return { tasks, clusters: fitCapacity(generateClusters(rng, { count: 20 }), tasks, 0.8) };
}

async function lp(
  clusters: ReturnType<typeof instance>['clusters'],
  tasks: ReturnType<typeof instance>['tasks'],
): Promise<number> {
  const ix = indexOf(clusters);
  const obj: string[] = [],
    rows: string[] = [],
    cap = new Map<string, string[]>();
  tasks.forEach((t, i) => {
    const f = must(feasibleCosts(ix, t));
    rows.push(` d${i}: ${Array.from(f.rows, (r) => `x${i}_${r}`).join(' + ')} = 1`);
    f.rows.forEach((r, p) => {
      obj.push(`${f.costs[p]} x${i}_${r}`);
      const add = (k: string, a: number): void => {
        cap.set(k, [...(cap.get(k) ?? []), `${a} x${i}_${r}`]);
      };
      add(`cpu_${r}`, t.demand.cpuCores);
      if (t.demand.accelerator) add(`g_${r}`, t.demand.accelerator.count);
    });
  });
  for (const [k, terms] of cap) {
    const r = Number(k.split('_')[1]);
    const c = k.startsWith('cpu') ? ix.cpuAvail[r]! : ix.acc.reduce((n, m) => n + m.avail[r]!, 0);
    rows.push(` c${k}: ${terms.join(' + ')} <= ${c}`);
  }
  const highs = await highsLoader();
  const sol = highs.solve(`Minimize\n obj: ${obj.join(' + ')}\nSubject To\n${rows.join('\n')}\nEnd\n`);
  expect(sol.Status).toBe('Optimal');
  return sol.ObjectiveValue;
}

describe('placeBatch / placeOnline', () => {
  it('respects capacity, places everything, and reaches ≤ 1.03 × the LP bound', async () => {
    const { tasks, clusters } = instance(11);
    const b = must(placeBatch(indexOf(clusters), tasks));
    expect(b.rejected).toBe(0);
    const used = new Map<number, number>();
    tasks.forEach((t, i) => used.set(b.rows[i]!, (used.get(b.rows[i]!) ?? 0) + t.demand.cpuCores));
    for (const [r, u] of used) expect(u).toBeLessThanOrEqual(clusters[r]!.capacity.cpuCores);
    const bound = await lp(clusters, tasks);
    expect(b.costYuan / bound).toBeLessThanOrEqual(1.03);
    expect(b.lowerBoundYuan).toBeLessThanOrEqual(bound * (1 + 1e-6));
  });

  it('is deterministic and online never over-commits', () => {
    const { tasks, clusters } = instance(12);
    expect(Array.from(must(placeBatch(indexOf(clusters), tasks)).rows)).toEqual(
      Array.from(must(placeBatch(indexOf(clusters), tasks)).rows),
    );
    const ix = indexOf(clusters);
    must(placeOnline(ix, tasks));
    for (let r = 0; r < ix.size; r++) expect(ix.cpuAvail[r]!).toBeGreaterThanOrEqual(0);
  });

  it('online learns the batch prices: with prices from another day it never over-commits and rejects few', () => {
    const { tasks: all, clusters } = instance(13);
    // Tasks no cluster can take (their card model is absent) are left out: every method rejects them.
    const tasks = all.filter((t) => must(feasibleCosts(indexOf(clusters), t)).rows.length > 0);
    expect(tasks.length).toBeGreaterThan(200);
    const past = instance(14).tasks;
    const prices = must(placeBatch(indexOf(clusters), past)).prices;
    expect(prices.dims).toBe(4 + indexOf(clusters).models.length);
    expect(prices.perUnit.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    expect(prices.perUnit.some((x) => x > 0)).toBe(true);
    for (const o of [{ prices }, { window: 50 }, { window: 50, prices }]) {
      const ix = indexOf(clusters);
      const r = must(placeOnline(ix, tasks, o));
      // Learned prices can fragment the cheap clusters (the README's measured weakness): a few, not many.
      expect(r.rejected).toBeLessThanOrEqual(0.05 * tasks.length);
      for (let k = 0; k < ix.size; k++) expect(ix.cpuAvail[k]!).toBeGreaterThanOrEqual(-1e-9);
      expect(Array.from(r.rows).filter((x) => x < 0)).toHaveLength(r.rejected);
    }
    // One window holding every arrival is the batch itself.
    const few = tasks.slice(0, 80);
    const whole = must(placeOnline(indexOf(clusters), few, { window: few.length }));
    expect(Array.from(whole.rows)).toEqual(
      Array.from(must(placeBatch(indexOf(clusters), few, { iterations: 60 })).rows),
    );
  }, 60_000);

  it('refuses a bad window or prices naming the field', () => {
    const { tasks, clusters } = instance(15);
    const w = placeOnline(indexOf(clusters), tasks, { window: 0 });
    expect(!w.ok && w.error.field).toBe('options.window');
    const prices = must(placeBatch(indexOf(clusters), tasks.slice(0, 20))).prices;
    const d = placeOnline(indexOf(clusters), tasks, { prices: { ...prices, dims: 3 } });
    expect(!d.ok && d.error.field).toBe('options.prices.dims');
    const neg = Float64Array.from(prices.perUnit);
    neg[0] = -1;
    const n = placeBatch(indexOf(clusters), tasks, { prices: { ...prices, perUnit: neg } });
    expect(!n.ok && n.error.field).toBe('options.prices.perUnit[0]');
  });
});
