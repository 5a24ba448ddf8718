import { formatTime, type FailoverEpisode, type MonitorEvent, type MonitorHistory } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { eventOf } from '../store/events.ts';

/** Left out of the history: one per gateway per commit, and the snapshot already holds the capacity they report. */
const LEFT_OUT = ['capacity.report'] as const;
/** Health events looked at for open episodes: a down not followed by a recovery. */
const HEALTH_TYPES = { 'node.health': 'node', 'link.health': 'link', 'cluster.health': 'cluster' } as const;
/** How far back (virtual ms) open episodes are looked for: a failure older than a day is not an episode any more. */
const EPISODE_LOOKBACK_MS = 86_400_000;

/** What `historyFor` uses of the node. */
type HistoryDeps = Pick<NodeContext, 'config' | 'db' | 'deps'>;

const healthOf = (data: Record<string, unknown>): string | undefined => {
  const h = data['health'] ?? data['to'];
  return typeof h === 'string' ? h : undefined;
};

/** Open failover episodes among health events, oldest first: the last change of each target was to `down`. */
export function openEpisodes(events: readonly MonitorEvent[]): FailoverEpisode[] {
  const last = new Map<string, FailoverEpisode | null>();
  for (const e of events) {
    const kind = HEALTH_TYPES[e.type as keyof typeof HEALTH_TYPES];
    if (!kind || !e.subject) continue;
    const key = `${kind}:${e.subject}`;
    const h = healthOf(e.data);
    if (h === 'down') {
      if (!last.get(key)) {
        const reason = typeof e.data['reason'] === 'string' ? e.data['reason'] : `${e.subject} down`;
        last.set(key, { kind, target: e.subject, since: e.at, reason });
      }
    } else if (h) last.set(key, null);
  }
  return [...last.values()].filter((x): x is FailoverEpisode => x !== null);
}

/**
 * What a viewer receives after the snapshot: the last `historyMs` of virtual time of events (newest `historyMax`,
 * oldest first) and the failover episodes still open.
 */
export async function historyFor(ctx: HistoryDeps): Promise<Omit<MonitorHistory, 'protocol'>> {
  const now = ctx.deps.clock.now();
  const { historyMs, historyMax } = ctx.config.monitoring;
  const since = formatTime(now - historyMs);
  const rows = await ctx.db.events.recent({ since, limit: historyMax + 1, leaveOut: LEFT_OUT });
  const truncated = rows.length > historyMax;
  const events = rows.slice(truncated ? 1 : 0).map((r) => eventOf(r, ctx.config.code) as MonitorEvent);
  const health: MonitorEvent[] = [];
  for (const type of Object.keys(HEALTH_TYPES)) {
    let after = 0;
    for (;;) {
      const page = await ctx.db.events.find({
        type,
        after,
        since: formatTime(now - EPISODE_LOOKBACK_MS),
        limit: 1000,
      });
      health.push(...page.map((r) => eventOf(r, ctx.config.code) as MonitorEvent));
      if (page.length < 1000) break;
      after = page[page.length - 1]!.seq;
    }
  }
  health.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { since, until: formatTime(now), windowMs: historyMs, truncated, events, episodes: openEpisodes(health) };
}
