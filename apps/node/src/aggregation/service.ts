import type { z } from 'zod';
import {
  formatTime,
  ROUTES,
  schedulingFiguresOf,
  SubtreeSummary,
  type Ceiling,
  type ClusterReport,
  type Health,
  type MarketQuery,
  type MonitorEvent,
  type SchedulingFigures,
} from '@cpnet/protocol';
import { b64url } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { repeat } from '../deps.ts';
import { createIngestQueue, type IngestQueue } from '../gateway/ingest.ts';
import type { AggregationConfig } from './config.ts';
import { ClusterTable, type HealthChange } from './cluster-table.ts';
import { sendsOneSummary } from '../links/one-summary.ts';
import { isMaterialChange, shouldSend } from './damping.ts';
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
  | {
      readonly kind: 'report';
      readonly cluster: ClusterState;
      readonly report: ClusterReport;
      /** Node time the report arrived (before its durable write), so it orders against the node's own changes. */
      readonly at: number;
    }
  | {
      readonly kind: 'health';
      readonly cluster: ClusterState;
      readonly from: Health;
      readonly to: Health;
      readonly cause: 'report' | 'silence';
      readonly reason: string;
    };

/**
 * Scheduling's part of the one summary upward (set by the node's scheduling): the figures this node sends in
 * `ext.scheduling`, where a child's figures go, and the ceiling a child's summary is answered with.
 */
export interface SchedulingLink {
  /** This subtree's scheduling figures (its own view merged with its live children's, and its ceiling). */
  figures(): z.input<typeof SchedulingFigures>;
  /** A child's figures, from its newest summary: also the child's heartbeat. */
  onFigures(child: string, figures: SchedulingFigures): void;
  /** The whole hierarchy's ceiling as this node knows it (null while none). */
  ceiling(): Ceiling | null;
}

/** What a batch of children's summaries did. */
export interface SummariesReceived {
  /** New (not seen before by their keys), applied or not (an older summary than the one held is not). */
  readonly accepted: number;
  readonly duplicates: number;
  /** Written to the database: changed materially since the last one written, or that one is old. */
  readonly stored: number;
  /** Whether any applied summary carried scheduling figures (its sender reads the ceiling in the answer). */
  readonly figures: boolean;
}

