import { formatTime, ROUTES, SubtreeSummary, type ClusterReport, type MarketQuery, type Health } from '@cpnet/protocol';
import { b64url } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { repeat } from '../deps.ts';
import { createIngestQueue, type IngestQueue } from '../gateway/ingest.ts';
import type { AggregationConfig } from './config.ts';
import { ClusterTable, type HealthChange } from './cluster-table.ts';
import { shouldSend } from './damping.ts';
import { healthCounts, worse } from './health.ts';
import { marketView } from './market.ts';
import { summarise } from './summary.ts';
import type { ClusterSpec, ClusterState } from './types.ts';

/**
 * A change of one cluster, in the order the aggregation applied it: the feed of the node's one cluster model
 * (scheduling's `ClusterView`). `cluster` is the table's state after the change. `health` is the one liveness judge's
 * verdict (`healthAt`: a gateway's reported health made worse by silence), for a report as for a sweep.
 */
export type ClusterChange =
  | { readonly kind: 'registered' | 'lifecycle'; readonly cluster: ClusterState }
  | { readonly kind: 'report'; readonly cluster: ClusterState; readonly report: ClusterReport; readonly at: number }
  | {
      readonly kind: 'health';
      readonly cluster: ClusterState;
      readonly from: Health;
      readonly to: Health;
      readonly cause: 'report' | 'silence';
      readonly reason: string;
    };

/** Resource aggregation at one node: clusters in memory, reports in, health, summaries up, the market view. */
export interface Aggregation {
  readonly table: ClusterTable;
  readonly ingest: IngestQueue;
  /** Adds a newly registered cluster (after its registration committed). */
  added(spec: ClusterSpec): void;
  /**
   * Stores children's summaries: each key is recorded with the summary in one transaction, so a redelivered
   * summary is counted as a duplicate; an older summary than the one held is recorded but not applied.
   */
  receiveSummaries(
    items: readonly { key: string; summary: SubtreeSummary }[],
  ): Promise<{ accepted: number; duplicates: number }>;
  /** This node's current subtree summary (own clusters and the latest summary of each child). */
  summary(): SubtreeSummary;
  /** The market view over this node's subtree. */
  market(filter: MarketQuery): ReturnType<typeof marketView>;
  /** A provider's health: the worst of its clusters' (down when it has none reporting). */
  providerHealth(provider: string): Health;
  /** Re-evaluates health now (the timer does this every sweepMs). */
  sweep(): Promise<HealthChange[]>;
  /** Considers sending a summary upward now (the timer does this every summaryMs); true when one was queued. */
  pushSummary(force?: boolean): Promise<boolean>;
  /** Whether a provider's clusters are on offer (false while it is suspended or revoked). */
  providerActive: (provider: string) => boolean;
  /** Calls `listener` with every cluster change, synchronously, in order; returns the unsubscribe function. */
  onChange(listener: (change: ClusterChange) => void): () => void;
  /** Announces a change made outside the aggregation (a lifecycle order on a cluster or its provider). */
  changed(change: ClusterChange): void;
  start(): void;
  stop(): Promise<void>;
}

/** What `createAggregation` uses of the node. */
type CreateAggregationDeps = Pick<NodeContext, 'config' | 'db' | 'deps' | 'events' | 'metrics' | 'outbox' | 'settings'>;

