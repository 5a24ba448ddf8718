import { formatTime, type EvidencePack, type RuntimeFigures } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { SECURITY_ITEMS } from './security-items.ts';
import { signRecord } from './service.ts';

/** What gathering the evidence uses of the node. */
export type EvidenceDeps = Pick<
  NodeContext,
  'audit' | 'config' | 'db' | 'deps' | 'identity' | 'metrics' | 'settings' | 'state'
>;

/** The settings key under which a node keeps the latest full joint-debugging result a peer ran on it. */
export const conformanceKey = (peer: string) => `conformance.${peer}`;

const DAY_MS = 86_400_000;

type Buckets = { count: number; buckets: Map<number, number> };

/** Quantile (in ms) from cumulative histogram buckets: the upper bound of the bucket holding it. */
function quantile(h: Buckets, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  for (const [le, n] of [...h.buckets].sort((a, b) => a[0] - b[0])) if (n >= rank) return le * 1000;
  return null;
}

/** Latency of the routes matching `pick`, from the request histogram (since the process started). */
async function latency(
  ctx: Pick<NodeContext, 'metrics'>,
  pick: (labels: Partial<Record<string, string | number>>) => boolean,
): Promise<RuntimeFigures['resolution']> {
  const got = await ctx.metrics.duration.get();
  const h: Buckets = { count: 0, buckets: new Map() };
  for (const v of got.values) {
    if (!pick(v.labels)) continue;
    if (v.metricName?.endsWith('_count')) h.count += v.value;
    if (v.metricName?.endsWith('_bucket')) {
      const le = Number((v.labels as Record<string, unknown>).le);
      if (Number.isFinite(le)) h.buckets.set(le, (h.buckets.get(le) ?? 0) + v.value);
    }
  }
  return { count: h.count, p50Ms: quantile(h, 0.5), p99Ms: quantile(h, 0.99) };
}

/**
 * Availability over the period from the health events held about `node` (the authority's health watch of a child;
 * a node's own log holds none about itself, so there it is the share of the period this process has been up).
 */
export async function availability(
  ctx: Pick<NodeContext, 'config' | 'db' | 'state'>,
  q: { node: string; from: number; to: number },
): Promise<{ availability: number; downMs: number }> {
  const span = Math.max(1, q.to - q.from);
  if (q.node === ctx.config.code) {
    const up = Math.max(0, q.to - Math.max(q.from, ctx.state.startedAt));
    return { availability: Math.min(1, up / span), downMs: Math.round(span - Math.min(span, up)) };
  }
  const rows = await ctx.db.events.find({ type: 'node.health', until: formatTime(q.to), limit: 100_000 });
  let down: number | null = null;
  let downMs = 0;
  for (const r of rows) {
    if (r.subject !== q.node) continue;
    const at = Math.min(q.to, Math.max(q.from, Date.parse(r.at)));
    const health = (JSON.parse(r.data) as { health?: string }).health;
    if (health === 'down' && down === null) down = at;
    if (health !== 'down' && down !== null) {
      downMs += at - down;
      down = null;
    }
  }
  if (down !== null) downMs += q.to - down;
  return { availability: Math.max(0, 1 - downMs / span), downMs: Math.round(downMs) };
}

/** The runtime figures over [from, to) of node time, from this node's metrics, event log and stores. */
export async function runtimeFigures(ctx: EvidenceDeps, period: { from: number; to: number }): Promise<RuntimeFigures> {
  const up = await availability(ctx, { node: ctx.config.code, ...period });
  const jobs = await ctx.db.events.find({
    type: 'job.schedule',
    since: formatTime(period.from),
    until: formatTime(period.to),
    limit: 1_000_000,
  });
  const providers = await ctx.db.providers.all();
  const clusters = await ctx.db.providers.clusters();
  const summaries = await ctx.db.providers.childSummaries();
  return {
    period: { from: formatTime(period.from), to: formatTime(period.to) },
    ...up,
    resolution: await latency(ctx, (l) => l.method === 'GET' && String(l.route).includes('identifiers')),
    scheduling: await latency(
      ctx,
      (l) => l.method === 'POST' && /\/(jobs|selections|placements)/.test(String(l.route)),
    ),
    latencyScope: 'HTTP request histogram of this process since it started (wall time); bucket upper bounds',
    resources: { providers: providers.length, clusters: clusters.length, childSummaries: summaries.length },
    jobsServed: jobs.filter((e) => e.node === null).length,
  };
}

/**
 * The evidence pack this node gathers for its 验收: the latest full joint-debugging results its parent and the
 * national node ran on it, runtime figures over the period (default: the last 30 days of node time), the security
 * table, and its audit log's signed tree head; signed by the node.
 */
export async function gatherEvidence(ctx: EvidenceDeps, q: { from?: number; to?: number } = {}): Promise<EvidencePack> {
  const now = ctx.deps.clock.now();
  const to = q.to ?? now;
  const from = q.from ?? to - 30 * DAY_MS;
  const peers = await ctx.db.peers.list({ relations: ['ancestor', 'parent'], byRelation: true });
  const conformance = peers
    .map((p) => ctx.settings.getJson<Record<string, unknown>>(conformanceKey(p.prefix)))
    .filter((r): r is Record<string, unknown> => r !== undefined);
  const pack: EvidencePack = {
    node: ctx.config.code,
    gatheredAt: formatTime(now),
    conformance: conformance as EvidencePack['conformance'],
    runtime: await runtimeFigures(ctx, { from, to }),
    security: [...SECURITY_ITEMS],
    treeHead: ctx.audit.head() as unknown as EvidencePack['treeHead'],
  };
  return { ...pack, signature: await signRecord(ctx, pack) };
}
