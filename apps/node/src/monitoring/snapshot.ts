import { parentPrefix, parsePrefix } from '@cpnet/identifier';
import { formatTime, type SnapshotJob, type TopologySnapshot } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import type { Aggregation } from '../aggregation/service.ts';
import { cards } from '../aggregation/vectors.ts';

const LIFECYCLES = new Set([
  'applied',
  'reviewing',
  'approved',
  'rejected',
  'joint-debugging',
  'accepted',
  'online',
  'suspended',
  'revoked',
]);
const HEALTH = new Set(['healthy', 'degraded', 'down']);

function placeOf(code: string): { province: string | null; industry: string | null } {
  const p = parsePrefix(code);
  if (!p.ok) return { province: null, industry: null };
  return { province: p.value.region ?? null, industry: p.value.industry ?? null };
}

/** The name a child gave in its application (申报), else its prefix. */
async function applicantName(ctx: Pick<NodeContext, 'db'>, prefix: string): Promise<string> {
  const row = await ctx.db.applications.latestOf(prefix);
  if (!row) return prefix;
  try {
    const name = (JSON.parse(row.body) as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : prefix;
  } catch {
    return prefix;
  }
}

/** Extra parts of the snapshot owned by other services (jobs and their counters, from scheduling). */
export interface SnapshotSources {
  jobs?(): { jobs: SnapshotJob[]; jobsByState: Record<string, number>; p50Ms: number | null; p99Ms: number | null };
}

/** What `buildSnapshot` uses of the node. */
type BuildSnapshotDeps = Pick<NodeContext, 'config' | 'db' | 'deps' | 'metrics' | 'state'>;

/**
 * This node's own part of the monitoring snapshot: itself, its peers as it sees them, its clusters, the jobs it
 * holds, counters. `subtree.ts` merges its children's parts into the subtree snapshot a viewer receives.
 */
export async function buildSnapshot(
  ctx: BuildSnapshotDeps,
  input: {
    aggregation: Aggregation;
    sources?: SnapshotSources;
    /** A child's health as its /link connection tells it (null: not known from the link). */
    childHealth?: (prefix: string) => TopologySnapshot['nodes'][number]['health'] | null;
  },
): Promise<TopologySnapshot> {
  const peers = await ctx.db.peers.list();
  const self = {
    code: ctx.config.code,
    role: ctx.config.role,
    name: ctx.config.name ?? (ctx.config.role === 'national' ? '国家节点' : ctx.config.code),
    parent: parentPrefix(ctx.config.code),
    ...placeOf(ctx.config.code),
    lifecycle: ctx.state.lifecycle,
    health: ctx.state.health,
    url: ctx.state.url,
  };
  const nodes: TopologySnapshot['nodes'] = [self];
  const links: TopologySnapshot['links'] = [];
  for (const p of peers) {
    if (p.prefix === ctx.config.code) continue;
    const lifecycle = LIFECYCLES.has(p.lifecycle) ? p.lifecycle : 'online';
    const linked = p.relation === 'child' ? (input.childHealth?.(p.prefix) ?? null) : null;
    const health = linked ?? (HEALTH.has(p.health) ? p.health : 'healthy');
    nodes.push({
      code: p.prefix,
      role: p.role as TopologySnapshot['nodes'][number]['role'],
      name: p.relation === 'child' ? await applicantName(ctx, p.prefix) : p.prefix,
      parent: parentPrefix(p.prefix),
      ...placeOf(p.prefix),
      lifecycle: lifecycle as TopologySnapshot['nodes'][number]['lifecycle'],
      health: health as TopologySnapshot['nodes'][number]['health'],
      url: p.endpoint,
    });
    if (p.relation === 'child')
      links.push({
        from: p.prefix,
        to: ctx.config.code,
        health: health as TopologySnapshot['links'][number]['health'],
        latencyMs: null,
      });
    if (p.relation === 'parent')
      links.push({
        from: ctx.config.code,
        to: p.prefix,
        health: health as TopologySnapshot['links'][number]['health'],
        latencyMs: null,
      });
  }
  const clusters: TopologySnapshot['clusters'] = [];
  for (const s of input.aggregation.table.values()) {
    const k1 = s.report?.k1 ?? s.spec.capacity;
    const k2 = s.report?.k2 ?? null;
    clusters.push({
      id: s.spec.id,
      node: s.spec.node,
      provider: s.spec.provider,
      name: s.spec.name,
      province: s.spec.province,
      lifecycle: s.spec.lifecycle,
      health: s.health,
      cpuCores: k1.cpuCores,
      cpuAvailable: k2?.cpuCores ?? 0,
      accelerators: cards(k1),
      acceleratorsAvailable: k2 ? cards(k2) : 0,
      utilisation: s.report?.metrics.cpuUtil ?? 0,
      pricePerCoreHourYuan: (s.report?.price ?? s.spec.price).perCoreHourYuan,
      greenShare: s.report?.greenShare ?? s.spec.greenShare,
    });
  }
  const jobs = input.sources?.jobs?.() ?? { jobs: [], jobsByState: {}, p50Ms: null, p99Ms: null };
  const [identifiersRegistered, securityAlerts] = await Promise.all([
    ctx.db.identifiers.countOwnedBy(ctx.config.code),
    // Alerts that are threats: probes and not-yet-approved nodes are recorded with severity info, and not counted.
    ctx.db.events.count('security.alert', { notSeverity: 'info' }),
  ]);
  const resolved = (await ctx.metrics.resolutions.get()).values.reduce((n, v) => n + v.value, 0);
  return {
    at: formatTime(ctx.deps.clock.now()),
    nodes,
    clusters,
    links,
    jobs: jobs.jobs,
    clusterGroups: [],
    unreachable: [],
    counters: {
      identifiersRegistered,
      identifiersResolved: resolved,
      jobsByState: jobs.jobsByState,
      schedulingP50Ms: jobs.p50Ms,
      schedulingP99Ms: jobs.p99Ms,
      securityAlerts,
    },
  };
}