/** Builds the aggregation of a node, loading clusters and children's summaries from the database. */
export async function createAggregation(ctx: CreateAggregationDeps, config: AggregationConfig): Promise<Aggregation> {
  const table = new ClusterTable();
  for (const state of await ctx.db.providers.clusters()) table.put(state);
  const children = new Map<string, SubtreeSummary>();
  for (const row of await ctx.db.providers.childSummaries()) {
    const parsed = SubtreeSummary.safeParse(JSON.parse(row.summary));
    if (parsed.success) children.set(row.node, parsed.data);
  }
  const timeouts = { degradedAfterMs: config.degradedAfterMs, downAfterMs: config.downAfterMs };
  let lastSent: SubtreeSummary | null = ctx.settings.getJson<SubtreeSummary>('summary.lastSent') ?? null;
  let lastSentAt: number | null = null;
  const timers: (() => void)[] = [];
  let sweeping: Promise<HealthChange[]> | null = null;
  const listeners = new Set<(change: ClusterChange) => void>();
  const changed = (change: ClusterChange) => {
    for (const l of listeners) l(change);
  };

  // HealthEventData (health, was, cause, reason), with from/to kept for readers of older logs.
  const announce = (changes: readonly HealthChange[], cause: 'report' | 'silence') => {
    for (const c of changes) {
      const reason =
        cause === 'report'
          ? `the gateway of ${c.provider} reports ${c.cluster} ${c.to}`
          : `${c.cluster} has not reported: ${c.to} by the silence rule`;
      ctx.events.emit('cluster.health', {
        subject: c.cluster,
        severity: c.to === 'down' ? 'warning' : 'info',
        data: { health: c.to, was: c.from, cause, reason, from: c.from, to: c.to, provider: c.provider },
      });
      const cluster = table.get(c.cluster);
      if (cluster) changed({ kind: 'health', cluster, from: c.from, to: c.to, cause, reason });
    }
  };

  const ingest = createIngestQueue({
    write: (batch) =>
      ctx.db.providers.writeReports({
        batch,
        now: ctx.deps.clock.now(),
        health: (e) => e.metrics.health,
        registered: (c) => table.get(c)?.spec.lifecycle === 'registered',
      }),
    onCommitted: (batch) => {
      const now = ctx.deps.clock.now();
      let entries = 0;
      for (const r of batch) {
        const health = table.apply(r.entries, { now, timeouts });
        entries += r.entries.length;
        // The model learns the lifecycle, then the figures, then the judge's verdict on them.
        for (const e of r.entries) {
          const s = table.get(e.cluster);
          if (!s) continue;
          if (s.spec.lifecycle === 'registered') {
            s.spec.lifecycle = 'active';
            changed({ kind: 'lifecycle', cluster: s });
          }
          changed({ kind: 'report', cluster: s, report: e, at: now });
        }
        announce(health, 'report');
      }
      ctx.metrics.reports.inc(entries);
      // One capacity event per gateway per commit (not per cluster or report), so the log and stream stay readable
      // and cheap at tens of thousands of reports per second.
      const byGateway = new Map<string, { reports: number; clusters: number; lastSeq: number }>();
      for (const r of batch) {
        const g = byGateway.get(r.gateway) ?? { reports: 0, clusters: 0, lastSeq: -1 };
        g.reports += 1;
        g.clusters += r.entries.length;
        g.lastSeq = Math.max(g.lastSeq, r.seq);
        byGateway.set(r.gateway, g);
      }
      for (const [gateway, data] of byGateway) ctx.events.emit('capacity.report', { subject: gateway, data });
    },
  });

  const summary = (): SubtreeSummary =>
    summarise({
      node: ctx.config.code,
      at: formatTime(ctx.deps.clock.now()),
      clusters: table.values(),
      children: children.values(),
      offered: (c) => aggregation.providerActive(c.spec.provider),
    });

  async function sweep(): Promise<HealthChange[]> {
    if (sweeping) return sweeping;
    sweeping = (async () => {
      const changes = table.sweep({ now: ctx.deps.clock.now(), timeouts });
      await ctx.db.providers.writeHealth(changes);
      announce(changes, 'silence');
      return changes;
    })().finally(() => {
      sweeping = null;
    });
    return sweeping;
  }

  async function pushSummary(force = false): Promise<boolean> {
    if (!ctx.config.parentUrl) return false;
    const next = summary();
    const now = ctx.deps.clock.now();
    if (
      !force &&
      !shouldSend(
        { last: lastSent, lastSentAt, next, now },
        { threshold: config.dampingThreshold, maxIntervalMs: config.summaryMaxIntervalMs },
      )
    )
      return false;
    const key = `${ctx.config.code}/summary/${next.at}/${b64url(ctx.deps.randomBytes(6))}`;
    await ctx.outbox.enqueue({
      endpoint: ctx.config.parentUrl,
      path: ROUTES.summaries,
      body: { items: [{ key, summary: next }] },
    });
    lastSent = next;
    lastSentAt = now;
    await ctx.settings.setJson('summary.lastSent', next);
    ctx.outbox.kick();
    return true;
  }

  const every = (ms: number, fn: () => Promise<unknown>) => {
    timers.push(repeat(ctx.deps, { ms, what: 'aggregation task' }, fn));
  };

  const aggregation: Aggregation = {
    providerActive: () => true,
    table,
    ingest,
    added(spec) {
      changed({ kind: 'registered', cluster: table.register(spec) });
      ctx.events.emit('cluster.registered', {
        subject: spec.id,
        data: { provider: spec.provider, province: spec.province, resourceClass: spec.resourceClass },
      });
    },
    async receiveSummaries(items) {
      const applied: SubtreeSummary[] = [];
      let duplicates = 0;
      const now = formatTime(ctx.deps.clock.now());
      const created = ctx.deps.clock.now();
      await ctx.db.write(async () => {
        applied.length = 0;
        duplicates = 0;
        for (const { key, summary: s } of items) {
          if (!(await ctx.db.idempotency.claim(key, '{"accepted":true}', created))) {
            duplicates += 1;
            continue;
          }
          const held = applied.findLast((a) => a.node === s.node) ?? children.get(s.node);
          if (held && held.at > s.at) continue;
          await ctx.db.providers.putChildSummary({
            node: s.node,
            at: s.at,
            summary: JSON.stringify(s),
            receivedAt: now,
          });
          applied.push(s);
        }
      });
      for (const s of applied) children.set(s.node, s);
      return { accepted: items.length - duplicates, duplicates };
    },
    summary,
    market(filter) {
      const s = summary();
      return marketView({ node: ctx.config.code, at: s.at, offers: s.offers }, filter);
    },
    providerHealth(provider) {
      const ids = table.ofProvider(provider);
      if (ids.length === 0) return 'down';
      let h: Health = 'healthy';
      let anyUp = false;
      for (const id of ids) {
        const s = table.get(id);
        if (!s) continue;
        if (s.health !== 'down') anyUp = true;
        h = worse(h, s.health === 'down' ? 'degraded' : s.health);
      }
      return anyUp ? h : 'down';
    },
    sweep,
    pushSummary,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed,
    start() {
      every(config.sweepMs, sweep);
      every(config.summaryMs, () => pushSummary());
    },
    async stop() {
      for (const stop of timers.splice(0)) stop();
      await ingest.drain();
    },
  };
  return aggregation;
}

/** Cluster counts per health, for the metrics gauge. */
export function clusterHealthCounts(agg: Aggregation): Record<Health, number> {
  return healthCounts(agg.table.values());
}
