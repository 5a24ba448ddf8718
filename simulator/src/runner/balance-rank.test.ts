import { describe, expect, it } from 'vitest';
import { TaskTemplate } from '@cpnet/protocol';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { estimateLoads, LOAD_COST, SETTLE_MS } from './balance.ts';
import { plannerRanking, plannedViews, streamTask } from './balance-rank.ts';

// Three regions at the same price floor, told apart by carbon only (green share 0.80, 0.79 and 0.20), and the origin's
// region (CPN.31) with a dearer cluster: the case the full-scale run got wrong (about ten regions at 0.05 元).
const cluster = (greenShare: number, price = 0.05) => ({
  cpuCores: 1000,
  memoryGib: 4000,
  pricePerCoreHourYuan: price,
  pue: 1.2,
  greenShare,
});
const plan = expandTopology(
  Topology.parse({
    regions: [
      { code: '31', industries: ['I645'] },
      { code: '51', industries: ['C151'] },
      { code: '32', industries: ['C171'] },
      { code: '33', industries: ['C175'] },
    ],
    providers: [
      { node: 'CPN.31.I645', clusters: [cluster(0.5, 0.3)] },
      { node: 'CPN.51.C151', clusters: [cluster(0.8), cluster(0.8)] },
      { node: 'CPN.32.C171', clusters: [cluster(0.79), cluster(0.79)] },
      { node: 'CPN.33.C175', clusters: [cluster(0.2), cluster(0.2)] },
    ],
  }),
  1,
);
const task = streamTask(
  TaskTemplate.parse({ demand: { cpuCores: 8, memoryGib: 32 }, durationHours: 0.1, latencyTolerant: true }),
  'east-ai',
);

describe("the planner's ranking of a node's children", () => {
  it('breaks a tie at the price floor by the subtree figures, as chooseSubtree does, leaving out the asker', () => {
    const ranked = plannerRanking(plan)('CPN', task, 'CPN.31');
    expect(ranked.map((r) => r.prefix)).toEqual(['CPN.51', 'CPN.32', 'CPN.33']);
    // Carbon alone sets them apart: a hair between the first two, about 8 % to the third.
    expect(ranked[1]!.expectedYuan / ranked[0]!.expectedYuan).toBeLessThan(1.01);
    expect(ranked[2]!.expectedYuan / ranked[0]!.expectedYuan).toBeGreaterThan(1.05);
  });

  it('gives each node the figures it sends its parent: its own clusters merged with its children', () => {
    const views = plannedViews(plan);
    expect(views.get('CPN.51.C151')!.clusters).toBe(2);
    expect(views.get('CPN.51')!.clusters).toBe(2);
    expect(views.get('CPN')!.clusters).toBe(7);
    expect(views.get('CPN.51')!.minPricePerCoreHourYuan).toBe(0.05);
    expect(views.get('CPN.51')!.kgCo2PerItKwh).toBeLessThan(views.get('CPN.33')!.kgCo2PerItKwh);
  });
});

describe('the load estimate with the planner ranking', () => {
  const o = { runMs: 0, reportEveryMs: 30_000, rank: plannerRanking(plan) };
  const stream = { submitTo: 'CPN.31', count: 1000, latencyTolerant: true, concurrentCores: 80, task };
  const jobsAt = (loads: Map<string, number>, node: string) =>
    (loads.get(node)! - LOAD_COST.node - 2 * LOAD_COST.cluster) / (LOAD_COST.owner + LOAD_COST.link);

  it('splits a stream evenly between near-tied subtrees and gives none to a dearer one', () => {
    const loads = estimateLoads(plan, [stream], o);
    expect(jobsAt(loads, 'CPN.51.C151')).toBeCloseTo(500, 6);
    expect(jobsAt(loads, 'CPN.32.C171')).toBeCloseTo(500, 6);
    expect(loads.get('CPN.33.C175')).toBeCloseTo(LOAD_COST.node + 2 * LOAD_COST.cluster);
  });

  it("splits only the jobs of a stream's first SETTLE_MS; the rest go to the first in rank", () => {
    // A quarter of the stream arrives while the pick still moves: 250 split, 750 to CPN.51 (ranked first).
    const loads = estimateLoads(plan, [{ ...stream, durationMs: 4 * SETTLE_MS }], o);
    expect(jobsAt(loads, 'CPN.51.C151')).toBeCloseTo(875, 6);
    expect(jobsAt(loads, 'CPN.32.C171')).toBeCloseTo(125, 6);
    // A stream shorter than SETTLE_MS is split as a whole.
    const short = estimateLoads(plan, [{ ...stream, durationMs: SETTLE_MS / 2 }], o);
    expect(jobsAt(short, 'CPN.51.C151')).toBeCloseTo(500, 6);
  });

  it('sends what the tied subtrees cannot hold to the next in rank', () => {
    // 4,000 cores in the two tied subtrees, 6,000 asked: 2,000 overflow to CPN.33.
    const loads = estimateLoads(plan, [{ ...stream, concurrentCores: 6000 }], o);
    expect(jobsAt(loads, 'CPN.51.C151')).toBeCloseTo(1000 / 3, 6);
    expect(jobsAt(loads, 'CPN.32.C171')).toBeCloseTo(1000 / 3, 6);
    expect(jobsAt(loads, 'CPN.33.C175')).toBeCloseTo(1000 / 3, 6);
  });
});
