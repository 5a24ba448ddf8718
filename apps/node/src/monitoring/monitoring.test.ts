import { describe, expect, it } from 'vitest';
import type { MonitorEvent, TopologySnapshot } from '@cpnet/protocol';
import { createFlowCounters } from './flows.ts';
import { openEpisodes } from './history.ts';
import { CLUSTER_LIST_MAX, limitClusters, merge } from './subtree.ts';
import { traceIdOf, traceparentOf } from './trace.ts';

const node = (code: string, over: Partial<TopologySnapshot['nodes'][number]> = {}) => ({
  code,
  role: (code === 'CPN' ? 'national' : code.split('.').length === 2 ? 'regional' : 'industry') as 'regional',
  name: code,
  parent: code.includes('.') ? code.split('.').slice(0, -1).join('.') : null,
  province: code.split('.')[1] ?? null,
  industry: code.split('.')[2] ?? null,
  lifecycle: 'online' as const,
  health: 'healthy' as const,
  url: null,
  ...over,
});
const cluster = (id: string, nodeCode: string, health: 'healthy' | 'down' = 'healthy') => ({
  id,
  node: nodeCode,
  provider: 'p',
  name: id,
  province: '51',
  lifecycle: 'active' as const,
  health,
  cpuCores: 10,
  cpuAvailable: 4,
  accelerators: 1,
  acceleratorsAvailable: 0,
  utilisation: 0.6,
  pricePerCoreHourYuan: 0.1,
  greenShare: 0.5,
});
const job = (id: string, state: TopologySnapshot['jobs'][number]['state']) => ({
  id,
  tenant: 't@CPN.51',
  state,
  from: '51',
  cluster: null,
  to: null,
  origin: 'CPN.51',
  owner: null,
});
const snap = (over: Partial<TopologySnapshot>): TopologySnapshot => ({
  at: '2026-12-05T00:00:00.000Z',
  nodes: [],
  clusters: [],
  links: [],
  jobs: [],
  clusterGroups: [],
  unreachable: [],
  counters: {
    identifiersRegistered: 1,
    identifiersResolved: 0,
    jobsByState: {},
    schedulingP50Ms: null,
    schedulingP99Ms: null,
    securityAlerts: 2,
  },
  ...over,
});

describe('subtree merge', () => {
  it("takes a child's own entry for its subtree, keeps this node's view of the link, health and of its parent", () => {
    const mine = snap({
      nodes: [node('CPN'), node('CPN.51', { name: '四川区域节点', health: 'down' })],
      links: [{ from: 'CPN.51', to: 'CPN', health: 'down', latencyMs: null }],
      jobs: [job('CPN.51/JB-1', 'escalated')],
    });
    const child = snap({
      nodes: [node('CPN.51'), node('CPN', { name: 'wrong' }), node('CPN.51.C151', { name: '白酒' })],
      links: [
        { from: 'CPN.51', to: 'CPN', health: 'healthy', latencyMs: null },
        { from: 'CPN.51.C151', to: 'CPN.51', health: 'healthy', latencyMs: null },
      ],
      clusters: [cluster('c1', 'CPN.51.C151')],
      jobs: [job('CPN.51/JB-1', 'running'), job('CPN.51/JB-2', 'queued')],
    });
    const m = merge(mine, [child]);
    const byCode = new Map(m.nodes.map((n) => [n.code, n]));
    expect(byCode.get('CPN')?.name).toBe('CPN');
    expect(byCode.get('CPN.51')).toMatchObject({ name: '四川区域节点', health: 'down' });
    expect(byCode.get('CPN.51.C151')?.name).toBe('白酒');
    expect(m.links.find((l) => l.from === 'CPN.51')?.health).toBe('down');
    expect(m.clusters.map((c) => c.id)).toEqual(['c1']);
    expect(m.jobs.find((j) => j.id === 'CPN.51/JB-1')?.state).toBe('running');
    expect(m.counters.jobsByState).toEqual({ running: 1, queued: 1 });
    expect(m.counters.securityAlerts).toBe(4);
  });

  it(`sends per-node sums instead of clusters above ${CLUSTER_LIST_MAX}`, () => {
    const many = Array.from({ length: CLUSTER_LIST_MAX + 1 }, (_, i) =>
      cluster(`c${i}`, i % 2 ? 'CPN.51' : 'CPN.44', i % 3 ? 'healthy' : 'down'),
    );
    const s = limitClusters(snap({ clusters: many }));
    expect(s.clusters).toEqual([]);
    expect(s.clusterGroups.reduce((n, g) => n + g.clusters, 0)).toBe(CLUSTER_LIST_MAX + 1);
    const g51 = s.clusterGroups.find((g) => g.node === 'CPN.51')!;
    expect(g51.cpuCores).toBe(g51.clusters * 10);
    expect(g51.healthy + g51.down).toBe(g51.clusters);
    expect(limitClusters(snap({ clusters: many.slice(0, 5) })).clusters).toHaveLength(5);
  });
});

describe('flows, episodes, trace ids', () => {
  it('counts own job events by origin and cluster province and state, not relayed copies; drains once', () => {
    let now = 0;
    const f = createFlowCounters({ now: () => now });
    f.count({ originProvince: '51', province: '44', state: 'finished' });
    f.count({ originProvince: '51', province: '44', state: 'finished' });
    f.count({ originProvince: '51', province: '44', state: 'finished', relayed: true });
    f.count({ originProvince: null, province: null, state: 'queued' });
    f.count({ nothing: true });
    now = 10_000;
    const d = f.drain()!;
    expect(d.flows).toEqual([
      { from: '51', to: '44', state: 'finished', count: 2 },
      { from: null, to: null, state: 'queued', count: 1 },
    ]);
    expect(d.states).toEqual({ finished: 2, queued: 1 });
    expect(d.until).toBe('1970-01-01T00:00:10.000Z');
    expect(f.drain()).toBeNull();
  });

  it('keeps an episode open from the first down until a recovery', () => {
    const e = ([type, subject, health, at]: [string, string, string, string]): MonitorEvent =>
      ({
        id: at,
        type,
        at,
        node: 'CPN',
        subject,
        severity: 'info',
        data: { health, reason: `${subject} ${health}` },
      }) as MonitorEvent;
    const eps = openEpisodes([
      e(['node.health', 'CPN.44', 'down', '2026-01-01T00:00:01.000Z']),
      e(['node.health', 'CPN.44', 'down', '2026-01-01T00:00:02.000Z']),
      e(['link.health', 'CPN.33', 'down', '2026-01-01T00:00:03.000Z']),
      e(['link.health', 'CPN.33', 'healthy', '2026-01-01T00:00:04.000Z']),
      e(['cluster.health', 'c1', 'degraded', '2026-01-01T00:00:05.000Z']),
    ]);
    expect(eps).toEqual([{ kind: 'node', target: 'CPN.44', since: '2026-01-01T00:00:01.000Z', reason: 'CPN.44 down' }]);
  });

  it('gives one trace id per job at every node, and a span per node', () => {
    const a = traceparentOf('CPN.51.C151/JB-1', 'CPN.51.C151');
    const b = traceparentOf('CPN.51.C151/JB-1', 'CPN.44');
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(a.split('-')[1]).toBe(b.split('-')[1]);
    expect(a.split('-')[1]).toBe(traceIdOf('CPN.51.C151/JB-1'));
    expect(a.split('-')[2]).not.toBe(b.split('-')[2]);
    expect(traceIdOf('CPN.51.C151/JB-2')).not.toBe(traceIdOf('CPN.51.C151/JB-1'));
  });
});
