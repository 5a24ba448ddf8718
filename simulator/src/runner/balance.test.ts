import { describe, expect, it } from 'vitest';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { balanceThreads, estimateLoads, LOAD_COST } from './balance.ts';

const plan = expandTopology(
  Topology.parse({
    regions: [
      { code: '31', industries: ['I645'] },
      { code: '51', industries: ['C151', 'I651'] },
    ],
    providerTemplates: [{ count: 4, nodes: ['CPN.31.I645', 'CPN.51.C151'], clusters: { min: 10, max: 10 } }],
  }),
  1,
);

describe('the load estimate', () => {
  it('charges origin, owner, the nodes between, and cluster reports', () => {
    const loads = estimateLoads(plan, [{ submitTo: 'CPN.51.C151', count: 1000 }], {
      runMs: 60_000,
      reportEveryMs: 30_000,
    });
    // 20 clusters at C151 (its own), reporting twice: all 1,000 jobs start and run there.
    expect(loads.get('CPN.51.C151')).toBeCloseTo(
      1000 * (LOAD_COST.origin + LOAD_COST.owner) + 20 * 2 * LOAD_COST.report,
    );
    expect(loads.get('CPN.31.I645')).toBeCloseTo(20 * 2 * LOAD_COST.report);
    expect(loads.get('CPN')).toBe(0);
    expect(loads.get('CPN.51.I651')).toBe(0);
  });

  it('spreads latency-tolerant work over every cluster, through the common ancestor', () => {
    const loads = estimateLoads(plan, [{ submitTo: 'CPN.31', count: 1000, latencyTolerant: true }], {
      runMs: 0,
      reportEveryMs: 30_000,
    });
    const reports = 20 * LOAD_COST.report; // one round at least
    // Half the clusters are under CPN.31 (its child I645: no node between), half under CPN.51 (via CPN and CPN.51).
    expect(loads.get('CPN.31')).toBeCloseTo(1000 * LOAD_COST.origin);
    expect(loads.get('CPN.31.I645')).toBeCloseTo(500 * LOAD_COST.owner + reports);
    expect(loads.get('CPN.51.C151')).toBeCloseTo(500 * LOAD_COST.owner + reports);
    expect(loads.get('CPN')).toBeCloseTo(500 * LOAD_COST.hop);
    expect(loads.get('CPN.51')).toBeCloseTo(500 * LOAD_COST.hop);
  });
  it('sends a stream with a concurrent demand to the cheapest clusters that hold it, streams in order', () => {
    const cheapest = plan.providers
      .flatMap((p) => p.clusters.map((c) => ({ node: p.node, price: c.pricePerCoreHourYuan, cores: c.cpuCores })))
      .sort((a, b) => a.price - b.price)[0]!;
    const other = cheapest.node === 'CPN.31.I645' ? 'CPN.51.C151' : 'CPN.31.I645';
    const loads = estimateLoads(plan, [{ submitTo: 'CPN', count: 1000, latencyTolerant: true, concurrentCores: 1 }], {
      runMs: 0,
      reportEveryMs: 30_000,
    });
    const reports = 20 * LOAD_COST.report;
    expect(loads.get(cheapest.node)).toBeCloseTo(1000 * LOAD_COST.owner + reports);
    expect(loads.get(other)).toBeCloseTo(reports);
    // More than the whole network holds at once: every cluster takes its cores’ share; nothing is lost.
    const all = plan.providers.flatMap((p) => p.clusters).reduce((n, c) => n + c.cpuCores, 0);
    const big = estimateLoads(plan, [{ submitTo: 'CPN', count: 1000, concurrentCores: all * 10 }], {
      runMs: 0,
      reportEveryMs: 30_000,
    });
    expect(big.get('CPN.31.I645')! + big.get('CPN.51.C151')!).toBeCloseTo(1000 * LOAD_COST.owner + 2 * reports);
  });
});

describe('the thread placement', () => {
  it('puts the heaviest nodes on different threads and fills the lighter one with the quiet nodes', () => {
    const loads = new Map([
      ['A', 50],
      ['B', 30],
      ['C', 25],
      ['q1', 1],
      ['q2', 1],
      ['q3', 1],
      ['q4', 1],
    ]);
    const t = balanceThreads(loads, 2);
    const sums = [0, 0];
    for (const [code, i] of t) sums[i]! += loads.get(code)!;
    expect(t.get('A')).not.toBe(t.get('B'));
    expect(t.get('B')).toBe(t.get('C'));
    // 50 + 4 quiet against 55: the best split possible.
    expect(sums.sort()).toEqual([54, 55]);
  });

  it('is deterministic, uses every thread, and takes one thread for a count below 1', () => {
    const loads = new Map(Array.from({ length: 9 }, (_, i) => [`n${i}`, i % 3] as [string, number]));
    expect(balanceThreads(loads, 3)).toEqual(balanceThreads(new Map([...loads].reverse()), 3));
    expect(new Set(balanceThreads(loads, 3).values())).toEqual(new Set([0, 1, 2]));
    expect(new Set(balanceThreads(loads, 0).values())).toEqual(new Set([0]));
  });

  it('splits the scaled-down scale run far more evenly than one busy node per thread did', () => {
    // The small run's two heavy nodes (CPN.51.C151: its stream's origin and owner; CPN.31: the other origin) on
    // different threads, the quiet nodes beside the lighter.
    const loads = estimateLoads(
      plan,
      [
        { submitTo: 'CPN.51.C151', count: 2500 },
        { submitTo: 'CPN.31', count: 2500, latencyTolerant: true },
      ],
      { runMs: 71 * 60_000, reportEveryMs: 30_000 },
    );
    const t = balanceThreads(loads, 2);
    expect(t.get('CPN.51.C151')).not.toBe(t.get('CPN.31'));
    const sums = [0, 0];
    for (const [code, i] of t) sums[i]! += loads.get(code)!;
    expect(Math.max(...sums) / Math.min(...sums)).toBeLessThan(1.3);
  });
});
