import { describe, expect, it } from 'vitest';
import { parseCreditCode } from '@cpnet/identifier';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from './expand.ts';

const topology = Topology.parse({
  regions: [{ code: '51', industries: ['C397', 'C341', 'C276', 'C151'] }, { code: '52' }],
  providers: [
    {
      node: 'CPN.51.C151',
      clusters: [{ cpuCores: 512, memoryGib: 2048, accelerators: [{ model: 'Ascend 910B', count: 64 }] }],
    },
  ],
  providerTemplates: [{ count: 20, nodes: ['CPN.51.C397', 'CPN.52'] }],
});

describe('topology expansion', () => {
  it('builds the node hierarchy with names from the code tables', () => {
    const plan = expandTopology(topology, 1);
    expect(plan.nodes.map((n) => n.code)).toEqual([
      'CPN',
      'CPN.51',
      'CPN.51.C397',
      'CPN.51.C341',
      'CPN.51.C276',
      'CPN.51.C151',
      'CPN.52',
    ]);
    expect(plan.nodes.find((n) => n.code === 'CPN.51.C151')?.name).toBe('四川省酒的制造行业节点');
  });

  it('generates providers with valid 统一社会信用代码 and plausible clusters', () => {
    const plan = expandTopology(topology, 1);
    expect(plan.providers).toHaveLength(21);
    for (const p of plan.providers) {
      expect(parseCreditCode(p.creditCode).ok, p.creditCode).toBe(true);
      expect(p.name).toMatch(/公司$/);
      for (const c of p.clusters) {
        expect(c.cpuCores).toBeGreaterThan(0);
        expect(c.pue).toBeGreaterThanOrEqual(1);
        expect(c.greenShare).toBeLessThanOrEqual(1);
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(expandTopology(topology, 9)).toEqual(expandTopology(topology, 9));
    expect(expandTopology(topology, 9)).not.toEqual(expandTopology(topology, 10));
  });

  it('refuses a provider attached to a node that is not in the topology', () => {
    const bad = Topology.parse({
      regions: [{ code: '51' }],
      providers: [{ node: 'CPN.44', clusters: [{ cpuCores: 1, memoryGib: 1 }] }],
    });
    expect(() => expandTopology(bad, 1)).toThrow(/topology\.providers\.0\.node: node CPN\.44 is not in the topology/);
  });
});