/** Resource aggregation at one node: clusters in memory, reports in, health, summaries up, the market view. */
export interface Aggregation {
  readonly table: ClusterTable;
  readonly ingest: IngestQueue;
  /** Adds a newly registered cluster (after its registration committed), streaming its staged event when given. */
  added(spec: ClusterSpec, event?: MonitorEvent): void;
  /**
   * Takes children's summaries, newest first by their `at` (an older summary than the one held is counted but not
   * applied), each deduplicated by its key. An applied summary's scheduling figures go to scheduling (its heartbeat).
   * One is written (its key and the row, in one transaction) only when it changed materially since the child's last
   * written one, or that one is `summaryMaxIntervalMs` old; the others are held in memory only, as a child sends one
   * every scheduling interval.
   */
  receiveSummaries(items: readonly { key: string; summary: SubtreeSummary }[]): Promise<SummariesReceived>;
  /**
   * This node's current subtree summary (own clusters and the latest summary of each child), with the scheduling
   * figures in `ext.scheduling` (`figures`, else the scheduling link's) once scheduling is linked.
   */
  summary(figures?: z.input<typeof SchedulingFigures>): SubtreeSummary;
  /** Scheduling's part of the one summary upward; null until the node's scheduling links itself. */
  scheduling: SchedulingLink | null;
  /** The market view over this node's subtree. */
  market(filter: MarketQuery): ReturnType<typeof marketView>;
  /** A provider's health: the worst of its clusters' (down when it has none reporting). */
  providerHealth(provider: string): Health;
  /** Re-evaluates health now (the timer does this every sweepMs). */
  sweep(): Promise<HealthChange[]>;
  /**
   * Considers sending a summary upward through the outbox now (the timer does this every summaryMs), damped; true when
   * one was queued. Not to a parent that takes the one summary upward: scheduling sends it, directly.
   */
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
  /** Each child's summary last written, and when (node time): what the next one is compared with. */
  const written = new Map<string, { summary: SubtreeSummary; at: number }>();
  /** Keys of summaries taken but not written (their rows would cost a commit a second per child), the newest. */
  const recent = new Set<string>();
  const remember = (key: string) => {
    recent.add(key);
    if (recent.size > RECENT_KEYS) recent.delete(recent.values().next().value as string);
  };
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
      let unchanged = 0;
      for (const r of batch) {
        unchanged += r.unchanged?.size ?? 0;
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
          changed({ kind: 'report', cluster: s, report: e, at: r.receivedAt ?? now });
        }
        announce(health, 'report');
      }
      ctx.metrics.reports.inc(entries);
      if (unchanged > 0) ctx.metrics.reportsUnchanged.inc(unchanged);
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

  const subtree = (): SubtreeSummary =>
    summarise({
      node: ctx.config.code,
      at: formatTime(ctx.deps.clock.now()),
      clusters: table.values(),
      children: children.values(),
      offered: (c) => aggregation.providerActive(c.spec.provider),
    });
  const summary = (figures = aggregation.scheduling?.figures()): SubtreeSummary => {
    const s = subtree();
    return figures ? { ...s, ext: { scheduling: figures } } : s;
  };

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
    if (!ctx.config.parentUrl || sendsOneSummary(ctx)) return false;
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
    added(spec, event) {
      changed({ kind: 'registered', cluster: table.register(spec) });
      if (event) ctx.events.publish(event);
      else
        ctx.events.emit('cluster.registered', {
          subject: spec.id,
          data: { provider: spec.provider, province: spec.province, resourceClass: spec.resourceClass },
        });
    },
    async receiveSummaries(items) {
      const now = ctx.deps.clock.now();
      const writes: { key: string; summary: SubtreeSummary }[] = [];
      let duplicates = 0;
      let figures = false;
      for (const { key, summary: s } of items) {
        if (recent.has(key) || (await ctx.db.idempotency.get(key)) !== undefined) {
          duplicates += 1;
          continue;
        }
        const held = children.get(s.node);
        if (held && held.at > s.at) {
          remember(key);
          continue;
        }
        children.set(s.node, s);
        const f = schedulingFiguresOf(s);
        if (f) {
          figures = true;
          aggregation.scheduling?.onFigures(s.node, f);
        }
        const last = written.get(s.node);
        if (
          last &&
          now - last.at < config.summaryMaxIntervalMs &&
          !isMaterialChange(last.summary, s, config.dampingThreshold)
        ) {
          remember(key);
          continue;
        }
        written.set(s.node, { summary: s, at: now });
        writes.push({ key, summary: s });
      }
      if (writes.length > 0) {
        const receivedAt = formatTime(now);
        try {
          await ctx.db.write(async () => {
            for (const { key, summary: s } of writes) {
              await ctx.db.idempotency.claim(key, '{"accepted":true}', now);
              await ctx.db.providers.putChildSummary({
                node: s.node,
                at: s.at,
                summary: JSON.stringify(s),
                receivedAt,
              });
            }
          });
        } catch (e) {
          // Not written: the next summary of these children is written, whatever it says.
          for (const { summary: s } of writes) written.delete(s.node);
          throw e;
        }
      }
      return { accepted: items.length - duplicates, duplicates, stored: writes.length, figures };
    },
    summary,
    scheduling: null,
    market(filter) {
      const s = subtree();
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

/** How many keys of summaries taken but not written are remembered (for duplicates). */
const RECENT_KEYS = 10_000;

/** Cluster counts per health, for the metrics gauge. */
export function clusterHealthCounts(agg: Aggregation): Record<Health, number> {
  return healthCounts(agg.table.values());
}
